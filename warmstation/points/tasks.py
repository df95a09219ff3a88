from django.tasks import task

from warmstation.points.services import hold_expire_due


@task()
def expire_holds() -> int:
    """Idempotent: releases only holds still active and past their expiry."""
    return hold_expire_due()
