"""The three rates (响应率, 解决率, 满意率), the on-time rate and the ranking, per department and
street, per month — read from MonthlyStat, the roll-up a task keeps current after every change.
Definitions: docs/appeals-rates.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet, Sum

from warmstation.accounts.models import Role
from warmstation.appeals.models import Appeal, AppealSettings, MonthlyStat
from warmstation.appeals.permissions import DISPATCHERS, department_ids
from warmstation.areas.scoping import scope_paths, scope_q

COUNTERS = ["cases", "dispatched", "responded_on_time", "answered", "answered_on_time", "rated",
            "resolved", "satisfied", "fairly", "dissatisfied"]
# Composite for the ranking (our reading of 12345's 三率 weighting; docs/appeals-rates.md).
WEIGHTS = {"response": 0.10, "resolution": 0.45, "satisfaction": 0.45}


def _aggregates() -> dict:
    S = Appeal.Satisfaction
    return {
        "cases": Count("id"),
        "dispatched": Count("id", filter=Q(dispatched_at__isnull=False)),
        "responded_on_time": Count("id", filter=Q(responded_at__isnull=False,
                                                  responded_at__lte=F("respond_due"))),
        "answered": Count("id", filter=Q(answered_at__isnull=False)),
        "answered_on_time": Count("id", filter=Q(answered_at__isnull=False,
                                                 answered_at__lte=F("answer_due"))),
        "rated": Count("id", filter=Q(resolved__isnull=False)),
        "resolved": Count("id", filter=Q(resolved=True)),
        "satisfied": Count("id", filter=Q(satisfaction=S.SATISFIED)),
        "fairly": Count("id", filter=Q(satisfaction=S.FAIRLY)),
        "dissatisfied": Count("id", filter=Q(satisfaction=S.DISSATISFIED)),
    }


def _counted() -> QuerySet[Appeal]:
    # A merged duplicate is counted once, in the case it was merged into.
    return Appeal.objects.exclude(status=Appeal.Status.MERGED)


def rollup_refresh(*, month: date, department_id: int | None, street_id: int) -> int:
    """Recompute one bucket from the cases (idempotent)."""
    # department_id=None is `IS NULL` (a case not yet dispatched); the stubs want an int.
    qs = _counted().filter(month=month, department_id=department_id,  # type: ignore[misc]
                           street_id=street_id)
    values = qs.aggregate(**_aggregates())
    with transaction.atomic():
        key: dict[str, Any] = {"month": month, "department_id": department_id, "street_id": street_id}
        if not values["cases"]:
            MonthlyStat.objects.filter(**key).delete()
            return 0
        MonthlyStat.objects.update_or_create(**key, defaults=values)
    return values["cases"]


def rollup_rebuild() -> int:
    """Every bucket from scratch, in one GROUP BY (after an import, or as a safety net)."""
    rows = _counted().values("month", "department_id", "street_id").annotate(**_aggregates())
    with transaction.atomic():
        MonthlyStat.objects.all().delete()
        MonthlyStat.objects.bulk_create([MonthlyStat(**r) for r in rows], batch_size=2000)
    return len(rows)


def rates_of(counts: Mapping[str, Any], fairly_weight: float = 1.0) -> dict[str, Any]:
    def ratio(n: float, d: float) -> float | None:
        return round(n / d, 4) if d else None

    rated = counts.get("rated") or 0
    out: dict[str, float | None] = {
        "response": ratio(counts.get("responded_on_time") or 0, counts.get("dispatched") or 0),
        "resolution": ratio(counts.get("resolved") or 0, rated),
        "satisfaction": ratio((counts.get("satisfied") or 0)
                              + fairly_weight * (counts.get("fairly") or 0), rated),
        "on_time": ratio(counts.get("answered_on_time") or 0, counts.get("answered") or 0),
    }
    parts = [(WEIGHTS[k], v) for k in WEIGHTS if (v := out[k]) is not None]
    out["score"] = round(sum(w * v for w, v in parts) / sum(w for w, _ in parts) * 100, 2) \
        if parts else None
    return {**{k: counts.get(k) or 0 for k in COUNTERS}, **out}


def _stat_scope(user) -> tuple[Q, bool]:
    """Which roll-up rows the user may read, and whether the roll-up can answer at all (it is
    kept per street, so an admin of a single community gets figures computed from the cases)."""
    if user.has_role(*DISPATCHERS):
        paths = scope_paths(user, DISPATCHERS)
        if all(p.count("/") <= 3 for p in paths):  # district or street level
            return scope_q(user, field="street", roles=DISPATCHERS), True
        return scope_q(user, field="area", roles=DISPATCHERS), False
    if user.has_role(Role.DEPARTMENT):
        return Q(department_id__in=department_ids(user)), True
    return Q(pk__in=[]), True


def board(*, user, month: date, trend_months: int = 12) -> dict:
    """The district board for `month`: totals, departments ranked, streets ranked, and the trend
    of the last `trend_months` months."""
    weight = float(AppealSettings.objects.filter(pk=1).values_list(
        "fairly_satisfied_weight", flat=True).first() or 1)
    q, from_rollup = _stat_scope(user)
    first = _months_back(month, trend_months - 1)
    sums = {k: Sum(k) for k in COUNTERS}
    base: QuerySet[Any]
    if from_rollup:
        base = MonthlyStat.objects.filter(q, month__gte=first, month__lte=month)
    else:
        base = _counted().filter(q, month__gte=first, month__lte=month)
        sums = _aggregates()
    trend = {r["month"]: r for r in base.values("month").annotate(**sums).order_by()}
    cur = base.filter(month=month)
    # Mappings: the stubs' row type does not know the keys that annotate(**sums) adds.
    by_dept: list[Mapping[str, Any]] = list(
        cur.values("department_id", "department__name_zh").annotate(**sums).order_by())
    by_street: list[Mapping[str, Any]] = list(cur.values("street_id", "street__name_zh").annotate(**sums).order_by())

    def ranked(rows: Iterable[Mapping[str, Any]], name_key: str) -> list[dict[str, Any]]:
        out = [{"name": r[name_key] or "（未派单）", "id": r[name_key.split("__")[0] + "_id"],
                **rates_of(r, weight)} for r in rows]
        out.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0), -r["cases"]))
        for i, r in enumerate(out, 1):
            r["rank"] = i if r["score"] is not None else None
        return out

    totals: dict[str, int] = defaultdict(int)
    for r in by_dept:
        for k in COUNTERS:
            totals[k] += r[k] or 0
    months = [_months_back(month, n) for n in range(trend_months - 1, -1, -1)]
    return {
        "month": month,
        "totals": rates_of(totals, weight),
        "departments": ranked([r for r in by_dept if r["department_id"]], "department__name_zh"),
        "streets": ranked(by_street, "street__name_zh"),
        "trend": [{"month": m, **rates_of(trend.get(m, {}), weight)} for m in months],
    }


def _months_back(month: date, n: int) -> date:
    y, m = divmod(month.year * 12 + month.month - 1 - n, 12)
    return date(y, m + 1, 1)
