"""Coverage gaps and where to open the next station (选址).

Where workers are is read from three signals, each aggregated in SQL to a few thousand points
(never a row per worker in Python): registrations (the centre of the worker's home area),
check-ins at stations (the station's place) and street reports (the problem's place, rounded to
~100 m). Points fall into h3 cells (resolution 8, ≈0.74 km²); a cell's demand is the largest
number of distinct workers any one signal puts there — a lower bound of the people in it, since
the same worker shows up in several signals.

A cell is covered when its centre lies within the chosen distance of a station that counts:
open now, open 24 hours, or any active station (not temporarily closed). The candidates are the
centres of uncovered cells; the ranking is the greedy maximal covering (each step picks the
candidate that newly covers the most uncovered demand, the existing stations fixed), which is
within 1 − 1/e of the best choice of that many sites and is what siting studies use.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import h3
from django.db.models import Count, Q
from django.db.models.functions import Round
from django.utils import timezone

from warmstation.accounts.models import WorkerProfile
from warmstation.areas.models import Area
from warmstation.core import geo
from warmstation.reports.models import Problem
from warmstation.stations.models import ServiceRecord, Station
from warmstation.stations.selectors import schedule_of

RESOLUTION = 8
SIGNALS = ("registrations", "checkins", "reports")
MODES = ("open_now", "h24", "any")
DISTANCE_MIN, DISTANCE_MAX, DISTANCE_DEFAULT = 200, 5000, 1000
CANDIDATES_MAX, CANDIDATES_DEFAULT = 50, 10
DAYS = 90  # check-ins and reports of the last 90 days


@dataclass
class Candidate:
    rank: int
    cell: str
    lat: float
    lng: float
    new_workers: int
    cumulative: int


@dataclass
class Coverage:
    distance_m: int
    mode: str
    signals: tuple[str, ...]
    stations: list[dict[str, Any]]
    demand: dict[str, int]  # cell → workers
    covered: set[str]
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.demand.values())

    @property
    def covered_workers(self) -> int:
        return sum(n for c, n in self.demand.items() if c in self.covered)

    @property
    def gaps(self) -> list[tuple[str, int]]:
        """Uncovered cells with workers, most first."""
        return sorted(
            ((c, n) for c, n in self.demand.items() if c not in self.covered),
            key=lambda t: (-t[1], t[0]),
        )


def _paths_q(paths: list[str], prefix: str) -> Q:
    q = Q(pk__in=[])
    for p in paths:
        q |= Q(**{f"{prefix}__startswith": p})
    return q


def demand_points(
    *,
    paths: list[str],
    signals: tuple[str, ...],
    since: datetime,
) -> dict[str, list[tuple[float, float, int]]]:
    """signal → [(lat, lng, distinct workers)], each one GROUP BY."""
    out: dict[str, list[tuple[float, float, int]]] = {}
    if "registrations" in signals:
        through = WorkerProfile.areas.through
        # A worker counts once, at the first of their areas that has a centre.
        per_area: Any = (
            through.objects.filter(_paths_q(paths, "area__path"), area__center_lat__isnull=False)
            .values("area__center_lat", "area__center_lng")
            .annotate(n=Count("workerprofile", distinct=True))
            .order_by()
        )
        out["registrations"] = [
            (r["area__center_lat"], r["area__center_lng"], r["n"]) for r in per_area
        ]
    if "checkins" in signals:
        visits: Any = (
            ServiceRecord.objects.filter(
                _paths_q(paths, "station__area__path"),
                kind=ServiceRecord.Kind.CHECK_IN,
                at__gte=since,
            )
            .values("station__lat", "station__lng")
            .annotate(n=Count("worker", distinct=True))
            .order_by()
        )
        out["checkins"] = [(r["station__lat"], r["station__lng"], r["n"]) for r in visits if r["n"]]
    if "reports" in signals:
        reports: Any = (
            Problem.objects.filter(
                _paths_q(paths, "area__path"), created_at__gte=since, reporter__isnull=False
            )
            .annotate(rlat=Round("lat", 3), rlng=Round("lng", 3))
            .values("rlat", "rlng")
            .annotate(n=Count("reporter", distinct=True))
            .order_by()
        )
        out["reports"] = [(r["rlat"], r["rlng"], r["n"]) for r in reports]
    return out


def demand_cells(points: dict[str, list[tuple[float, float, int]]]) -> dict[str, int]:
    per_signal: dict[str, dict[str, int]] = {}
    for signal, rows in points.items():
        cells: dict[str, int] = defaultdict(int)
        for lat, lng, n in rows:
            cells[h3.latlng_to_cell(float(lat), float(lng), RESOLUTION)] += n
        per_signal[signal] = cells
    out: dict[str, int] = defaultdict(int)
    for cells in per_signal.values():
        for c, n in cells.items():
            out[c] = max(out[c], n)
    return dict(out)


def _ring(distance_m: float) -> int:
    """How many rings of cells around a cell reach `distance_m` (centres of neighbouring
    cells are √3 × edge apart; one ring more for the cell's own extent)."""
    spacing = h3.average_hexagon_edge_length(RESOLUTION, "m") * math.sqrt(3)
    return math.ceil(distance_m / spacing) + 1


def _within(lat: float, lng: float, distance_m: float, k: int) -> list[str]:
    origin = h3.latlng_to_cell(lat, lng, RESOLUTION)
    out = []
    for c in h3.grid_disk(origin, k):
        clat, clng = h3.cell_to_latlng(c)
        if geo.distance_m(lat, lng, clat, clng) <= distance_m:
            out.append(c)
    return out


def counting_stations(
    *, mode: str, bbox: tuple[float, float, float, float] | None, at: datetime | None = None
) -> list[dict[str, Any]]:
    """The stations that cover, in the box (min_lat, min_lng, max_lat, max_lng)."""
    qs = Station.objects.filter(is_active=True, temporarily_closed=False)
    if bbox is not None:
        qs = qs.filter(lat__gte=bbox[0], lng__gte=bbox[1], lat__lte=bbox[2], lng__lte=bbox[3])
    if mode == "h24":
        qs = qs.filter(is_24h=True)
    rows: list[dict[str, Any]]
    if mode == "open_now":
        at = at or timezone.now()
        today = timezone.localdate(at)
        stations = (
            qs.prefetch_related("hours")
            .prefetch_related("exceptions")
            .only("id", "name", "lat", "lng", "is_24h", "temporarily_closed")
        )
        rows = [
            {"id": s.pk, "name": s.name, "lat": s.lat, "lng": s.lng}
            for s in stations
            if schedule_of(
                s,
                s.hours.all(),
                [e for e in s.exceptions.all() if today - timedelta(days=1) <= e.date <= today],
            ).is_open(at)
        ]
    else:
        rows = [dict(r) for r in qs.values("id", "name", "lat", "lng")]
    return rows


def analyse(
    *,
    paths: list[str],
    distance_m: int = DISTANCE_DEFAULT,
    mode: str = "open_now",
    signals: tuple[str, ...] = SIGNALS,
    candidates: int = CANDIDATES_DEFAULT,
    at: datetime | None = None,
) -> Coverage:
    """The coverage of the workers in the areas under `paths` by the stations that count, and
    the ranked candidates for the next stations."""
    at = at or timezone.now()
    points = demand_points(paths=paths, signals=signals, since=at - timedelta(days=DAYS))
    demand = demand_cells(points)
    bbox = None
    if demand:
        lats = [h3.cell_to_latlng(c)[0] for c in demand]
        lngs = [h3.cell_to_latlng(c)[1] for c in demand]
        pad = geo.bbox(0, 0, distance_m + 1000)[2]  # degrees of latitude for the distance
        padlng = pad / max(math.cos(math.radians(max(abs(min(lats)), abs(max(lats))))), 0.1)
        bbox = (min(lats) - pad, min(lngs) - padlng, max(lats) + pad, max(lngs) + padlng)
    stations = counting_stations(mode=mode, bbox=bbox, at=at) if demand else []
    k = _ring(distance_m)
    covered: set[str] = set()
    for s in stations:
        covered.update(c for c in _within(s["lat"], s["lng"], distance_m, k) if c in demand)
    result = Coverage(
        distance_m=distance_m,
        mode=mode,
        signals=signals,
        stations=stations,
        demand=demand,
        covered=covered,
    )
    result.candidates = greedy(demand, covered, distance_m=distance_m, k=k, limit=candidates)
    return result


def greedy(
    demand: dict[str, int], covered: set[str], *, distance_m: float, k: int, limit: int
) -> list[Candidate]:
    """Greedy maximal covering with lazy evaluation (a candidate's gain only falls as others
    are chosen, so a stale heap top is re-scored and pushed back until the top is fresh)."""
    open_cells = {c: n for c, n in demand.items() if c not in covered and n > 0}
    reach: dict[str, list[str]] = {}
    for c in open_cells:
        lat, lng = h3.cell_to_latlng(c)
        reach[c] = [u for u in _within(lat, lng, distance_m, k) if u in open_cells]
    heap = [(-sum(open_cells[u] for u in cells), c) for c, cells in reach.items()]
    heapq.heapify(heap)
    done: set[str] = set()
    out: list[Candidate] = []
    total = 0
    while heap and len(out) < limit:
        neg, c = heapq.heappop(heap)
        gain = sum(open_cells[u] for u in reach[c] if u not in done)
        if gain <= 0:
            continue
        if heap and gain < -heap[0][0]:
            heapq.heappush(heap, (-gain, c))
            continue
        done.update(reach[c])
        total += gain
        lat, lng = h3.cell_to_latlng(c)
        out.append(
            Candidate(
                rank=len(out) + 1,
                cell=c,
                lat=round(lat, 6),
                lng=round(lng, 6),
                new_workers=gain,
                cumulative=total,
            )
        )
    return out


def area_of_cells(cells: list[str]) -> dict[str, str]:
    """The name of the nearest area centre (community or village) to each cell, for the list."""
    leaves: list[Any] = list(
        Area.objects.filter(center_lat__isnull=False, depth__gte=2).values_list(
            "name_zh", "center_lat", "center_lng"
        )
    )
    if not leaves:
        leaves = list(
            Area.objects.filter(center_lat__isnull=False).values_list(
                "name_zh", "center_lat", "center_lng"
            )
        )
    out: dict[str, str] = {}
    for c in cells:
        lat, lng = h3.cell_to_latlng(c)
        best = min(leaves, key=lambda a: geo.distance_m(lat, lng, a[1], a[2]), default=None)
        out[c] = best[0] if best else ""
    return out
