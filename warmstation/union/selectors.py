"""Reads: union figures by area (street/town) and by station, over the roll a user may see."""

from __future__ import annotations

from typing import TypedDict

from django.db.models import Count, QuerySet

from warmstation.areas.models import Area
from warmstation.union.models import Member, MembershipApplication


class AreaFigure(TypedDict):
    code: str
    name: str
    members: int


class StationFigure(TypedDict):
    station_id: int | None
    name: str
    members: int


def _street_of(path: str, streets: dict[str, Area]) -> Area | None:
    """The street or town (depth 1) an area path lies under."""
    parts = [p for p in path.split("/") if p]
    return streets.get(f"/{parts[0]}/{parts[1]}/") if len(parts) >= 2 else None


def figures_by_area(members: QuerySet[Member]) -> list[AreaFigure]:
    """Members by street/town (communities counted in their street), largest first."""
    streets = {a.path: a for a in Area.objects.filter(depth=1)}
    totals: dict[str, int] = {}
    for path, n in members.order_by().values_list("area__path").annotate(n=Count("id")):
        street = _street_of(path, streets)
        key = street.path if street else path
        totals[key] = totals.get(key, 0) + n
    out: list[AreaFigure] = []
    for key, n in totals.items():
        area = streets.get(key)
        out.append({"code": area.code if area else key.strip("/").split("/")[-1],
                    "name": area.name_zh if area else "房山区", "members": n})
    return sorted(out, key=lambda f: (-f["members"], f["code"]))


def figures_by_station(members: QuerySet[Member]) -> list[StationFigure]:
    rows = members.order_by().values_list("station_id", "station__name").annotate(n=Count("id"))
    return sorted(({"station_id": sid, "name": name or "", "members": n}
                   for sid, name, n in rows), key=lambda f: (-f["members"], f["name"]))


def figures(members: QuerySet[Member],
            applications: QuerySet[MembershipApplication]) -> dict[str, object]:
    by_status = dict(applications.order_by().values_list("status").annotate(n=Count("id")))
    return {"members": members.count(), "by_area": figures_by_area(members),
            "by_station": figures_by_station(members),
            "pending": by_status.get(MembershipApplication.Status.SUBMITTED, 0)}
