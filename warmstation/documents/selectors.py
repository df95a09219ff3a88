"""What a service card says, read from live data: the area's contact lines (the nearest of each
kind up its chain, areas.selectors.area_card), the nearest stations (party-mass service centres
first), and the address of the area's live page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from warmstation.areas.models import Area
from warmstation.areas.selectors import area_ancestors, area_card
from warmstation.stations.models import Amenity, ServiceItem, Station
from warmstation.stations.selectors import station_nearby

if TYPE_CHECKING:
    from warmstation.documents.handbook import HandbookData

STATIONS_ON_CARD = 4
NEAR_M = 5000


@dataclass(frozen=True)
class CardLine:
    kind: str
    label: str
    name: str
    phone: str
    address: str = ""
    hours: str = ""


@dataclass(frozen=True)
class CardStation:
    name: str
    kind: str
    address: str
    phone: str
    is_24h: bool
    distance_m: int | None


@dataclass(frozen=True)
class CardData:
    area_code: str
    area_name: str  # "拱辰街道 · 伊林郡社区"
    lines: list[CardLine]
    stations: list[CardStation] = field(default_factory=list)
    url: str = ""
    as_of: date | None = None


def card_url(area: Area) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/cards/{area.code}/"


def _centre(area: Area) -> tuple[float, float] | None:
    for a in area_ancestors(area):  # the area's own centre, else the nearest above it
        if a.center_lat is not None and a.center_lng is not None:
            return a.center_lat, a.center_lng
    return None


def card_stations(area: Area) -> list[CardStation]:
    """The stations nearest the area's centre (party-mass service centres first among equals);
    without a centre, the area's own stations."""
    centre = _centre(area)
    if centre is not None:
        found = station_nearby(lat=centre[0], lng=centre[1], radius_m=NEAR_M,
                               limit=STATIONS_ON_CARD * 3)
        rows = [(r["station"], round(r["distance_m"])) for r in found]
        rows.sort(key=lambda r: (r[0].kind not in ("party_mass", "service_centre"), r[1]))
        return [CardStation(s.name, s.get_kind_display(), s.address, s.phone, s.is_24h, d)
                for s, d in rows[:STATIONS_ON_CARD]]
    stations = Station.objects.filter(is_active=True, area__path__startswith=area.path) \
        .order_by("-kind", "name")[:STATIONS_ON_CARD]
    return [CardStation(s.name, s.get_kind_display(), s.address, s.phone, s.is_24h, None)
            for s in stations]


def card_data(area: Area) -> CardData:
    chain = area_ancestors(area)
    names = [a.name_zh for a in reversed(chain) if a.level != Area.Level.DISTRICT]
    lines = [CardLine(c.kind, str(c.get_kind_display()), c.name, c.phone, c.address, c.hours)
             for c in area_card(area)]
    return CardData(area_code=area.code, area_name=" · ".join(names) or area.name_zh,
                    lines=lines, stations=card_stations(area), url=card_url(area),
                    as_of=timezone.localdate())


# --- the handbook of a street ------------------------------------------------------------------

WEEKDAYS = "一二三四五六日"
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _english() -> bool:
    return (translation.get_language() or "").startswith("en")


def _name(item: ServiceItem | Amenity) -> str:
    """A service item's or amenity's name in the active language (their English names are
    data, kept beside the Chinese ones)."""
    return str(item.name_en if _english() and item.name_en else item.name_zh)


def _hours_text(station: Station) -> str:
    if station.is_24h:
        return _("24小时开放")
    by_span: dict[str, list[int]] = {}
    for h in station.hours.all():
        by_span.setdefault(f"{h.opens:%H:%M}–{h.closes:%H:%M}", []).append(h.weekday)
    if not by_span:
        return _("请电话咨询")
    parts = []
    for span, days in by_span.items():
        days = sorted(set(days))
        if len(days) == 7:
            label = _("每天")
        elif _english():
            label = ", ".join(WEEKDAYS_EN[d] for d in days)
        else:
            label = "周" + "、".join(WEEKDAYS[d] for d in days)
        parts.append(f"{label} {span}")
    return _("；").join(parts)


def _yuan(amount: Decimal) -> str:
    return f"{amount.normalize():f}"


def handbook_street(area: Area) -> Area | None:
    """The street (or town) an area belongs to: the handbook is per street."""
    for a in area_ancestors(area):
        if a.level in (Area.Level.STREET, Area.Level.TOWN, Area.Level.TOWNSHIP, Area.Level.AREA):
            return a
    return None


def handbook_data(street: Area) -> HandbookData:
    from warmstation.benefits.models import Merchant
    from warmstation.documents.handbook import HandbookData, HandbookPartner, HandbookStation

    stations = Station.objects.filter(is_active=True, area__path__startswith=street.path) \
        .prefetch_related("hours", "services", "amenities").order_by("area__path", "name", "pk")
    partners = Merchant.objects.filter(is_active=True, area__path__startswith=street.path) \
        .prefetch_related("offers").order_by("area__path", "name", "pk")
    rows = [HandbookStation(
        number=i, name=s.name, kind=s.get_kind_display(), address=s.address, lat=s.lat,
        lng=s.lng, hours=_hours_text(s), phone=s.phone, operator=s.operator,
        services=[_name(x) for x in s.services.all()],
        amenities=[_name(x) for x in s.amenities.all()])
        for i, s in enumerate(stations, start=1)]
    start = len(rows) + 1
    partner_rows = []
    for i, m in enumerate(partners, start=start):
        offers = []
        for o in m.offers.all():
            if not o.is_active:
                continue
            price = " " + _("%(yuan)s元") % {"yuan": _yuan(o.price)} \
                if o.price is not None else ""
            normal = _("（原价%(yuan)s元）") % {"yuan": _yuan(o.normal_price)} \
                if o.normal_price is not None else ""
            points = " " + _("%(n)s积分") % {"n": o.points} if o.points else ""
            offers.append(f"{o.title}{price}{normal}{points}".strip())
        partner_rows.append(HandbookPartner(
            number=i, name=m.name, kind=m.get_kind_display(), address=m.address, lat=m.lat,
            lng=m.lng, hours=f"{m.opens:%H:%M}–{m.closes:%H:%M}", contact_name=m.contact_name,
            phone=m.phone, offers=offers))
    return HandbookData(street_code=street.code, street_name=street.name_zh,
                        as_of=timezone.localdate(),
                        url=f"{settings.PUBLIC_BASE_URL.rstrip('/')}/stations/",
                        stations=rows, partners=partner_rows)
