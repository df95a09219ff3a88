"""The dashboard's roll-ups: every figure per area, week and month, computed from the source
tables by GROUP BY (never row by row) and written to Figure with the area's ancestors included,
so a reader asks only for the rows of the areas it may see.

Each source below answers (area_id, period, dim, value, n) for one grain over the rows since a
date. `figures_refresh` recomputes the open periods (the current and previous weeks and month)
every few minutes; `figures_rebuild` recomputes everything (nightly, and after an import). Both
are idempotent: they read the sources as they are and replace the rows of the periods they
cover. ADR: docs/decisions/0014-dashboard-rollups.md.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from warmstation.accounts.models import WorkerProfile
from warmstation.areas.models import Area
from warmstation.core.time import LOCAL
from warmstation.dashboard.models import Figure, FigureRefresh
from warmstation.housing.models import Booking, FlatNight
from warmstation.points.models import LedgerTransaction
from warmstation.reports.models import Problem
from warmstation.stations.models import ServiceRecord
from warmstation.union.models import Member
from warmstation.volunteering.models import Errand, Signup

# (area_id, period, dim, value, n)
Row = tuple[int | None, date, str, int, int]
GRAINS = (Figure.Grain.WEEK, Figure.Grain.MONTH)


def _trunc(grain: str, field: str, *, is_date: bool = False) -> Any:
    fn = TruncWeek if grain == Figure.Grain.WEEK else TruncMonth
    if is_date:
        return fn(field)
    return fn(field, tzinfo=LOCAL)


def _since_q(field: str, since: date | None, *, is_date: bool = False) -> Q:
    if since is None:
        return Q()
    if is_date:
        return Q(**{f"{field}__gte": since})
    start = datetime.combine(since, datetime.min.time(), tzinfo=LOCAL)
    return Q(**{f"{field}__gte": start})


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _grouped(
    qs: QuerySet[Any],
    *,
    grain: str,
    field: str,
    area: str,
    since: date | None,
    value: Any = None,
    dims: tuple[str, ...] = (),
    is_date: bool = False,
) -> Iterator[Row]:
    """One GROUP BY over `qs`: rows (area, period, dim, value, n) with n = the rows counted."""
    qs = qs.filter(_since_q(field, since, is_date=is_date)).order_by()
    qs = qs.annotate(_p=_trunc(grain, field, is_date=is_date)).values(area, "_p", *dims)
    agg: dict[str, Any] = {"_n": Count("pk")}
    if value is not None:
        agg["_v"] = value
    for r in qs.annotate(**agg):
        n = r["_n"]
        v = r.get("_v", n) or 0
        if isinstance(v, timedelta):
            v = int(v.total_seconds())
        dim_values = [f"{d.split('__')[-1]}:{r[d]}" for d in dims if r[d] not in (None, "")]
        yield r[area], _day(r["_p"]), "", int(v), n
        for d in dim_values:
            yield r[area], _day(r["_p"]), d, int(v), n


def _home_area() -> Subquery:
    """A worker's home area: the first of the areas they work in (a worker in two communities is
    counted once, in the lower id), so area totals add up to the district's."""
    through = WorkerProfile.areas.through
    return Subquery(
        through.objects.filter(workerprofile_id=OuterRef("pk"))
        .order_by("area_id")
        .values("area_id")[:1]
    )


def _user_home_area() -> Subquery:
    through = WorkerProfile.areas.through
    return Subquery(
        through.objects.filter(workerprofile__user_id=OuterRef("user_id"))
        .order_by("area_id")
        .values("area_id")[:1]
    )


def src_workers(grain: str, since: date | None) -> Iterable[Row]:
    """Registrations (by the day the account was made); by brand and by job type per month
    (the breakdowns are of the stock, which the months give)."""
    qs = WorkerProfile.objects.annotate(
        home=_home_area(), brand_code=F("brand__code"), job=F("job_type")
    )
    dims = ("brand_code", "job") if grain == Figure.Grain.MONTH else ()
    return _grouped(qs, grain=grain, field="user__date_joined", area="home", since=since, dims=dims)


def src_members(grain: str, since: date | None) -> Iterable[Row]:
    return _grouped(
        Member.objects.all(), grain=grain, field="enrolled_at", area="area_id", since=since
    )


def src_visits(grain: str, since: date | None) -> Iterable[Row]:
    """Station use (服务人次): check-ins and services given, by kind."""
    qs = ServiceRecord.objects.annotate(station_area=F("station__area_id"))
    return _grouped(qs, grain=grain, field="at", area="station_area", since=since, dims=("kind",))


def src_reports(grain: str, since: date | None) -> Iterable[Row]:
    qs = Problem.objects.exclude(status=Problem.Status.MERGED)
    return _grouped(qs, grain=grain, field="created_at", area="area_id", since=since)


def src_resolved(grain: str, since: date | None) -> Iterable[Row]:
    qs = Problem.objects.exclude(status=Problem.Status.MERGED).filter(resolved_at__isnull=False)
    return _grouped(qs, grain=grain, field="resolved_at", area="area_id", since=since)


def src_resolve_seconds(grain: str, since: date | None) -> Iterable[Row]:
    """Seconds from report to resolution, summed (the mean is value / n)."""
    qs = Problem.objects.exclude(status=Problem.Status.MERGED).filter(resolved_at__isnull=False)
    took = Sum(ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField()))
    return _grouped(qs, grain=grain, field="resolved_at", area="area_id", since=since, value=took)


def src_points_in(grain: str, since: date | None) -> Iterable[Row]:
    """Points issued to workers (their side of earn transactions, and reversals in their favour)."""
    qs = LedgerTransaction.objects.filter(user__isnull=False, points__gt=0).annotate(
        home=_user_home_area()
    )
    return _grouped(
        qs, grain=grain, field="created_at", area="home", since=since, value=Sum("points")
    )


def src_points_out(grain: str, since: date | None) -> Iterable[Row]:
    """Points spent by workers (at merchants, or taken back)."""
    qs = LedgerTransaction.objects.filter(user__isnull=False, points__lt=0).annotate(
        home=_user_home_area()
    )
    for area, period, dim, value, n in _grouped(
        qs, grain=grain, field="created_at", area="home", since=since, value=Sum("points")
    ):
        yield area, period, dim, -value, n


def src_volunteer_minutes(grain: str, since: date | None) -> Iterable[Row]:
    """Confirmed volunteer service: shifts (by check-out) and errands (by completion)."""
    shifts = Signup.objects.filter(
        confirmed_at__isnull=False, minutes__gt=0, checked_out_at__isnull=False
    ).annotate(task_area=F("shift__task__area_id"))
    yield from _grouped(
        shifts,
        grain=grain,
        field="checked_out_at",
        area="task_area",
        since=since,
        value=Sum("minutes"),
    )
    errands = Errand.objects.filter(
        status=Errand.Status.CONFIRMED, minutes__gt=0, done_at__isnull=False
    )
    yield from _grouped(
        errands, grain=grain, field="done_at", area="area_id", since=since, value=Sum("minutes")
    )


def src_bookings(grain: str, since: date | None) -> Iterable[Row]:
    qs = Booking.objects.exclude(status=Booking.Status.CANCELLED).annotate(
        flat_area=F("flat__area_id")
    )
    return _grouped(qs, grain=grain, field="check_in", area="flat_area", since=since, is_date=True)


def src_nights(grain: str, since: date | None) -> Iterable[Row]:
    """Nights stayed in the family short-stay flats (one row per flat and night held)."""
    qs = FlatNight.objects.annotate(flat_area=F("flat__area_id"))
    return _grouped(qs, grain=grain, field="night", area="flat_area", since=since, is_date=True)


SOURCES: dict[str, Callable[[str, date | None], Iterable[Row]]] = {
    "workers": src_workers,
    "members": src_members,
    "visits": src_visits,
    "reports": src_reports,
    "resolved": src_resolved,
    "resolve_s": src_resolve_seconds,
    "points_in": src_points_in,
    "points_out": src_points_out,
    "vol_minutes": src_volunteer_minutes,
    "bookings": src_bookings,
    "nights": src_nights,
}


def _ancestors() -> tuple[dict[int, list[int]], int | None]:
    """Each area's id → the ids of it and every area above it; and the root (where a figure
    with no area — a worker who named none — is counted)."""
    rows = list(Area.objects.values_list("pk", "path"))
    by_path = {path: pk for pk, path in rows}
    out: dict[int, list[int]] = {}
    for pk, path in rows:
        parts = [p for p in path.split("/") if p]
        out[pk] = [
            by_path[p]
            for p in ("/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts)))
            if p in by_path
        ]
    root = (
        Area.objects.filter(parent__isnull=True).order_by("pk").values_list("pk", flat=True).first()
    )
    return out, root


def _compute(since: dict[str, date | None]) -> list[Figure]:
    ancestors, root = _ancestors()
    acc: dict[tuple[int, str, date, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for grain in GRAINS:
        for metric, source in SOURCES.items():
            for area, period, dim, value, n in source(grain, since[grain]):
                chain = ancestors.get(area, []) if area is not None else []
                if not chain and root is not None:
                    chain = [root]
                for a in chain:
                    cell = acc[(a, grain, period, metric, dim)]
                    cell[0] += value
                    cell[1] += n
    return [
        Figure(area_id=a, grain=g, period=p, metric=m, dim=d, value=v, n=n)
        for (a, g, p, m, d), (v, n) in acc.items()
    ]


def window_start(grain: str, today: date) -> date:
    """The first period a refresh recomputes: the previous week (late check-outs, a report
    resolved just after midnight) or the previous month in its first week."""
    if grain == Figure.Grain.WEEK:
        return today - timedelta(days=today.weekday() + 7)
    first = today.replace(day=1)
    if today.day <= 7:
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def _write(
    figures: list[Figure], since: dict[str, date | None], started: float, *, full: bool
) -> int:
    with transaction.atomic():
        for grain, start in since.items():
            old = Figure.objects.filter(grain=grain)
            if start is not None and not full:
                old = old.filter(period__gte=start)
            old._raw_delete(old.db)  # no signals, no cascades: a plain DELETE … WHERE
        Figure.objects.bulk_create(figures, batch_size=5000)
        now = timezone.now()
        state, _ = FigureRefresh.objects.select_for_update().get_or_create(pk=1)
        state.refreshed_at = now
        if full:
            state.rebuilt_at = now
        state.rows = Figure.objects.count() if full else state.rows
        state.seconds = round(time.monotonic() - started, 3)
        state.save()
    return len(figures)


# Weeks are kept for the last year only (the charts show 26); months since the beginning (the
# stocks — workers, members — are sums over every month).
WEEKS_KEPT = 53


def figures_rebuild(*, today: date | None = None) -> int:
    """Every figure from scratch."""
    started = time.monotonic()
    today = today or timezone.localdate()
    since: dict[str, date | None] = {
        Figure.Grain.WEEK: today - timedelta(days=today.weekday(), weeks=WEEKS_KEPT),
        Figure.Grain.MONTH: None,
    }
    return _write(_compute(since), since, started, full=True)


def figures_refresh(*, today: date | None = None) -> int:
    """The open periods only (see window_start)."""
    started = time.monotonic()
    today = today or timezone.localdate()
    since: dict[str, date | None] = {g: window_start(g, today) for g in GRAINS}
    return _write(_compute(since), since, started, full=False)
