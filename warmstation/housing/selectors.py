"""Reads: a flat's calendar (which nights are taken — never by whom), the desk's bookings, the
survey's aggregates (suppressed below a minimum group size), the resources' figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from warmstation.accounts.models import Brand, WorkerProfile
from warmstation.areas.models import Area
from warmstation.core.suppression import MIN_GROUP, protect
from warmstation.housing.models import Booking, Flat, FlatNight, RentalApplication, Resource, Survey

CALENDAR_DAYS_MAX = 120


@dataclass(frozen=True)
class Night:
    day: date
    taken: bool
    past: bool


def flat_taken_nights(flat: Flat, start: date, end: date) -> set[date]:
    return set(FlatNight.objects.filter(flat=flat, night__gte=start, night__lt=end)
               .values_list("night", flat=True))


def flat_calendar(flat: Flat, *, start: date | None = None, days: int = 56) -> list[Night]:
    """The nights start .. start + days - 1 (at most CALENDAR_DAYS_MAX), each taken or free."""
    today = timezone.localdate()
    start = start or today
    days = max(1, min(days, CALENDAR_DAYS_MAX))
    taken = flat_taken_nights(flat, start, start + timedelta(days=days))
    return [Night(day=d, taken=d in taken, past=d < today)
            for d in (start + timedelta(days=i) for i in range(days))]


def calendar_weeks(nights: list[Night]) -> list[list[Night | None]]:
    """The nights laid out Monday-first in weeks (None pads the first and last week)."""
    if not nights:
        return []
    cells: list[Night | None] = [None] * nights[0].day.weekday() + list(nights)
    cells += [None] * (-len(cells) % 7)
    return [cells[i:i + 7] for i in range(0, len(cells), 7)]


def desk_bookings(bookings: QuerySet[Booking], *, upcoming: bool = True) -> QuerySet[Booking]:
    """The bookings a desk works on: those still holding nights, soonest first; or all."""
    if upcoming:
        return bookings.filter(status__in=(Booking.Status.BOOKED, Booking.Status.CHECKED_IN)) \
            .order_by("check_in", "id")
    return bookings.order_by("-check_in", "-id")


# --- the housing survey: aggregates that never single anyone out ---------------------------------

# The threshold and the complementary suppression are shared with the district dashboard
# (core/suppression.py); re-exported here for the survey's callers and tests.
SURVEY_DIMENSIONS = ("area", "brand", "job_type")


def _street_key(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    return parts[1] if len(parts) >= 2 else parts[0]


def _cell(key: str, label: str, row: dict[str, int]) -> dict[str, Any]:
    n = row["n"]
    if n < MIN_GROUP:
        return {"key": key, "label": label, "count": None, "suppressed": True,
                "avg_rent": None, "avg_commute": None, "housing": {}, "needs": {}}
    housing = protect({h: row[f"h_{h}"] for h in Survey.Housing.values}, total=n)
    return {"key": key, "label": label, "count": n, "suppressed": False,
            "avg_rent": round(row["rent_sum"] / row["rent_n"]) if row["rent_n"] >= MIN_GROUP
            else None,
            "avg_commute": round(row["commute_sum"] / n),
            "housing": housing,
            "needs": {k: (None if 0 < row[k] < MIN_GROUP else row[k]) for k in Survey.NEEDS}}


def survey_figures(surveys: QuerySet[Survey], *, by: str = "area") -> dict[str, Any]:
    """The survey's aggregates over `surveys` (already scoped to the viewer), broken down by
    street/town, brand or job type, each group suppressed below MIN_GROUP and complemented so
    that no hidden group can be had by subtracting the shown ones from the total."""
    if by not in SURVEY_DIMENSIONS:
        by = "area"
    field = {"area": "area__path", "brand": "brand__code", "job_type": "job_type"}[by]
    metrics = {"n": Count("id"), "rent_sum": Sum("rent"), "rent_n": Count("rent"),
               "commute_sum": Sum("commute_minutes"),
               **{f"h_{h}": Count("id", filter=Q(housing=h)) for h in Survey.Housing.values},
               **{k: Count("id", filter=Q(**{k: True})) for k in Survey.NEEDS}}
    groups: dict[str, dict[str, int]] = {}
    for row in surveys.order_by().values(field).annotate(**metrics):
        raw = row.pop(field) or ""
        key = _street_key(raw) if by == "area" and raw else (raw or "none")
        into = groups.setdefault(key, dict.fromkeys(metrics, 0))
        for k in metrics:
            into[k] += row[k] or 0
    total_row = {k: sum(g[k] for g in groups.values()) for k in (metrics if groups else {})}
    total = _cell("all", "", total_row) if groups else None
    labels = _labels(by, list(groups))
    cells = [_cell(k, labels.get(k, k), g) for k, g in sorted(groups.items())]
    shown_total = total["count"] if total else None
    visible = protect({c["key"]: groups[c["key"]]["n"] for c in cells}, total=shown_total)
    for c in cells:
        if visible[c["key"]] is None and not c["suppressed"]:
            c.update(count=None, suppressed=True, avg_rent=None, avg_commute=None, housing={},
                     needs={})
    if total is not None and total["suppressed"]:
        for c in cells:
            c.update(count=None, suppressed=True, avg_rent=None, avg_commute=None, housing={},
                     needs={})
    return {"by": by, "min_group": MIN_GROUP, "total": total, "cells": cells}


def _labels(by: str, keys: list[str]) -> dict[str, str]:
    if by == "area":
        return dict(Area.objects.filter(code__in=keys).values_list("code", "name_zh"))
    if by == "brand":
        return dict(Brand.objects.filter(code__in=keys).values_list("code", "name_zh"))
    return {k: str(label) for k, label in WorkerProfile.JobType.choices}


# --- housing resources and rental intentions: figures by area ---------------------------------

def resource_figures(resources: QuerySet[Resource],
                     applications: QuerySet[RentalApplication]) -> list[dict[str, Any]]:
    """By street/town: resources, rooms, beds, available, applications open, intentions
    signed."""
    rows: dict[str, dict[str, Any]] = {}

    def row(path: str) -> dict[str, Any]:
        key = _street_key(path)
        return rows.setdefault(key, {"code": key, "resources": 0, "rooms": 0, "beds": 0,
                                     "available": 0, "open": 0, "signed": 0})

    for path, n, rooms, beds, available in resources.order_by().values_list("area__path") \
            .annotate(n=Count("id"), r=Sum("rooms"), b=Sum("beds"), a=Sum("available")):
        r = row(path)
        r["resources"] += n
        r["rooms"] += rooms or 0
        r["beds"] += beds or 0
        r["available"] += available or 0
    open_states = (RentalApplication.Status.SUBMITTED, RentalApplication.Status.REVIEWING,
                   RentalApplication.Status.VIEWING)
    for path, status, n in applications.order_by().values_list(
            "resource__area__path", "status").annotate(n=Count("id")):
        r = row(path)
        if status in open_states:
            r["open"] += n
        elif status == RentalApplication.Status.SIGNED:
            r["signed"] += n
    names = dict(Area.objects.filter(code__in=list(rows)).values_list("code", "name_zh"))
    return sorted(({**r, "name": names.get(r["code"], r["code"])} for r in rows.values()),
                  key=lambda r: r["code"])
