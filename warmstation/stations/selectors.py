"""Reads that matter: the nearby search, a station's schedule and page, the cabinet's lists and
the ledger's figures."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from warmstation.core import geo
from warmstation.core.schedule import Schedule, Span
from warmstation.stations.models import (
    Amenity,
    HoursException,
    Loan,
    OpeningHours,
    ServiceRecord,
    Station,
    Stock,
)
from warmstation.stations.permissions import station_managed_list

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from warmstation.accounts.models import User

# A row of the nearby search's raw SQL.
Row = tuple[Any, ...]


def _exception_span(e: HoursException) -> Span | None:
    """The day's one span, or None for closed (the service refuses an open day without times;
    the database does not, so a row without them counts as closed rather than failing)."""
    if e.closed or e.opens is None or e.closes is None:
        return None
    return Span(e.opens, e.closes)


def schedule_of(station: Station, hours: Iterable[OpeningHours] | None = None,
                exceptions: Iterable[HoursException] | None = None) -> Schedule:
    """The station's schedule from prefetched (or queried) hours and exceptions."""
    hours = station.hours.all() if hours is None else hours
    exceptions = station.exceptions.all() if exceptions is None else exceptions
    weekly: dict[int, list[Span]] = defaultdict(list)
    for h in hours:
        weekly[h.weekday].append(Span(h.opens, h.closes))
    return Schedule(
        weekly=dict(weekly),
        exceptions={e.date: _exception_span(e) for e in exceptions},
        is_24h=station.is_24h, closed=station.temporarily_closed,
    )


@dataclass(frozen=True)
class AmenityRef:
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class NearbyStation:
    """What a search result needs of a station, read as plain rows (no model instances: the
    benchmark showed building them, not the index, was the cost at 200,000 stations)."""

    pk: int
    name: str
    kind: str
    address: str
    lat: float
    lng: float
    phone: str
    is_24h: bool
    temporarily_closed: bool
    amenity_list: tuple[AmenityRef, ...]

    def get_kind_display(self) -> str:
        return str(Station.Kind(self.kind).label)


def _time(value: time | str) -> time:
    return value if isinstance(value, time) else time.fromisoformat(value)  # SQLite gives str


def _date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


# The nearby search's SQL interpolates only our own table names and "cell_s"/"cell_l"; every
# value goes in as a parameter (hence the S608 exemptions below).
def _in(values: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(values))


def _rows(sql: str, params: Iterable[Any]) -> list[Row]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return list(cursor.fetchall())


T_STATION = Station._meta.db_table
T_HOURS = OpeningHours._meta.db_table
T_EXCEPTION = HoursException._meta.db_table
T_AMENITY = Amenity._meta.db_table
T_STATION_AMENITY = Station.amenities.through._meta.db_table


def _schedules(rows: list[Row], at: datetime) -> dict[int, Schedule]:
    """Schedules good for `at` only: the weekly spans of today's and yesterday's weekdays (an
    overnight span from yesterday may still run) and those two dates' exceptions."""
    local = timezone.localtime(at)
    today, yesterday = local.date(), local.date() - timedelta(days=1)
    ids = [r[0] for r in rows]
    schedules = {r[0]: Schedule(is_24h=bool(r[3]), closed=bool(r[4])) for r in rows}
    if not ids:
        return schedules
    for pk, weekday, opens, closes in _rows(
            f"SELECT station_id, weekday, opens, closes FROM {T_HOURS} "  # noqa: S608
            f"WHERE station_id IN ({_in(ids)}) AND weekday IN (%s, %s)",
            [*ids, today.weekday(), yesterday.weekday()]):
        schedules[pk].weekly.setdefault(weekday, []).append(Span(_time(opens), _time(closes)))
    for pk, day, closed, opens, closes in _rows(
            f"SELECT station_id, date, closed, opens, closes FROM {T_EXCEPTION} "  # noqa: S608
            f"WHERE station_id IN ({_in(ids)}) AND date IN (%s, %s)", [*ids, today, yesterday]):
        schedules[pk].exceptions[_date(day)] = None if closed else \
            Span(_time(opens), _time(closes))
    return schedules


def station_nearby(*, lat: float, lng: float, radius_m: float, limit: int,
                   open_now: bool | None = None, amenities: list[str] | None = None,
                   at: datetime | None = None) -> list[NearbyResult]:
    """Active stations within radius_m of (lat, lng) WGS-84, nearest first, each as
    {"station": NearbyStation, "distance_m", "open_now"}.

    The candidates come from the grid-cell index (`cell IN (...)`: never a scan of every
    station); distances are exact. Opening hours are read only for the candidates that can make
    the list (all of them only when filtering on open_now), and display fields only for the
    final `limit`. Five small SQL statements, no model instances (see bench/RESULTS.md)."""
    at = at or timezone.now()
    field, cells = geo.covering_cells(lat, lng, radius_m)
    min_lat, min_lng, max_lat, max_lng = geo.bbox(lat, lng, radius_m)
    # Display fields come with the candidates (a few dozen short rows): one round trip fewer.
    sql = (f"SELECT id, lat, lng, is_24h, temporarily_closed, name, kind, address, phone "  # noqa: S608
           f"FROM {T_STATION} "
           f"WHERE {field} IN ({_in(cells)}) AND is_active = %s "
           f"AND lat BETWEEN %s AND %s AND lng BETWEEN %s AND %s")
    params: list[Any] = [*cells, True, min_lat, max_lat, min_lng, max_lng]
    for code in amenities or []:
        sql += (f" AND EXISTS (SELECT 1 FROM {T_STATION_AMENITY} sa JOIN {T_AMENITY} a "  # noqa: S608
                f"ON a.id = sa.amenity_id WHERE sa.station_id = {T_STATION}.id AND a.code = %s)")
        params.append(code)
    # By id, so stations at the same distance (one building, two stations) come in a fixed
    # order: the sort by distance below is stable.
    rows = _rows(sql + " ORDER BY id", params)
    ranked = geo.nearest(((row, row[1], row[2]) for row in rows), lat, lng, radius_m)
    if open_now is None:
        ranked = ranked[:limit]
    schedules = _schedules([row for _d, row in ranked], at)
    chosen: list[tuple[float, int, bool]] = []
    for distance, row in ranked:
        is_open = schedules[row[0]].is_open(at)
        if open_now is None or is_open == open_now:
            chosen.append((distance, row[0], is_open))
            if len(chosen) >= limit:
                break
    if not chosen:
        return []
    by_pk = {row[0]: row for _d, row in ranked}
    ids = [pk for _d, pk, _o in chosen]
    found: dict[int, list[AmenityRef]] = {pk: [] for pk in ids}
    for pk, code, name_zh, name_en in _rows(
            f"SELECT sa.station_id, a.code, a.name_zh, a.name_en FROM {T_STATION_AMENITY} sa "  # noqa: S608
            f"JOIN {T_AMENITY} a ON a.id = sa.amenity_id WHERE sa.station_id IN ({_in(ids)}) "
            f'ORDER BY a."order", a.code', ids):
        found[pk].append(AmenityRef(code, name_zh, name_en))
    out: list[NearbyResult] = []
    for d, pk, is_open in chosen:
        _pk, slat, slng, h24, closed, name, kind, address, phone = by_pk[pk]
        station = NearbyStation(pk, name, kind, address, slat, slng, phone, bool(h24),
                                bool(closed), tuple(found[pk]))
        out.append({"station": station, "distance_m": d, "open_now": is_open})
    return out


class NearbyResult(TypedDict):
    station: NearbyStation
    distance_m: float
    open_now: bool


def with_card(stations: QuerySet[Station]) -> QuerySet[Station]:
    """`stations` with everything a station's card shows, fetched once for all of them (one
    query per relation, whatever the number of stations)."""
    return stations.select_related("area", "steward").prefetch_related(
        "hours", "exceptions", "amenities", "resources", "services", "contacts", "photos",
        Prefetch("stock", queryset=Stock.objects.select_related("item")),
    )


def station_page(station_id: int) -> Station:
    return with_card(Station.objects.all()).get(pk=station_id)


def station_card_list(user: User | AnonymousUser | None) -> QuerySet[Station]:
    """The stations `user` keeps or oversees, with their cards, by area then name."""
    return with_card(station_managed_list(user)).order_by("area__path", "name", "pk")


def overdue_loans(*, stations: QuerySet[Station] | list[Station],
                  now: datetime | None = None) -> QuerySet[Loan]:
    now = now or timezone.now()
    return Loan.objects.filter(station__in=stations, returned_at=None, due_at__lt=now) \
        .select_related("station", "item", "worker").order_by("due_at")


def open_loans(*, station: Station) -> QuerySet[Loan]:
    return Loan.objects.filter(station=station, returned_at=None) \
        .select_related("item", "worker").order_by("due_at", "pk")


def low_stock(*, stations: QuerySet[Station] | list[Station]) -> QuerySet[Stock]:
    from django.db.models import F

    return Stock.objects.filter(station__in=stations, quantity__lte=F("low_threshold")) \
        .select_related("station", "item").order_by("quantity")


def served_by_month(*, stations: QuerySet[Station] | list[Station],
                    group: str = "station") -> list[dict[str, Any]]:
    """Per station (or area) and month: `records` (services given + check-ins), `workers`
    (distinct signed-in workers) and `people` — each signed-in worker once, plus every record
    of someone without an account (a steward may serve a worker who never registered)."""
    keys = ("station__area_id", "station__area__name_zh") if group == "area" else \
        ("station_id", "station__name")
    rows = (
        ServiceRecord.objects.filter(station__in=stations)
        .annotate(month=TruncMonth("at", tzinfo=timezone.get_current_timezone()))
        .values(*keys, "month")
        .annotate(records=Count("id"), workers=Count("worker", distinct=True),
                  anonymous=Count("id", filter=Q(worker=None)))
        .order_by("-month", keys[1], keys[0])
    )
    return [{**row, "people": row["workers"] + row["anonymous"]} for row in rows]
