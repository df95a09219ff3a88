"""Reads that matter: the nearby search, a station's schedule and page, the cabinet's lists and
the ledger's figures."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db.models import Count, Prefetch, QuerySet
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


def station_nearby(*, lat: float, lng: float, radius_m: float, limit: int,
                   open_now: bool | None = None, amenities: list[str] | None = None,
                   at: datetime | None = None) -> list[dict]:
    """Active stations within radius_m of (lat, lng) WGS-84, nearest first. The candidates come
    from the grid-cell index (never a scan of every station); distances are exact."""
    at = at or timezone.now()
    field, cells = geo.covering_cells(lat, lng, radius_m)
    min_lat, min_lng, max_lat, max_lng = geo.bbox(lat, lng, radius_m)
    qs = Station.objects.filter(**{f"{field}__in": cells}, is_active=True,
                                lat__gte=min_lat, lat__lte=max_lat,
                                lng__gte=min_lng, lng__lte=max_lng)
    for code in amenities or []:
        qs = qs.filter(amenities__code=code)
    rows = list(qs.values_list("pk", "lat", "lng"))
    ranked = geo.nearest(((pk, la, ln) for pk, la, ln in rows), lat, lng, radius_m)
    if not ranked:
        return []
    # Hours are needed only for the candidates; fetch them in two queries, not one per station.
    wanted = [pk for _d, pk in ranked] if open_now is not None else \
        [pk for _d, pk in ranked[:limit]]
    stations = Station.objects.filter(pk__in=wanted).prefetch_related(
        Prefetch("hours", queryset=OpeningHours.objects.all()),
        Prefetch("exceptions", queryset=HoursException.objects.filter(
            date__gte=(timezone.localdate(at) - timezone.timedelta(days=1)),
            date__lte=timezone.localdate(at))),
        "amenities",
    ).select_related("area")
    by_pk = {s.pk: s for s in stations}
    out = []
    for distance, pk in ranked:
        station = by_pk.get(pk)
        if station is None:
            continue
        is_open = schedule_of(station).is_open(at)
        if open_now is not None and is_open != open_now:
            continue
        out.append({"station": station, "distance_m": distance, "open_now": is_open})
        if len(out) >= limit:
            break
    return out


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
    """People served (services given + check-ins) per station (or area) and month, counting each
    worker once per station and month, plus unnamed services one by one."""
    key = "station__area__name_zh" if group == "area" else "station__name"
    return list(
        ServiceRecord.objects.filter(station__in=stations)
        .annotate(month=TruncMonth("at", tzinfo=timezone.get_current_timezone()))
        .values(key, "month")
        .annotate(records=Count("id"), workers=Count("worker", distinct=True))
        .order_by("-month", key)
    )
