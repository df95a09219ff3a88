"""Helpers for points tests: rules and funded workers, through the real services."""

import itertools
from contextlib import contextmanager

from django.db import connection

from warmstation.points.models import EarningRule
from warmstation.points.services import points_award

_keys = itertools.count(1)


def make_rule(action: str = "volunteer_shift", points: int = 10, *, source: str = "volunteering",
              daily_cap: int | None = None, monthly_cap: int | None = None) -> EarningRule:
    rule, _ = EarningRule.objects.update_or_create(action=action, defaults={
        "source": source, "name_zh": f"规则{action}", "points": points,
        "daily_cap": daily_cap, "monthly_cap": monthly_cap})
    return rule


def fund(user, points: int) -> dict:
    """Give `user` exactly `points` through an award rule of that size."""
    make_rule(f"grant_{points}", points, source="other")
    return points_award(user=user, action=f"grant_{points}", idempotency_key=f"fund-{next(_keys)}")


@contextmanager
def guards_off():
    """What an operator with the database owner's rights could do: switch the ledger's
    triggers off (inside the test's transaction, so they come back with its rollback on
    PostgreSQL; on SQLite they are recreated here)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")  # superuser
            saved = []
        else:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                           "AND tbl_name LIKE 'points_%'")
            saved = cursor.fetchall()
            for name, _sql in saved:
                cursor.execute(f'DROP TRIGGER "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL session_replication_role = origin")
            for _name, sql in saved:
                cursor.execute(sql)
