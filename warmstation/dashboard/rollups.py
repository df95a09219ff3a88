"""The dashboard's roll-ups: every figure per area, week and month, computed from the source
tables by GROUP BY (never row by row) and written to Figure with the area's ancestors included,
so a reader asks only for the rows of the areas it may see.

Each source below answers (area_id, period, dim, value, n) for one grain over the rows since a
date; the database then adds each row to its area's ancestors (one grouped INSERT … SELECT over
the area paths, `_roll_up`). `figures_refresh` recomputes the open periods (the current and previous weeks and month)
every few minutes; `figures_rebuild` recomputes everything (nightly, and after an import). Both
are idempotent: they read the sources as they are and replace the rows of the periods they
cover. ADR: docs/decisions/0011-dashboard-rollups-and-charts.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connections, router, transaction
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


def _root() -> int | None:
    """The root area: where a figure with no area (a worker who named none) is counted."""
    return (
        Area.objects.filter(parent__isnull=True).order_by("pk").values_list("pk", flat=True).first()
    )


def leaf_rows(since: dict[str, date | None]) -> Iterator[tuple[int, str, date, str, str, int, int]]:
    """Every source's rows for both grains, each at its own area (the root for none):
    (area_id, grain, period, metric, dim, value, n). Not yet summed up to the parents."""
    root = _root()
    for grain in GRAINS:
        for metric, source in SOURCES.items():
            for area, period, dim, value, n in source(grain, since[grain]):
                if area is None:
                    if root is None:
                        continue
                    area = root
                yield area, grain, period, metric, dim, value, n


LEAF_TABLE = "dashboard_figure_leaf"
LEAF_BATCH = 5000


def _roll_up(db: str, rows: Iterable[tuple[int, str, date, str, str, int, int]]) -> int:
    """Write Figure rows: each leaf row added to its own area and every area above it, summed in
    the database by ONE grouped INSERT … SELECT that joins each row's area to its ancestors by
    path prefix (an area's path is the chain of codes from the root, "/110111/GC/YLJ/", so the
    areas above it are exactly those whose path begins it). The leaf rows go through a temporary
    table, created and dropped inside the caller's transaction (so a transaction-mode pooler
    never sees it outlive the transaction). Same SQL on SQLite and PostgreSQL: substr, length
    and || exist in both, and a prefix test by substr is not fooled by LIKE's _ and %."""
    connection = connections[db]
    ops = connection.ops
    q = ops.quote_name
    leaf, figure, area = q(LEAF_TABLE), q(Figure._meta.db_table), q(Area._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {leaf} (area_id bigint NOT NULL, grain varchar(1) NOT NULL, "
            "period date NOT NULL, metric varchar(24) NOT NULL, dim varchar(48) NOT NULL, "
            "value bigint NOT NULL, n bigint NOT NULL)"
        )
        # Only quoted table names from the models go into the SQL; every value is a parameter.
        insert = f"INSERT INTO {leaf} VALUES (%s, %s, %s, %s, %s, %s, %s)"  # noqa: S608
        batch: list[tuple[Any, ...]] = []
        for a, g, period, m, d, v, n in rows:
            batch.append((a, g, ops.adapt_datefield_value(period), m, d, v, n))
            if len(batch) >= LEAF_BATCH:
                cursor.executemany(insert, batch)
                batch = []
        if batch:
            cursor.executemany(insert, batch)
        cursor.execute(
            f"INSERT INTO {figure} (area_id, grain, period, metric, dim, value, n) "  # noqa: S608
            f"SELECT anc.id, l.grain, l.period, l.metric, l.dim, SUM(l.value), SUM(l.n) "
            f"FROM {leaf} l JOIN {area} own ON own.id = l.area_id "
            f"JOIN {area} anc ON substr(own.path, 1, length(anc.path)) = anc.path "
            "GROUP BY anc.id, l.grain, l.period, l.metric, l.dim"
        )
        written = cursor.rowcount
        cursor.execute(f"DROP TABLE {leaf}")
    return written


def window_start(grain: str, today: date) -> date:
    """The first period a refresh recomputes: the previous week (late check-outs, a report
    resolved just after midnight) or the previous month in its first week."""
    if grain == Figure.Grain.WEEK:
        return today - timedelta(days=today.weekday() + 7)
    first = today.replace(day=1)
    if today.day <= 7:
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def _write(since: dict[str, date | None], started: float, *, full: bool) -> int:
    db = router.db_for_write(Figure)
    with transaction.atomic(using=db):
        for grain, start in since.items():
            old = Figure.objects.using(db).filter(grain=grain)
            if start is not None and not full:
                old = old.filter(period__gte=start)
            old._raw_delete(db)  # no signals, no cascades: a plain DELETE … WHERE
        written = _roll_up(db, leaf_rows(since))
        now = timezone.now()
        state, _ = FigureRefresh.objects.using(db).select_for_update().get_or_create(pk=1)
        state.refreshed_at = now
        if full:
            state.rebuilt_at = now
        state.rows = Figure.objects.using(db).count() if full else state.rows
        state.seconds = round(time.monotonic() - started, 3)
        state.save()
    return written


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
    return _write(since, started, full=True)


def figures_refresh(*, today: date | None = None) -> int:
    """The open periods only (see window_start)."""
    started = time.monotonic()
    today = today or timezone.localdate()
    since: dict[str, date | None] = {g: window_start(g, today) for g in GRAINS}
    return _write(since, started, full=False)
