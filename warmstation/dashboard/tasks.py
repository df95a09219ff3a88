from django.tasks import task

from warmstation.core.liveness import BULK_QUEUE
from warmstation.dashboard.importing_services import import_batch_check, import_batch_run
from warmstation.dashboard.rollups import figures_rebuild, figures_refresh


@task(queue_name=BULK_QUEUE)
def refresh_figures(full: bool = False) -> int:
    """Recompute the dashboard's roll-ups: the open weeks and months, or everything. Idempotent
    (it replaces the rows of the periods it covers with what the sources say now)."""
    return figures_rebuild() if full else figures_refresh()


@task(queue_name=BULK_QUEUE)
def check_import_batch(batch_id: int) -> str:
    """Judge every row of an uploaded spreadsheet (nothing written). Idempotent."""
    return import_batch_check(batch_id=batch_id)


@task(queue_name=BULK_QUEUE)
def run_import_batch(batch_id: int) -> str:
    """Write an import's rows chunk by chunk from its cursor (resumable, idempotent); a long
    import goes on in a new task after RUN_BUDGET_SECONDS."""
    return import_batch_run(batch_id=batch_id)
