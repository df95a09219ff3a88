"""Geography shared by every app: distances, China's three coordinate systems, grid cells.

Coordinates are stored as WGS-84 (GPS). Phones report WGS-84; AMap and Tencent maps use GCJ-02
("Mars coordinates", WGS-84 shifted by a published obfuscation formula); Baidu uses BD-09
(GCJ-02 shifted again). Conversions out are closed-form; conversions in (GCJ-02 → WGS-84) are
solved by fixed-point iteration to well under a metre.

Nearby search is index-backed by grid cells: each place stores the id of the small cell
(CELL_S degrees) and the large cell (CELL_L degrees) it lies in, both indexed. A query lists the
cells its bounding box covers and asks `cell IN (...)` — a handful of index range scans whatever
the table size — then ranks the candidates by exact distance.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

EARTH_RADIUS_M = 6_371_008.8
CELL_S = 0.02   # ≈ 2.2 km north–south
CELL_L = 0.2    # ≈ 22 km
MAX_CELLS = 144  # above this many small cells, query the large ones instead

# --- distance --------------------------------------------------------------------------------


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bbox(lat: float, lng: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, min_lng, max_lat, max_lng) enclosing the circle."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    coslat = max(math.cos(math.radians(lat)), 1e-6)
    dlng = min(180.0, dlat / coslat)
    return lat - dlat, lng - dlng, lat + dlat, lng + dlng


# --- grid cells -------------------------------------------------------------------------------


def _cell(lat: float, lng: float, size: float) -> int:
    row = math.floor((lat + 90) / size)
    col = math.floor((lng + 180) / size)
    return row * 100_000 + col


def cells_of(lat: float, lng: float) -> tuple[int, int]:
    """(small cell, large cell) of a point: store both, indexed."""
    return _cell(lat, lng, CELL_S), _cell(lat, lng, CELL_L)


def covering_cells(lat: float, lng: float, radius_m: float) -> tuple[str, list[int]]:
    """The field to filter on ("cell_s" or "cell_l") and the cells covering the circle."""
    min_lat, min_lng, max_lat, max_lng = bbox(lat, lng, radius_m)
    for field, size in (("cell_s", CELL_S), ("cell_l", CELL_L)):
        r0, r1 = math.floor((min_lat + 90) / size), math.floor((max_lat + 90) / size)
        c0, c1 = math.floor((min_lng + 180) / size), math.floor((max_lng + 180) / size)
        if field == "cell_l" or (r1 - r0 + 1) * (c1 - c0 + 1) <= MAX_CELLS:
            return field, [r * 100_000 + c for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]
    raise AssertionError("unreachable")


# --- WGS-84 / GCJ-02 / BD-09 -----------------------------------------------------------------

_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0
CRS = ("wgs84", "gcj02", "bd09")


def in_china(lat: float, lng: float) -> bool:
    """GCJ-02 shifts only apply inside (roughly) mainland China."""
    return 72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    if not in_china(lat, lng):
        return lat, lng
    dlat = _transform_lat(lng - 105.0, lat - 35.0)
    dlng = _transform_lng(lng - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lat + dlat, lng + dlng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """Inverse by iteration: find w with wgs84_to_gcj02(w) == (lat, lng); converges to ~1e-9°."""
    if not in_china(lat, lng):
        return lat, lng
    wlat, wlng = lat, lng
    for _ in range(30):
        glat, glng = wgs84_to_gcj02(wlat, wlng)
        dlat, dlng = glat - lat, glng - lng
        wlat, wlng = wlat - dlat, wlng - dlng
        if abs(dlat) < 1e-10 and abs(dlng) < 1e-10:
            break
    return wlat, wlng


def gcj02_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def bd09_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    x, y = lng - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.sin(theta), z * math.cos(theta)


def to_wgs84(lat: float, lng: float, crs: str) -> tuple[float, float]:
    if crs == "wgs84":
        return lat, lng
    if crs == "gcj02":
        return gcj02_to_wgs84(lat, lng)
    if crs == "bd09":
        return gcj02_to_wgs84(*bd09_to_gcj02(lat, lng))
    raise ValueError(f"unknown crs {crs!r}")


def from_wgs84(lat: float, lng: float, crs: str) -> tuple[float, float]:
    if crs == "wgs84":
        return lat, lng
    if crs == "gcj02":
        return wgs84_to_gcj02(lat, lng)
    if crs == "bd09":
        return gcj02_to_bd09(*wgs84_to_gcj02(lat, lng))
    raise ValueError(f"unknown crs {crs!r}")


def nearest[T](points: Iterable[tuple[T, float, float]], lat: float, lng: float,
               radius_m: float) -> list[tuple[float, T]]:
    """(distance, item) for items within radius, nearest first. Brute force over `points`."""
    out: list[tuple[float, T]] = []
    for item, plat, plng in points:
        d = distance_m(lat, lng, plat, plng)
        if d <= radius_m:
            out.append((d, item))
    out.sort(key=lambda t: t[0])
    return out


def crs_readings_near(lat: float, lng: float, *, centre_lat: float, centre_lng: float,
                      radius_m: float) -> list[tuple[str, float]]:
    """(crs, distance in metres) for each coordinate system in which the point — read as written
    in that system and converted to WGS-84 — lies within `radius_m` of the centre, nearest
    first. Spreadsheets mix GPS, AMap (GCJ-02) and Baidu (BD-09) positions: a point that lies
    outside its stated area read in its declared system but inside it read in another was most
    likely copied from the other map (imports use this to say so)."""
    found = []
    for crs in CRS:
        wlat, wlng = to_wgs84(lat, lng, crs)
        d = distance_m(wlat, wlng, centre_lat, centre_lng)
        if d <= radius_m:
            found.append((crs, d))
    return sorted(found, key=lambda t: t[1])
