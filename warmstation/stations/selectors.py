"""Reads that matter: the nearby search, a station's schedule and page, the cabinet's lists and
the ledger's figures."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from warmstation.core import geo
from warmstation.stations.hours import Schedule, Span
from warmstation.stations.models import (
    HoursException,
    Loan,
    OpeningHours,
    ServiceRecord,
    Station,
    Stock,
)


def schedule_of(station: Station, hours=None, exceptions=None) -> Schedule:
    """The station's schedule from prefetched (or queried) hours and exceptions."""
    hours = station.hours.all() if hours is None else hours
    exceptions = station.exceptions.all() if exceptions is None else exceptions
    weekly: dict[int, list[Span]] = defaultdict(list)
    for h in hours:
        weekly[h.weekday].append(Span(h.opens, h.closes))
    return Schedule(
        weekly=dict(weekly),
        exceptions={e.date: (None if e.closed else Span(e.opens, e.closes)) for e in exceptions},
        is_24h=station.is_24h, closed=station.temporarily_closed,
    )


def _schedules(rows: list[tuple], at: datetime) -> dict[int, Schedule]:
    """Schedules good for `at` only: the weekly spans of today's and yesterday's weekdays (an
    overnight span from yesterday may still run) and those two dates' exceptions, from plain
    rows — two queries whatever the number of stations."""
    local = timezone.localtime(at)
    today, yesterday = local.date(), local.date() - timedelta(days=1)
    ids = [r[0] for r in rows]
    schedules = {pk: Schedule(is_24h=h24, closed=closed) for pk, _la, _ln, h24, closed in rows}
    for pk, weekday, opens, closes in OpeningHours.objects.filter(
            station_id__in=ids, weekday__in={today.weekday(), yesterday.weekday()}
    ).order_by().values_list("station_id", "weekday", "opens", "closes"):
        schedules[pk].weekly.setdefault(weekday, []).append(Span(opens, closes))
    for pk, day, closed, opens, closes in HoursException.objects.filter(
            station_id__in=ids, date__in=[today, yesterday]
    ).order_by().values_list("station_id", "date", "closed", "opens", "closes"):
        schedules[pk].exceptions[day] = None if closed else Span(opens, closes)
    return schedules


NEARBY_FIELDS = ("id", "name", "kind", "address", "lat", "lng", "phone", "is_24h",
                 "temporarily_closed")


def station_nearby(*, lat: float, lng: float, radius_m: float, limit: int,
                   open_now: bool | None = None, amenities: list[str] | None = None,
                   at: datetime | None = None) -> list[dict]:
    """Active stations within radius_m of (lat, lng) WGS-84, nearest first, each as
    {"station", "distance_m", "open_now"} (station with its display fields and amenities).

    The candidates come from the grid-cell index (never a scan of every station) as plain rows;
    distances are exact. Opening hours are read only for the candidates that can make the list
    (all of them only when filtering on open_now), and full rows only for the final `limit`."""
    at = at or timezone.now()
    field, cells = geo.covering_cells(lat, lng, radius_m)
    min_lat, min_lng, max_lat, max_lng = geo.bbox(lat, lng, radius_m)
    qs = Station.objects.filter(**{f"{field}__in": cells}, is_active=True,
                                lat__gte=min_lat, lat__lte=max_lat,
                                lng__gte=min_lng, lng__lte=max_lng).order_by()
    through = Station.amenities.through.objects
    for code in amenities or []:
        qs = qs.filter(Exists(through.filter(station_id=OuterRef("pk"), amenity__code=code)))
    rows = list(qs.values_list("pk", "lat", "lng", "is_24h", "temporarily_closed"))
    ranked = geo.nearest(((row, row[1], row[2]) for row in rows), lat, lng, radius_m)
    if open_now is None:
        ranked = ranked[:limit]
    schedules = _schedules([row for _d, row in ranked], at)
    chosen = []
    for distance, row in ranked:
        is_open = schedules[row[0]].is_open(at)
        if open_now is None or is_open == open_now:
            chosen.append((distance, row[0], is_open))
            if len(chosen) >= limit:
                break
    if not chosen:
        return []
    stations = Station.objects.filter(pk__in=[pk for _d, pk, _o in chosen]) \
        .only(*NEARBY_FIELDS).prefetch_related("amenities").in_bulk()
    return [{"station": stations[pk], "distance_m": d, "open_now": is_open}
            for d, pk, is_open in chosen]


def station_page(station_id: int) -> Station:
    return Station.objects.select_related("area", "steward").prefetch_related(
        "hours", "exceptions", "amenities", "resources", "services", "contacts", "photos",
        Prefetch("stock", queryset=Stock.objects.select_related("item")),
    ).get(pk=station_id)


def overdue_loans(*, stations: QuerySet[Station] | list, now: datetime | None = None):
    now = now or timezone.now()
    return Loan.objects.filter(station__in=stations, returned_at=None, due_at__lt=now) \
        .select_related("station", "item", "worker").order_by("due_at")


def open_loans(*, station: Station):
    return Loan.objects.filter(station=station, returned_at=None) \
        .select_related("item", "worker").order_by("due_at")


def low_stock(*, stations) -> QuerySet[Stock]:
    from django.db.models import F

    return Stock.objects.filter(station__in=stations, quantity__lte=F("low_threshold")) \
        .select_related("station", "item").order_by("quantity")


def served_by_month(*, stations, group: str = "station") -> list[dict]:
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
