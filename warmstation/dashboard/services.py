"""Writes of the district view: the roll-ups' schedule and the area boundaries a district
supplies (GeoJSON, WGS-84 or GCJ-02)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from warmstation.areas.models import Area
from warmstation.core import geo
from warmstation.core.errors import InvalidInput
from warmstation.dashboard.models import AreaBoundary, FigureRefresh


def figures_refresh_due(*, now: datetime | None = None) -> int:
    """The periodic job (settings.PERIODIC_JOBS): enqueue a refresh of the open periods when the
    last one is older than DASHBOARD_REFRESH_MINUTES, and a full rebuild once a day."""
    from warmstation.dashboard.tasks import refresh_figures

    now = now or timezone.now()
    state = FigureRefresh.objects.filter(pk=1).first()
    every = timedelta(minutes=settings.DASHBOARD_REFRESH_MINUTES)
    if state is None or state.rebuilt_at is None or state.rebuilt_at < now - timedelta(days=1):
        transaction.on_commit(lambda: refresh_figures.enqueue(full=True))
        return 1
    if state.refreshed_at is None or state.refreshed_at < now - every:
        transaction.on_commit(lambda: refresh_figures.enqueue(full=False))
        return 1
    return 0


def _convert_ring(ring: list[Any], crs: str) -> list[list[float]]:
    out = []
    for point in ring:
        if not (
            isinstance(point, list | tuple)
            and len(point) >= 2
            and all(isinstance(c, int | float) for c in point[:2])
        ):
            raise InvalidInput("坐标不是 [经度, 纬度]。", "A coordinate is not [lng, lat].")
        lng, lat = float(point[0]), float(point[1])
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise InvalidInput("坐标超出范围。", "A coordinate is out of range.")
        wlat, wlng = geo.to_wgs84(lat, lng, crs)
        out.append([round(wlng, 7), round(wlat, 7)])
    return out


def _convert_geometry(geometry: Any, crs: str) -> dict[str, Any]:
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise InvalidInput(
            "只接受 Polygon 或 MultiPolygon 边界。",
            "Only Polygon or MultiPolygon boundaries are accepted.",
        )
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or not coords:
        raise InvalidInput("边界没有坐标。", "The boundary has no coordinates.")
    if geometry["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": [_convert_ring(r, crs) for r in coords]}
    return {
        "type": "MultiPolygon",
        "coordinates": [[_convert_ring(r, crs) for r in poly] for poly in coords],
    }


def boundaries_load(
    *, collection: Any, crs: str, key: str = "code", source_name: str = ""
) -> tuple[int, list[str]]:
    """Store the outlines of a GeoJSON FeatureCollection, each feature matched to an area by the
    property `key` (an area code, or `name` for the Chinese name). Coordinates in `crs`
    (wgs84, gcj02 or bd09) are converted to WGS-84. Returns (loaded, names not matched); a
    malformed file changes nothing."""
    if crs not in geo.CRS:
        raise InvalidInput(
            "坐标系只能是 wgs84、gcj02 或 bd09。",
            "The coordinate system must be wgs84, gcj02 or bd09.",
        )
    if (
        not isinstance(collection, dict)
        or collection.get("type") != "FeatureCollection"
        or not isinstance(collection.get("features"), list)
    ):
        raise InvalidInput(
            "文件不是 GeoJSON FeatureCollection。", "The file is not a GeoJSON FeatureCollection."
        )
    field = "name_zh" if key == "name" else "code"
    areas = {getattr(a, field): a for a in Area.objects.all()}
    matched: list[tuple[Area, dict[str, Any]]] = []
    missing: list[str] = []
    for feature in collection["features"]:
        props = (feature or {}).get("properties") or {}
        name = str(props.get(key, ""))
        geometry = _convert_geometry((feature or {}).get("geometry"), crs)
        if name in areas:
            matched.append((areas[name], geometry))
        else:
            missing.append(name)
    with transaction.atomic():
        for area, geometry in matched:
            AreaBoundary.objects.update_or_create(
                area=area,
                defaults={
                    "geometry": geometry,
                    "source_crs": crs,
                    "source_name": source_name[:128],
                },
            )
    return len(matched), missing
