"""Pages for workers (nearest stations, a station's page, the QR check-in) and for area admins
(their area's stations). The steward's console is in views_steward.py."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from warmstation.accounts.models import Role, WorkerProfile
from warmstation.accounts.pages import staff_page
from warmstation.areas.models import Area
from warmstation.core import geo
from warmstation.core.errors import ApplicationError, NotFound
from warmstation.core.pagination import page_list
from warmstation.core.ratelimit import rate_limit
from warmstation.core.refusals import refused
from warmstation.core.schedule import WEEKDAY_LABELS, describe
from warmstation.stations import selectors, services
from warmstation.stations.models import Amenity
from warmstation.stations.permissions import (
    access_station_by_id,
    can_change_station,
    station_managed_list,
)

ADMINS = (Role.AREA_ADMIN, Role.DISTRICT_ADMIN)
DISTRICT_CENTRE = (39.7476, 116.1370)  # 房山区 (used only when no area has a centre)
RADII = (2000, 5000, 20000, 50000)  # metres a worker can choose between


@dataclass
class Origin:
    lat: float
    lng: float
    source: str  # "gps" (the phone sent it), "area" (the worker's work area), "district"
    label: str = ""


def _float(raw: str | None, low: float, high: float) -> float | None:
    try:
        value = float(raw or "")
    except ValueError:
        return None
    return value if low <= value <= high else None


def _origin(request) -> Origin:
    """Where "nearest" is measured from: the phone's position (lat/lng, WGS-84) if it sent one,
    else the centre of the worker's first work area, else the district's centre."""
    lat = _float(request.GET.get("lat"), -90, 90)
    lng = _float(request.GET.get("lng"), -180, 180)
    if lat is not None and lng is not None:
        return Origin(lat, lng, "gps")
    if request.user.is_authenticated:
        profile = WorkerProfile.objects.filter(user=request.user).first()
        area = profile.areas.exclude(center_lat=None).order_by("path").first() if profile \
            else None
        if area is not None and area.center_lat is not None and area.center_lng is not None:
            return Origin(area.center_lat, area.center_lng, "area", area.name_zh)
    root = Area.objects.filter(parent=None).exclude(center_lat=None).order_by("path").first()
    if root is not None and root.center_lat is not None and root.center_lng is not None:
        return Origin(root.center_lat, root.center_lng, "district", root.name_zh)
    return Origin(*DISTRICT_CENTRE, "district")


def _amenity_name(amenity, language: str) -> str:
    return amenity.name_en if language.startswith("en") and amenity.name_en else amenity.name_zh


def station_list(request):
    """The worker's page: nearest stations, filtered, as a list (works without JS or tiles) with
    a map above it."""
    rate_limit(request, "search")
    origin = _origin(request)
    language = request.LANGUAGE_CODE or ""
    amenities = list(Amenity.objects.all())
    known = {a.code for a in amenities}
    wanted = [c for c in request.GET.getlist("amenity") if c in known]
    open_only = request.GET.get("open") == "1"
    try:
        radius = int(request.GET.get("r") or 5000)
    except ValueError:
        radius = 5000
    radius = radius if radius in RADII else 5000
    results = selectors.station_nearby(lat=origin.lat, lng=origin.lng, radius_m=radius, limit=30,
                                       open_now=True if open_only else None, amenities=wanted)
    rows = []
    for r in results:
        station = r["station"]
        d = r["distance_m"]
        rows.append({**r, "distance": f"{d:.0f} m" if d < 1000 else f"{d / 1000:.1f} km",
                     "chips": [_amenity_name(a, language) for a in station.amenity_list]})
    # Markers in the tiles' coordinate system (MAP_TILE_CRS): GCJ-02 tiles need converted
    # positions. Without tiles there is no map at all (no Leaflet either): the list is the view.
    crs = settings.MAP_TILE_CRS

    def on_tiles(lat: float, lng: float) -> dict:
        tlat, tlng = geo.from_wgs84(lat, lng, crs)
        return {"lat": round(tlat, 6), "lng": round(tlng, 6)}

    markers = [{"id": r["station"].pk, "name": r["station"].name,
                **on_tiles(r["station"].lat, r["station"].lng), "open": r["open_now"],
                "url": reverse("stations:detail", args=[r["station"].pk]),
                "distance": round(r["distance_m"])} for r in results]
    # One tap each: "open now + this amenity" as a link, so the nearest open station with
    # charging is home → 附近驿站 → 充电 → the station (the form below combines several).
    quick = []
    for a in amenities:
        query = request.GET.copy()
        query["open"] = "1"
        query.setlist("amenity", [a.code])
        quick.append({"code": a.code, "name": _amenity_name(a, language),
                      "url": f"?{query.urlencode()}",
                      "current": open_only and wanted == [a.code]})
    wider = next((x for x in RADII if x > radius), None)
    if wider:
        query = request.GET.copy()
        query["r"] = str(wider)
        wider = {"km": wider // 1000, "url": f"?{query.urlencode()}"}
    return render(request, "stations/list.html", {
        "origin": origin, "rows": rows, "open_only": open_only, "wanted": wanted,
        "amenities": [(a.code, _amenity_name(a, language)) for a in amenities],
        "radius": radius, "radius_km": radius // 1000, "wider": wider, "quick": quick,
        "map_data": {"origin": on_tiles(origin.lat, origin.lng), "stations": markers,
                     "crs": crs},
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": getattr(settings, "MAP_TILE_ATTRIBUTION", ""),
    })


def _nav_links(station) -> dict:
    """Links that open the phone's map app at the station: geo: (WGS-84, Android's own chooser),
    AMap (GCJ-02) and Baidu (BD-09), each in the coordinates that app expects."""
    glat, glng = geo.from_wgs84(station.lat, station.lng, "gcj02")
    blat, blng = geo.from_wgs84(station.lat, station.lng, "bd09")
    name = quote(station.name)
    return {
        "geo": f"geo:{station.lat:.6f},{station.lng:.6f}?q={station.lat:.6f},{station.lng:.6f}"
               f"({name})",
        "amap": f"https://uri.amap.com/marker?position={glng:.6f},{glat:.6f}&name={name}"
                f"&coordinate=gaode",
        "baidu": f"baidumap://map/marker?location={blat:.6f},{blng:.6f}&title={name}"
                 f"&coord_type=bd09ll&src=warmstation",
    }


def _week_rows(schedule, today: int) -> list[tuple[str, list[str], bool]]:
    """The week as rows of (days, spans, includes today), consecutive days with the same hours
    folded into one row ("周一至周五 09:00–21:00") so a phone shows it in a few lines."""
    groups: list[list] = []
    for d in range(7):
        spans = [describe(s) for s in schedule.weekly.get(d, [])]
        if groups and groups[-1][2] == spans:
            groups[-1][1] = d
        else:
            groups.append([d, d, spans])
    rows = []
    for first, last, spans in groups:
        label = str(WEEKDAY_LABELS[first]) if first == last else str(_("每天")) \
            if (first, last) == (0, 6) else \
            _("%(first)s至%(last)s") % {"first": WEEKDAY_LABELS[first],
                                         "last": WEEKDAY_LABELS[last]}
        rows.append((label, spans, first <= today <= last))
    return rows


def station_detail(request, station_id: int):
    access_station_by_id(request.user, station_id)
    station = selectors.station_page(station_id)
    schedule = selectors.schedule_of(station)
    today = timezone.localdate()
    week = _week_rows(schedule, today.weekday())
    exceptions = [e for e in station.exceptions.all() if e.date >= today][:10]
    language = request.LANGUAGE_CODE or ""
    return render(request, "stations/detail.html", {
        "station": station, "open_now": schedule.is_open(timezone.now()), "week": week,
        "exceptions": exceptions,
        "amenities": [_amenity_name(a, language) for a in station.amenities.all()],
        "shared": [s for s in station.stock.all() if s.item.lendable],
        "nav": _nav_links(station), "can_change": can_change_station(request.user, station),
    })


@require_http_methods(["GET", "POST"])
@staff_page(Role.WORKER)
def station_check_in(request, station_id: int, token: str):
    """The page a station's QR code opens. GET asks (a link preview or a prefetch must not check
    anyone in); POST checks the worker in through the service."""
    station = access_station_by_id(request.user, station_id)
    if not hmac.compare_digest(station.checkin_token.encode(), token.encode()):
        raise NotFound()
    ctx = {"station": station, "token": token}
    if request.method == "POST":
        try:
            ctx["record"] = services.station_check_in(worker=request.user, token=token,
                                                      request=request)
        except ApplicationError as exc:
            return refused(request, "stations/check_in.html", ctx, exc)
    return render(request, "stations/check_in.html", ctx)


def month_served(stations) -> dict[int, tuple[int, int]]:
    """This month's (people, records) per station id, from served_by_month."""
    start = timezone.localdate().replace(day=1)
    by_station = {}
    for row in selectors.served_by_month(stations=stations):
        if timezone.localtime(row["month"]).date() == start:
            by_station[row["station_id"]] = (row["people"], row["records"])
    return by_station


def desk_rows(user, stations) -> list[dict]:
    """One row per managed station with its open state, low-stock and overdue counts and this
    month's people served: shared by the steward's list and the area admin's desk table."""
    stations = list(stations)
    prefetch_related_objects(stations, "hours", "exceptions")
    low: dict[int, int] = {}
    overdue: dict[int, int] = {}
    for s in selectors.low_stock(stations=stations):
        low[s.station_id] = low.get(s.station_id, 0) + 1
    for loan in selectors.overdue_loans(stations=stations):
        overdue[loan.station_id] = overdue.get(loan.station_id, 0) + 1
    served = month_served(stations)
    now = timezone.now()
    return [{"station": s, "open_now": selectors.schedule_of(s).is_open(now),
             "low": low.get(s.pk, 0), "overdue": overdue.get(s.pk, 0),
             "served": served.get(s.pk, (0, 0))[0],
             "records": served.get(s.pk, (0, 0))[1]} for s in stations]


@staff_page(*ADMINS)
def station_manage(request):
    """Area admin (or district admin): every station in their area, as a desk table."""
    stations = station_managed_list(request.user).order_by("area__path", "name", "pk")
    page = page_list(request, stations)
    served = month_served(stations).values()
    return render(request, "stations/manage.html", {
        "rows": desk_rows(request.user, page.items), "page": page,
        # The figures are of every station in the area, not of this page.
        "low_total": selectors.low_stock(stations=stations).count(),
        "overdue_total": selectors.overdue_loans(stations=stations).count(),
        "served_total": sum(people for people, _records in served),
        "records_total": sum(records for _people, records in served),
    })
