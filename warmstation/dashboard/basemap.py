"""The base map (底数图): stations, meal partners, family flats, worker groups and workers'
density on one map, each a layer, plus the area boundaries the district supplied. Every layer
is one query over the viewer's areas; density is shaded by h3 cell and a cell with fewer than
MIN_GROUP workers is left out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from warmstation.benefits.models import Merchant
from warmstation.core.suppression import hidden
from warmstation.dashboard import coverage
from warmstation.dashboard.models import AreaBoundary
from warmstation.housing.models import Flat
from warmstation.outreach.models import Group
from warmstation.stations.models import Station

LAYERS = {
    "stations": _("驿站"),
    "meals": _("爱心餐"),
    "flats": _("爱心公寓"),
    "groups": _("群组"),
    "density": _("小哥密度"),
    "boundaries": _("区域边界"),
}
DEFAULT_LAYERS = ("stations", "meals", "density", "boundaries")
LIMIT = 5000  # markers per layer; the list below the map says when there are more

Point = Callable[[float, float], list[float]]
Polygon = Callable[[str], list[list[float]]]


def _in(paths: list[str], prefix: str = "area__path") -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{f"{prefix}__startswith": p})
    return q


def _convert(geometry: dict[str, Any], point: Point) -> list[Any]:
    """A stored GeoJSON polygon ([lng, lat] WGS-84) as Leaflet rings ([lat, lng] on the tiles)."""
    polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [[[point(lat, lng) for lng, lat in ring] for ring in poly] for poly in polys]


def layers(
    *,
    paths: list[str],
    wanted: list[str],
    point: Point,
    polygon: Polygon,
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    if "stations" in wanted:
        stations_qs: Any = (
            Station.objects.filter(_in(paths), is_active=True)
            .order_by("name")
            .values("id", "name", "lat", "lng", "is_24h", "temporarily_closed")
        )
        total = stations_qs.count()
        out["stations"] = {
            "total": total,
            "items": [
                {
                    "name": r["name"],
                    "at": point(r["lat"], r["lng"]),
                    "h24": r["is_24h"],
                    "closed": r["temporarily_closed"],
                }
                for r in stations_qs[:LIMIT]
            ],
        }
    if "meals" in wanted:
        meals_qs: Any = (
            Merchant.objects.filter(_in(paths), is_active=True, kind=Merchant.Kind.RESTAURANT)
            .order_by("name")
            .values("name", "lat", "lng")
        )
        out["meals"] = {
            "total": meals_qs.count(),
            "items": [
                {"name": r["name"], "at": point(r["lat"], r["lng"])} for r in meals_qs[:LIMIT]
            ],
        }
    if "flats" in wanted:
        flats_qs: Any = (
            Flat.objects.filter(_in(paths), is_active=True)
            .annotate(
                plat=Coalesce(F("station__lat"), F("area__center_lat")),
                plng=Coalesce(F("station__lng"), F("area__center_lng")),
            )
            .filter(plat__isnull=False)
            .order_by("name")
            .values("name", "plat", "plng")
        )
        out["flats"] = {
            "total": flats_qs.count(),
            "items": [
                {"name": r["name"], "at": point(r["plat"], r["plng"])} for r in flats_qs[:LIMIT]
            ],
        }
    if "groups" in wanted:
        groups_qs: Any = (
            Group.objects.filter(_in(paths), is_active=True, area__center_lat__isnull=False)
            .values("area__name_zh", "area__center_lat", "area__center_lng")
            .annotate(
                n_groups=Count("id", distinct=True), n_members=Count("members", distinct=True)
            )
            .order_by("area__name_zh")
        )
        out["groups"] = {
            "total": len(groups_qs),
            "items": [
                {
                    "name": r["area__name_zh"],
                    "groups": r["n_groups"],
                    "members": None if hidden(r["n_members"]) else r["n_members"],
                    "at": point(r["area__center_lat"], r["area__center_lng"]),
                }
                for r in groups_qs[:LIMIT]
            ],
        }
    if "density" in wanted:
        points = coverage.demand_points(
            paths=paths,
            signals=coverage.SIGNALS,
            since=timezone.now() - timedelta(days=coverage.DAYS),
        )
        cells = coverage.demand_cells(points)
        shown = sorted(((c, n) for c, n in cells.items() if not hidden(n)), key=lambda t: -t[1])
        out["density"] = {
            "total": len(shown),
            "hidden": len(cells) - len(shown),
            "max": shown[0][1] if shown else 0,
            "items": [{"n": n, "shape": polygon(c)} for c, n in shown[:LIMIT]],
        }
    if "boundaries" in wanted:
        bounds_qs: Any = (
            AreaBoundary.objects.filter(_in(paths)).select_related("area").order_by("area__path")
        )
        out["boundaries"] = {
            "total": bounds_qs.count(),
            "items": [
                {"name": b.area.name_zh, "rings": _convert(b.geometry, point)}
                for b in bounds_qs[:500]
            ],
        }
    return out
