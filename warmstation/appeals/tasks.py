from datetime import date

from django.tasks import task

from warmstation.appeals.rates import rollup_refresh


@task()
def refresh_rollup(month: str, department_id: int | None, street_id: int) -> int:
    """Recompute one (month, department, street) bucket from the cases. Idempotent: it reads
    the cases as they are when it runs, so a late or repeated run writes the same numbers."""
    return rollup_refresh(month=date.fromisoformat(month), department_id=department_id,
                          street_id=street_id)
