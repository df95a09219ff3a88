"""A street geocoder for Open311's `address_string`, from the district's own data: the names of
its areas (streets, towns, townships, communities, villages; Chinese and English, with and
without 街道/社区/镇/… — e.g. 拱辰, Gongchen Subdistrict) and the names and addresses of its
stations. No outside service is asked (district networks often have no internet; an address is
personal data).

Both sides are normalised the same way: NFKC (full-width letters, digits and spaces become
ASCII), lower case, and without spacing or punctuation (“拱辰街道　伊林郡 社区”, “行宫西街１号院”).
A station's name or address found in the text places the request at the station; otherwise the
deepest area named does (its centre, or the nearest centre above it). A name found only inside a
longer name that also matched (窦店 inside 窦店镇) does not count. Naming only the district, or
nothing we know, is refused: a report placed at the district's centre would reach nobody."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from warmstation.areas.models import Area
from warmstation.core.errors import InvalidInput
from warmstation.stations.selectors import station_places

_NOISE = re.compile(r"[\s\u3000·・,，。.、:：;；()（）\[\]【】\"'“”‘’\-—_/#]+")
SUFFIXES = (
    "街道办事处",
    "街道",
    "社区居委会",
    "社区",
    "地区",
    "镇",
    "乡",
    "村",
    "subdistrict",
    "community",
    "township",
    "town",
    "village",
    "area",
    "district",
)
# Parts of an address that name no place of ours by themselves.
PREFIXES = ("中国", "北京市", "北京", "china", "beijing")
MIN_ALIAS = 2  # a shortened name of fewer characters (镇, 村) would match anything


def normalise(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text or "").lower())


def _strip_prefixes(text: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in PREFIXES:
            if text.startswith(prefix) and len(text) > len(prefix):
                text, changed = text[len(prefix) :], True
    return text


def _aliases(*names: str) -> set[str]:
    out = set()
    for name in names:
        n = normalise(name)
        if not n:
            continue
        out.add(n)
        for suffix in SUFFIXES:
            if n.endswith(suffix) and len(n) - len(suffix) >= MIN_ALIAS:
                out.add(n[: -len(suffix)])
                break
    return out


@dataclass(frozen=True)
class Place:
    lat: float
    lng: float
    area: Area
    matched: str  # what was recognised: an area's or a station's name or address
    kind: str  # "station" or "area"


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    area: Area

    def inside(self, other: _Hit) -> bool:
        return (
            other.area.pk != self.area.pk
            and other.start <= self.start
            and self.end <= other.end
            and (other.end - other.start) > (self.end - self.start)
        )


def _area_hits(text: str, areas: list[Area]) -> list[_Hit]:
    hits = []
    for area in areas:
        for alias in _aliases(area.name_zh, area.name_en):
            start = text.find(alias)
            if start >= 0:
                hits.append(_Hit(start, start + len(alias), area))
    # 窦店 (the village) inside 窦店镇 (the town) is the town's name, not the village's.
    return [h for h in hits if not any(h.inside(o) for o in hits)]


def _centre(area: Area, by_id: dict[int, Area]) -> tuple[float, float] | None:
    node: Area | None = area
    while node is not None:
        if node.center_lat is not None and node.center_lng is not None:
            return node.center_lat, node.center_lng
        node = by_id.get(node.parent_id) if node.parent_id else None
    return None


def _unknown(what: str) -> InvalidInput:
    """Open311 shows it as "address_string: <what>; name …" (the field, then the message)."""
    return InvalidInput(
        f"{what}; name a street, town, community or station of Fangshan district, or send lat "
        "and long (WGS-84) or an address_id",
        f"{what}; name a street, town, community or station of Fangshan district, or send lat "
        "and long (WGS-84) or an address_id",
        code="unknown_address",
        field="address_string",
    )


def geocode(address: str) -> Place:
    """Where `address` is, by the district's own data; InvalidInput (400 in Open311) if it
    names nothing more precise than the district."""
    text = _strip_prefixes(normalise(address))
    if not text:
        raise _unknown("empty")
    areas = list(Area.objects.all())
    by_id = {a.pk: a for a in areas}
    hits = _area_hits(text, areas)
    named = [h.area for h in hits if h.area.level != Area.Level.DISTRICT]
    best_station = None
    for name, street_address, lat, lng, area_id in station_places():
        area = by_id.get(area_id)
        if area is None:
            continue
        # A station elsewhere than the areas the text names is not the place meant.
        if named and not any(
            area.path.startswith(a.path) or a.path.startswith(area.path) for a in named
        ):
            continue
        for key in (normalise(name), _strip_prefixes(normalise(street_address))):
            for candidate in {key, _strip_prefixes(key.removeprefix("房山区"))}:
                if (
                    len(candidate) >= 4
                    and candidate in text
                    and (best_station is None or len(candidate) > len(best_station[0]))
                ):
                    best_station = (candidate, lat, lng, area, name)
    if best_station is not None:
        _key, lat, lng, area, name = best_station
        return Place(lat=lat, lng=lng, area=area, matched=name, kind="station")
    if not named:
        if hits:
            raise _unknown("names only the district, not where in it")
        raise _unknown("names no place we know")

    def rank(area: Area) -> tuple[int, int, int]:
        agreeing = sum(1 for other in named if area.path.startswith(other.path))
        return agreeing, area.depth, len(area.name_zh)

    area = max(named, key=rank)
    centre = _centre(area, by_id)
    if centre is None:
        raise _unknown(f"{area.name_zh} has no known location")
    return Place(lat=centre[0], lng=centre[1], area=area, matched=area.name_zh, kind="area")
