from django.tasks import task

from warmstation.dashboard.rollups import figures_rebuild, figures_refresh


@task()
def refresh_figures(full: bool = False) -> int:
    """Recompute the dashboard's roll-ups: the open weeks and months, or everything. Idempotent
    (it replaces the rows of the periods it covers with what the sources say now)."""
    return figures_rebuild() if full else figures_refresh()
