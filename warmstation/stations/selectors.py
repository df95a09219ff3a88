"""Reads that matter: the nearby search, a station's schedule and page, the cabinet's lists and
the ledger's figures."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

import psycopg
from django.conf import settings
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


def cells_sql(field: str, cells: Sequence[int]) -> tuple[str, list[Any]]:
    """`field` among `cells`: on PostgreSQL one array parameter (`IN (SELECT unnest(...))`), so
    the statement's text is the same whatever the number of cells and a prepared statement
    can be reused (see prepared_rows); elsewhere (SQLite) the cells expanded into `IN (...)`."""
    if prepares():
        # The array as its text literal: psycopg's list adapter cost ~60 µs a call here.
        return (f"{field} IN (SELECT unnest(CAST(%s AS bigint[])))",
                ["{" + ",".join(map(str, cells)) + "}"])
    return f"{field} IN ({_in(cells)})", list(cells)


# With DATABASE_PREPARE_AFTER (settings, ADR 0017) every statement is prepared after a few runs;
# the nearby search is prepared from its first. With it off, a psycopg connection from Django
# has prepared statements off (prepare_threshold None) and binds on the client; prepared_rows
# then sets this, so only statements run with prepare=True (the nearby search) are prepared.
ONLY_WHEN_ASKED = 2**31 - 1


def prepares() -> bool:
    """Whether the nearby search runs as a prepared statement: on PostgreSQL reached directly or
    through a session pooler, not through PgBouncer in transaction mode (a server connection
    there serves other clients between transactions, and knows nothing of ours)."""
    return connection.vendor == "postgresql" and settings.DATABASE_POOL_MODE != "transaction"


class _PreparedCursor(psycopg.Cursor):
    """A cursor that binds its parameters on the server and prepares every statement it runs
    (Django's psycopg cursors bind on the client, so PostgreSQL sees new text, and plans it
    again, on every call)."""

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None,
                binary: bool | None = None) -> Any:
        return super().execute(query, params, prepare=True, binary=binary)


def prepared_rows(sql: str, params: Iterable[Any]) -> list[Row]:
    """`sql` run as a prepared statement on this thread's connection, when prepares() (planned
    once per connection: the nearby search's planning took as long as its execution); otherwise
    as any query. Through Django's cursor wrapper, so query logging, execute wrappers and
    error translation see it as they see every other query."""
    if not prepares():
        return _rows(sql, params)
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = ONLY_WHEN_ASKED
    cursor: Any = _PreparedCursor(raw)  # the stubs want Django's wrapper; Django wraps this
    wrapped = connection.make_debug_cursor(cursor) if connection.queries_logged \
        else connection.make_cursor(cursor)
    with wrapped:
        wrapped.execute(sql, list(params))
        return list(wrapped.fetchall())


T_STATION = Station._meta.db_table
T_HOURS = OpeningHours._meta.db_table
T_EXCEPTION = HoursException._meta.db_table
T_AMENITY = Amenity._meta.db_table
T_STATION_AMENITY = Station.amenities.through._meta.db_table


def station_nearby(*, lat: float, lng: float, radius_m: float, limit: int,
                   open_now: bool | None = None, amenities: list[str] | None = None,
                   at: datetime | None = None) -> list[NearbyResult]:
    """Active stations within radius_m of (lat, lng) WGS-84, nearest first, each as
    {"station": NearbyStation, "distance_m", "open_now"}: see nearby_page."""
    return nearby_page(lat=lat, lng=lng, radius_m=radius_m, limit=limit, open_now=open_now,
                       amenities=amenities, at=at)[0]


# The one statement's columns: every part of the UNION ALL fills the same 14, typed (a NULL is
# cast, so PostgreSQL types each column the same in every part).
#   tag, id, lat, lng, bool1, bool2, text1..text4, int1, date1, time1, time2
NEARBY_COLUMNS = 14
_NULL = {"int": "CAST(NULL AS integer)", "float": "CAST(NULL AS double precision)",
         "bool": "CAST(NULL AS boolean)", "text": "CAST(NULL AS text)",
         "date": "CAST(NULL AS date)", "time": "CAST(NULL AS time)"}
TAG_STATION, TAG_HOURS, TAG_EXCEPTION, TAG_AMENITY = 0, 1, 2, 3


def nearby_page(*, lat: float, lng: float, radius_m: float, limit: int,
                open_now: bool | None = None, amenities: list[str] | None = None,
                at: datetime | None = None, extra: tuple[str, list[Any]] | None = None,
                ) -> tuple[list[NearbyResult], list[Row]]:
    """The nearby search in ONE SQL statement: the candidate stations (grid-cell index,
    `cell IN (...)`: never a scan of every station) with their display fields, their weekly
    spans for today's and yesterday's weekdays (an overnight span from yesterday may still run),
    those two dates' exceptions and their amenities, as the parts of one UNION ALL; `extra` is
    one more part (same 14 columns, its own tag) a caller adds — the merchants of kind=all —
    whose rows come back untouched. Distances are exact (Python, `geo.nearest`), ties broken by
    id; no model instances (see bench/RESULTS.md)."""
    at = at or timezone.now()
    local = timezone.localtime(at)
    today, yesterday = local.date(), local.date() - timedelta(days=1)
    field, cells = geo.covering_cells(lat, lng, radius_m)
    min_lat, min_lng, max_lat, max_lng = geo.bbox(lat, lng, radius_m)
    n = _NULL
    in_cells, params = cells_sql(field, cells)
    candidates = (f"SELECT id, lat, lng, is_24h, temporarily_closed, name, kind, address, phone "  # noqa: S608
                  f"FROM {T_STATION} WHERE {in_cells} AND is_active = %s "
                  f"AND lat BETWEEN %s AND %s AND lng BETWEEN %s AND %s")
    params += [True, min_lat, max_lat, min_lng, max_lng]
    for code in amenities or []:
        candidates += (f" AND EXISTS (SELECT 1 FROM {T_STATION_AMENITY} sa JOIN {T_AMENITY} a "  # noqa: S608
                       f"ON a.id = sa.amenity_id WHERE sa.station_id = {T_STATION}.id "
                       "AND a.code = %s)")
        params.append(code)
    sql = (
        f"WITH c AS ({candidates}) "  # noqa: S608
        f"SELECT {TAG_STATION}, id, lat, lng, is_24h, temporarily_closed, name, kind, address, "
        f"phone, {n['int']}, {n['date']}, {n['time']}, {n['time']} FROM c "
        f"UNION ALL SELECT {TAG_HOURS}, h.station_id, {n['float']}, {n['float']}, {n['bool']}, "
        f"{n['bool']}, {n['text']}, {n['text']}, {n['text']}, {n['text']}, h.weekday, "
        f"{n['date']}, h.opens, h.closes FROM {T_HOURS} h "
        f"WHERE h.station_id IN (SELECT id FROM c) AND h.weekday IN (%s, %s) "
        f"UNION ALL SELECT {TAG_EXCEPTION}, x.station_id, {n['float']}, {n['float']}, x.closed, "
        f"{n['bool']}, {n['text']}, {n['text']}, {n['text']}, {n['text']}, {n['int']}, x.date, "
        f"x.opens, x.closes FROM {T_EXCEPTION} x "
        f"WHERE x.station_id IN (SELECT id FROM c) AND x.date IN (%s, %s) "
        f"UNION ALL SELECT {TAG_AMENITY}, sa.station_id, {n['float']}, {n['float']}, "
        f"{n['bool']}, {n['bool']}, a.code, a.name_zh, a.name_en, {n['text']}, a.\"order\", "
        f"{n['date']}, {n['time']}, {n['time']} FROM {T_STATION_AMENITY} sa "
        f"JOIN {T_AMENITY} a ON a.id = sa.amenity_id WHERE sa.station_id IN (SELECT id FROM c)")
    params += [today.weekday(), yesterday.weekday(), today, yesterday]
    if extra is not None:
        sql += " UNION ALL " + extra[0]
        params += extra[1]
    stations: list[Row] = []
    schedules: dict[int, Schedule] = {}
    amenity_rows: dict[int, list[tuple[int, str, str, str]]] = defaultdict(list)
    rest: list[Row] = []
    for row in prepared_rows(sql, params):
        tag, pk = row[0], row[1]
        if tag == TAG_STATION:
            stations.append(row[1:10])
            schedules.setdefault(pk, Schedule())
            schedules[pk].is_24h, schedules[pk].closed = bool(row[4]), bool(row[5])
        elif tag == TAG_HOURS:
            schedules.setdefault(pk, Schedule()).weekly.setdefault(row[10], []).append(
                Span(_time(row[12]), _time(row[13])))
        elif tag == TAG_EXCEPTION:
            schedules.setdefault(pk, Schedule()).exceptions[_date(row[11])] = \
                None if row[4] else Span(_time(row[12]), _time(row[13]))
        elif tag == TAG_AMENITY:
            amenity_rows[pk].append((row[10], row[6], row[7], row[8]))
        else:
            rest.append(row)
    # By id first, so stations at the same distance (one building, two stations) come in a
    # fixed order: the sort by distance is stable.
    stations.sort(key=lambda r: r[0])
    ranked = geo.nearest(((r, r[1], r[2]) for r in stations), lat, lng, radius_m)
    out: list[NearbyResult] = []
    for distance, r in ranked:
        is_open = schedules[r[0]].is_open(at)
        if open_now is not None and is_open != open_now:
            continue
        pk, slat, slng, h24, closed, name, kind, address, phone = r
        found = tuple(AmenityRef(code, zh, en) for _o, code, zh, en in
                      sorted(amenity_rows.get(pk, ()), key=lambda a: (a[0], a[1])))
        out.append({"station": NearbyStation(pk, name, kind, address, slat, slng, phone,
                                             bool(h24), bool(closed), found),
                    "distance_m": distance, "open_now": is_open})
        if len(out) >= limit:
            break
    return out, rest


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


def station_places() -> list[tuple[str, str, float, float, int]]:
    """(name, address, lat, lng, area id) of every active station: what a street geocoder
    matches an address against (reports/geocoder.py)."""
    return list(Station.objects.filter(is_active=True).order_by("pk")
                .values_list("name", "address", "lat", "lng", "area_id"))
