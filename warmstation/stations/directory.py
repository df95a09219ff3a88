"""The HSDS 3.0 documents of our stations, and the stations they describe: the builders of
every record /hsds/ serves (services, locations, schedules, organizations, taxonomies, terms,
attributes) and the cumulative filters over the published stations. The operations are in
stations/hsds.py; what each field means: docs/hsds.md."""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from warmstation.core.errors import InvalidInput, NotFound
from warmstation.core.time import LOCAL
from warmstation.stations.models import Amenity, ServiceItem, Station

NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://warmstation.example/hsds")
BYDAY = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
DEFAULT_OPERATOR = "房山区委改革办"
# Asia/Shanghai has no daylight saving: every opening time is at +08:00.
OFFSET = "+08:00"
# The description of a station that has none of its own: this text and its amenities.
OFFER_PREFIX = "为快递员、外卖骑手、网约车司机提供："
ORGANIZATION_NOTE = "（房山区37°C+暖心驿站服务体系成员单位）"

def _id(kind: str, key: Any) -> str:
    """A stable UUID for a record derived from one of ours (a location from its station …)."""
    return str(uuid.uuid5(NS, f"{kind}:{key}"))


def sal_id(public_id: Any) -> str:
    """The id of the service at location of the station with this public id."""
    return _id("service_at_location", public_id)


def _sid(station: Station) -> str:
    return str(station.public_id)


def _operator(station: Station) -> str:
    return station.operator or DEFAULT_OPERATOR


def prune(value: Any) -> Any:
    """The document without its absent values: HSDS types them as strings or numbers, so a
    value we do not have is left out (null would fail an importer's validation)."""
    if isinstance(value, dict):
        return {k: prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


# --- taxonomies ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Taxonomy:
    key: str
    term_kind: str  # the prefix of its terms' ids (and the attributes' link_type)
    name: str
    description: str


TAXONOMIES = {t.key: t for t in (
    Taxonomy("amenities", "amenity", "驿站设施 Station amenities",
             "驿站现场提供的设施（充电、饮用水、休息座椅……）。"
             "What a warm station offers on the spot (charging, drinking water, seats …)."),
    Taxonomy("service_items", "service_item", "服务项目 Service items",
             "服务项目清单：服务管家在驿站提供并登记的服务。"
             "The service-item list: services a station's steward gives and records."),
    Taxonomy("station_kinds", "station_kind", "驿站类型 Station kinds",
             "暖心驿站的类型（党群服务中心驿站、工会24小时暖心驿站、小哥加油站……）。"
             "The kind of warm station (party-mass centre, union 24-hour station, …)."),
)}
BY_TERM_KIND = {t.term_kind: t for t in TAXONOMIES.values()}


def tax_id(key: str) -> str:
    return _id("taxonomy", key)


def term_id(term_kind: str, code: str) -> str:
    return _id(term_kind, code)


def taxonomy(tax: Taxonomy, base: str) -> dict[str, Any]:
    tid = tax_id(tax.key)
    return {"id": tid, "name": tax.name, "description": tax.description,
            "uri": f"{base}/hsds/taxonomies/{tid}"}


@dataclass(frozen=True)
class Term:
    term_kind: str
    code: str
    name_zh: str
    name_en: str

    @property
    def id(self) -> str:
        return term_id(self.term_kind, self.code)

    @property
    def taxonomy(self) -> Taxonomy:
        return BY_TERM_KIND[self.term_kind]


def _kind_term(code: str) -> Term:
    label = Station.Kind(code).label
    with translation.override("en"):
        english = str(label)
    with translation.override("zh-hans"):
        chinese = str(label)
    return Term("station_kind", code, chinese, english)


def _amenity_term(a: Amenity) -> Term:
    return Term("amenity", a.code, a.name_zh, a.name_en)


def _service_item_term(s: ServiceItem) -> Term:
    return Term("service_item", s.code, s.name_zh, s.name_en)


def all_terms() -> list[Term]:
    """Every term of the three taxonomies: the managed lists of amenities and service items
    (two queries) and the station kinds (code)."""
    return ([_amenity_term(a) for a in Amenity.objects.all()]
            + [_service_item_term(s) for s in ServiceItem.objects.all()]
            + [_kind_term(code) for code in Station.Kind.values])


def term(t: Term, base: str) -> dict[str, Any]:
    description = t.name_zh if not t.name_en or t.name_en == t.name_zh else \
        f"{t.name_zh} {t.name_en}"
    return {"id": t.id, "code": t.code, "name": t.name_zh, "description": description,
            "taxonomy": t.taxonomy.name, "taxonomy_id": tax_id(t.taxonomy.key),
            "taxonomy_detail": taxonomy(t.taxonomy, base), "language": "zh",
            "term_uri": f"{base}/hsds/taxonomy_terms/{t.id}"}


def _station_terms(station: Station) -> list[Term]:
    return ([_amenity_term(a) for a in station.amenities.all()]
            + [_service_item_term(s) for s in station.services.all()]
            + [_kind_term(station.kind)])


def attributes(station: Station, base: str) -> list[dict[str, Any]]:
    """The station's service classified: one attribute per amenity, service item and its kind,
    each resolving to a term of /hsds/taxonomy_terms."""
    out = []
    for t in _station_terms(station):
        # An amenity's attribute kept the id it had before the other taxonomies were added.
        key = f"{station.pk}:{t.code}" if t.term_kind == "amenity" else \
            f"{station.pk}:{t.term_kind}:{t.code}"
        out.append({"id": _id("attribute", key), "link_id": _sid(station),
                    "link_type": t.term_kind, "link_entity": "service",
                    "taxonomy_term_id": t.id, "taxonomy_term": term(t, base)})
    return out


# --- records ------------------------------------------------------------------------------------

def organization(name: str) -> dict[str, Any]:
    return {"id": _id("organization", name), "name": name,
            "description": f"{name}{ORGANIZATION_NOTE}"}


def schedules(station: Station, **link: str) -> list[dict[str, Any]]:
    base = {"timezone": 8, "wkst": "MO", "freq": "WEEKLY", "interval": 1,
            "attending_type": "in person", **link}
    if station.is_24h:
        return [{**base, "id": _id("schedule", f"{station.pk}:24h"),
                 "byday": ",".join(BYDAY), "opens_at": f"00:00{OFFSET}",
                 "closes_at": f"23:59{OFFSET}", "description": "24小时开放 Open 24 hours"}]
    out = []
    for h in station.hours.all():
        overnight = h.closes <= h.opens
        out.append({**base, "id": _id("schedule", f"{station.pk}:{h.pk}"),
                    "byday": BYDAY[h.weekday], "opens_at": f"{h.opens:%H:%M}{OFFSET}",
                    "closes_at": f"{h.closes:%H:%M}{OFFSET}",
                    "description": "营业至次日 Closes the next day" if overnight else None})
    return out


def _phones(station: Station, **link: str) -> list[dict[str, Any]]:
    if not station.phone:
        return []
    return [{"id": _id("phone", station.pk), "number": station.phone, "type": "voice",
             "description": "服务管家 Steward", "languages": [], **link}]


def location(station: Station, *, full: bool) -> dict[str, Any]:
    lid = _id("location", station.public_id)
    out: dict[str, Any] = {
        "id": lid, "location_type": "physical",
        "organization_id": _id("organization", _operator(station)), "name": station.name,
        "description": station.get_kind_display(), "latitude": round(station.lat, 7),
        "longitude": round(station.lng, 7), "external_identifier": str(station.pk),
        "external_identifier_type": "warmstation station id",
    }
    if full:
        out |= {
            "addresses": [{
                "id": _id("address", station.pk), "location_id": lid,
                "address_1": station.address, "city": "北京市", "region": station.area.name_zh,
                "state_province": "北京市", "postal_code": "102400", "country": "CN",
                "address_type": "physical",
            }],
            "phones": _phones(station, location_id=lid),
            "languages": [{"id": _id("language", station.pk), "location_id": lid,
                           "name": "Chinese", "code": "zh"}],
            "accessibility": [], "contacts": [], "schedules": [], "attributes": [],
        }
    return out


def status_of(station: Station) -> str:
    if not station.is_active:
        return "inactive"
    return "temporarily closed" if station.temporarily_closed else "active"


def _description(station: Station) -> str:
    return station.description or OFFER_PREFIX + "、".join(
        a.name_zh for a in station.amenities.all())


def service(station: Station, *, full: bool, base: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": _sid(station),
        "organization_id": _id("organization", _operator(station)),
        "name": station.name, "alternate_name": station.get_kind_display(),
        "description": _description(station),
        "url": f"{base}/stations/{station.pk}/", "status": status_of(station),
        "application_process": "直接到站，扫码签到 Walk in and scan the station's code",
        "fees_description": "免费 Free", "eligibility_description":
        "新就业群体（快递员、外卖骑手、网约车司机） New-employment workers",
        "alert": station.closed_note or None,
        "last_modified": station.updated_at.astimezone(LOCAL).isoformat(),
        "organization": organization(_operator(station)),
    }
    if full:
        out |= {
            "phones": _phones(station, service_id=out["id"]), "schedules": [],
            "service_at_locations": [service_at_location(station, full=True, base=base,
                                                         with_service=False)],
            "contacts": [{"id": _id("contact", c.pk), "service_id": out["id"], "name": c.name,
                          "title": c.role,
                          "phones": [{"id": _id("contact-phone", c.pk),
                                      "contact_id": _id("contact", c.pk), "number": c.phone}]}
                         for c in station.contacts.all()],
            "attributes": attributes(station, base),
            "languages": [], "service_areas": [], "funding": [], "cost_options": [],
            "required_documents": [],
        }
    return out


def service_at_location(station: Station, *, full: bool, base: str,
                        with_service: bool = True) -> dict[str, Any]:
    sal_id = _id("service_at_location", station.public_id)
    out: dict[str, Any] = {"id": sal_id, "service_id": _sid(station),
                           "location_id": _id("location", station.public_id),
                           "location": location(station, full=full)}
    if with_service:
        out["service"] = service(station, full=False, base=base)
    if full:
        out |= {"schedules": schedules(station, service_at_location_id=sal_id),
                "contacts": [], "phones": [], "attributes": []}
    return out


def page(items: list, total: int, number: int, per_page: int) -> dict[str, Any]:
    pages = max(1, math.ceil(total / per_page))
    return {"total_items": total, "total_pages": pages, "page_number": number,
            "size": len(items), "first_page": number == 1, "last_page": number >= pages,
            "empty": total == 0, "contents": prune(items)}


def base_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def chunk(items, number: int, per_page: int):
    return items[(number - 1) * per_page: number * per_page]


# --- selection ----------------------------------------------------------------------------------

def _utc(moment: datetime) -> datetime:
    """`moment` in UTC: Python accepts offsets up to ±23:59, PostgreSQL only up to ±15:59, so
    `2026-01-01T00:00-16:06` must not reach the database as written."""
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidInput(_("时间超出范围。"), code="out_of_range",
                           field="modified_after") from None


def _published() -> QuerySet[Station]:
    return Station.objects.filter(is_active=True).select_related("area").prefetch_related(
        "hours", "amenities", "contacts", "services").order_by("pk")


def matches(text: str, *values: str) -> bool:
    folded = text.casefold()
    return any(folded in v.casefold() for v in values if v)


def _search(text: str) -> Q:
    """Names (the station's and its kind's), descriptions (its own, or the generated one of
    its amenities) and addresses (street or town included), Chinese or English."""
    kinds = [k for k in Station.Kind.values if matches(text, *_kind_names(k))]
    amenity_of = Station.amenities.through.objects.filter(
        Q(amenity__name_zh__icontains=text) | Q(amenity__name_en__icontains=text)
    ).values("station_id")
    cond = (Q(name__icontains=text) | Q(description__icontains=text)
            | Q(address__icontains=text) | Q(area__name_zh__icontains=text)
            | Q(area__name_en__icontains=text) | Q(kind__in=kinds)
            | Q(description="", pk__in=amenity_of))
    if matches(text, OFFER_PREFIX):
        cond |= Q(description="")
    return cond


def _kind_names(code: str) -> tuple[str, str]:
    t = _kind_term(code)
    return t.name_zh, t.name_en


def _term_filter(value: str) -> Q | None:
    """The stations a term classifies; None for a term nobody publishes."""
    for t in all_terms():
        if t.id == value:
            if t.term_kind == "amenity":
                return Q(pk__in=Station.amenities.through.objects.filter(
                    amenity__code=t.code).values("station_id"))
            if t.term_kind == "service_item":
                return Q(pk__in=Station.services.through.objects.filter(
                    serviceitem__code=t.code).values("station_id"))
            return Q(kind=t.code)
    return None


def _taxonomy_filter(value: str) -> Q | None:
    """The stations with any term of the taxonomy; None for an unknown taxonomy."""
    key = next((k for k in TAXONOMIES if tax_id(k) == value), None)
    if key == "amenities":
        return Q(pk__in=Station.amenities.through.objects.values("station_id"))
    if key == "service_items":
        return Q(pk__in=Station.services.through.objects.values("station_id"))
    if key == "station_kinds":
        return Q()
    return None


def operators() -> dict[str, str]:
    """Organization id → the operator name it stands for, over the published stations."""
    names = {s or DEFAULT_OPERATOR for s in Station.objects.filter(is_active=True)
             .values_list("operator", flat=True).distinct()}
    return {_id("organization", n): n for n in names}


def selected_stations(*, search: str | None = None, organization_id: str | None = None,
              modified_after: datetime | None = None, taxonomy_term_id: str | None = None,
              taxonomy_id: str | None = None) -> QuerySet[Station]:
    """The published stations, filtered cumulatively (HSDS: every filter given must hold; an
    id nobody holds selects nothing)."""
    qs = _published()
    if search:
        qs = qs.filter(_search(search))
    if modified_after:
        qs = qs.filter(updated_at__gte=_utc(modified_after))
    if organization_id is not None:
        name = operators().get(organization_id)
        if name is None:
            return qs.none()
        qs = qs.filter(Q(operator=name) | Q(operator="")) if name == DEFAULT_OPERATOR \
            else qs.filter(operator=name)
    for value, make in ((taxonomy_term_id, _term_filter), (taxonomy_id, _taxonomy_filter)):
        if value is not None:
            cond = make(value)
            if cond is None:
                return qs.none()
            qs = qs.filter(cond)
    return qs


# --- single records and organizations -------------------------------------------------------

def published_station(value: str) -> Station:
    try:
        public_id = uuid.UUID(value)
    except (ValueError, AttributeError):
        raise NotFound() from None
    station = _published().filter(public_id=public_id).first()
    if station is None:
        raise NotFound()
    return station


def organization_full(name: str, stations: Iterable[Station], *, full_service: bool,
                       base: str) -> dict[str, Any]:
    stations = list(stations)
    return {**organization(name),
            "locations": [location(s, full=True) for s in stations],
            "phones": [], "contacts": [], "funding": [], "programs": [],
            "organization_identifiers": [], "attributes": [],
            # The operation promises a service array (3.0 OpenAPI, getOrganizationById): ids,
            # names and status, or the fully nested services with full_service=true.
            "services": [service(s, full=True, base=base) if full_service else
                         {"id": _sid(s), "name": s.name, "status": status_of(s)}
                         for s in stations]}


def stations_by_operator(names: Iterable[str]) -> dict[str, list[Station]]:
    wanted = set(names)
    qs = _published().filter(Q(operator__in=wanted) | (
        Q(operator="") if DEFAULT_OPERATOR in wanted else Q(pk__in=[])))
    grouped: dict[str, list[Station]] = defaultdict(list)
    for s in qs:
        grouped[_operator(s)].append(s)
    return grouped
