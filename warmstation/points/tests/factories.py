"""Helpers for points tests: rules and funded workers, through the real services."""

import itertools

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
