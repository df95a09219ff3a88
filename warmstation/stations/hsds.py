"""Open Referral HSDS 3.0 read API at /hsds/: our warm stations as services (the station's
offer to workers) at locations (the station's place) with weekly schedules, provided by
organizations (the station's operator: 区总工会, 团区委 …), so other service directories can
import them. A service's id is the station's public UUID; the ids of the records derived from
it (location, schedules …) are uuid5 of that, so they are stable across exports."""

import math
import uuid
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router

from warmstation.core.errors import InvalidInput, NotFound
from warmstation.core.schemas import Moment, ProblemOut
from warmstation.stations.models import Station

NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://warmstation.example/hsds")
BYDAY = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
DEFAULT_OPERATOR = "房山区委改革办"

# Mounted on its own NinjaAPI at /hsds/ by config/hsds.py (the API instances live in config).
router = Router()


def _id(kind: str, key) -> str:
    """A stable UUID for a record derived from one of ours (a location from its station …)."""
    return str(uuid.uuid5(NS, f"{kind}:{key}"))


def _sid(station: Station) -> str:
    return str(station.public_id)


def _operator(station: Station) -> str:
    return station.operator or DEFAULT_OPERATOR


def organization(name: str) -> dict:
    return {"id": _id("organization", name), "name": name, "alternate_name": None,
            "description": f"{name}（房山区37°C+暖心驿站服务体系成员单位）", "email": None,
            "website": None, "additional_websites": [], "tax_status": None, "tax_id": None,
            "year_incorporated": None, "legal_status": None, "logo": None, "uri": None,
            "parent_organization_id": None}


def schedules(station: Station, **link) -> list[dict]:
    base = {"valid_from": None, "valid_to": None, "dtstart": None, "timezone": 8,
            "until": None, "count": None, "wkst": "MO", "freq": "WEEKLY", "interval": 1,
            "byweekno": None, "bymonthday": None, "byyearday": None, "schedule_link": None,
            "attending_type": "in person", "notes": None, **link}
    if station.is_24h:
        return [{**base, "id": _id("schedule", f"{station.pk}:24h"),
                 "byday": ",".join(BYDAY), "opens_at": "00:00", "closes_at": "23:59",
                 "description": "24小时开放 Open 24 hours"}]
    out = []
    for h in station.hours.all():
        overnight = h.closes <= h.opens
        out.append({**base, "id": _id("schedule", f"{station.pk}:{h.pk}"),
                    "byday": BYDAY[h.weekday], "opens_at": f"{h.opens:%H:%M}",
                    "closes_at": f"{h.closes:%H:%M}",
                    "description": "营业至次日 Closes the next day" if overnight else None})
    return out


def location(station: Station) -> dict:
    return {
        "id": _id("location", station.public_id), "location_type": "physical", "url": None,
        "organization_id": _id("organization", _operator(station)), "name": station.name,
        "alternate_name": None, "description": station.get_kind_display(),
        "transportation": None, "latitude": round(station.lat, 7),
        "longitude": round(station.lng, 7), "external_identifier": str(station.pk),
        "external_identifier_type": "warmstation station id",
        "addresses": [{
            "id": _id("address", station.pk), "location_id": _id("location", station.public_id),
            "attention": None, "address_1": station.address, "address_2": None,
            "city": "北京市", "region": station.area.name_zh, "state_province": "北京市",
            "postal_code": "102400", "country": "CN", "address_type": "physical",
        }],
        "phones": _phones(station),
        "accessibility": [], "languages": [{"id": _id("language", station.pk),
                                            "name": "Chinese", "code": "zh", "note": None}],
    }


def _phones(station: Station) -> list[dict]:
    if not station.phone:
        return []
    return [{"id": _id("phone", station.pk), "number": station.phone, "extension": None,
             "type": "voice", "description": "服务管家 Steward",
             "languages": [], "service_id": _sid(station)}]


def _status(station: Station) -> str:
    if not station.is_active:
        return "inactive"
    return "temporarily closed" if station.temporarily_closed else "active"


def service(station: Station, *, full: bool, base: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": _sid(station),
        "organization_id": _id("organization", _operator(station)), "program_id": None,
        "name": station.name, "alternate_name": station.get_kind_display(),
        "description": station.description or
        "为快递员、外卖骑手、网约车司机提供：" + "、".join(a.name_zh for a in station.amenities.all()),
        "url": f"{base}/stations/{station.pk}/", "email": None, "status": _status(station),
        "interpretation_services": None, "application_process": "直接到站，扫码签到",
        "fees_description": "免费 Free", "accreditations": None, "eligibility_description":
        "新就业群体（快递员、外卖骑手、网约车司机） New-employment workers",
        "minimum_age": None, "maximum_age": None, "assured_date": None, "assurer_email": None,
        "alert": station.closed_note or None, "last_modified": station.updated_at.isoformat(),
    }
    if full:
        sal_id = _id("service_at_location", station.public_id)
        out |= {
            "phones": _phones(station), "schedules": [],
            "organization": organization(_operator(station)),
            "service_at_locations": [{
                "id": sal_id, "service_id": out["id"], "location_id": _id("location", station.public_id),
                "description": None, "location": location(station),
                "schedules": schedules(station, service_at_location_id=sal_id),
                "contacts": [], "phones": [],
            }],
            "contacts": [{"id": _id("contact", c.pk), "name": c.name, "title": c.role,
                          "phones": [{"id": _id("contact-phone", c.pk), "number": c.phone}]}
                         for c in station.contacts.all()],
            "attributes": [{"id": _id("attribute", f"{station.pk}:{a.code}"),
                            "taxonomy_term_id": _id("amenity", a.code), "label": a.name_zh,
                            "value": a.code} for a in station.amenities.all()],
        }
    return out


def page(items: list, total: int, number: int, per_page: int) -> dict:
    pages = max(1, math.ceil(total / per_page))
    return {"total_items": total, "total_pages": pages, "page_number": number,
            "size": len(items), "first_page": number == 1, "last_page": number >= pages,
            "empty": total == 0, "contents": items}


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


def _stations(search: str | None, organization_id: str | None,
              modified_after: Moment | None):
    qs = Station.objects.filter(is_active=True).select_related("area").prefetch_related(
        "hours", "amenities", "contacts").order_by("pk")
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(address__icontains=search))
    if modified_after:
        qs = qs.filter(updated_at__gte=_utc(modified_after))
    if organization_id:
        operators = set(Station.objects.values_list("operator", flat=True).distinct())
        names = {_id("organization", n or DEFAULT_OPERATOR): n for n in operators}
        if organization_id not in names:
            return qs.none()
        qs = qs.filter(operator=names[organization_id])
    return qs


@router.get("/", url_name="hsds_root", operation_id="getAPIMetaInformation",
          summary="About this API and its relationship with HSDS", response={200: dict})
def meta(request):
    return {"version": "3.0", "profile": "https://docs.openreferral.org/en/latest/hsds/",
            "openapi_url": request.build_absolute_uri("/hsds/openapi.json"),
            "description": "房山区“37°C+”暖心驿站 — warm stations for delivery workers",
            "publisher": {"name": "房山区委改革办", "identifier": None, "email": None,
                          "website": None}}


@router.get("/services", url_name="hsds_services", operation_id="getPaginatedListOfServices",
          summary="Services (one per warm station), paginated", response={200: dict, 422: ProblemOut})
def list_services(request, search: str | None = Query(None, max_length=64),
                  page_number: int = Query(1, ge=1, le=100_000, alias="page"),
                  per_page: int = Query(50, ge=1, le=200),
                  organization_id: str | None = Query(None, max_length=64),
                  modified_after: Moment | None = None, full: bool = False):
    qs = _stations(search, organization_id, modified_after)
    total = qs.count()
    chunk = qs[(page_number - 1) * per_page: page_number * per_page]
    base = request.build_absolute_uri("/").rstrip("/")
    return page([service(s, full=full, base=base) for s in chunk], total, page_number, per_page)


@router.get("/services/{service_id}", url_name="hsds_service",
          operation_id="getFullyNestedServiceById", summary="One fully nested service",
          response={200: dict, 404: ProblemOut})
def get_service(request, service_id: str):
    station = _by_public_id(service_id)
    return service(station, full=True, base=request.build_absolute_uri("/").rstrip("/"))


def _by_public_id(value: str) -> Station:
    try:
        public_id = uuid.UUID(value)
    except (ValueError, AttributeError):
        raise NotFound() from None
    station = Station.objects.select_related("area").prefetch_related(
        "hours", "amenities", "contacts").filter(public_id=public_id, is_active=True).first()
    if station is None:
        raise NotFound()
    return station


@router.get("/organizations", url_name="hsds_organizations",
          operation_id="getPaginatedListOfOrganizations",
          summary="Organizations running warm stations", response={200: dict, 422: ProblemOut})
def list_organizations(request, page_number: int = Query(1, ge=1, le=100_000, alias="page"),
                       per_page: int = Query(50, ge=1, le=200)):
    names = sorted({s.operator or DEFAULT_OPERATOR for s in
                    Station.objects.filter(is_active=True).only("operator")})
    chunk = names[(page_number - 1) * per_page: page_number * per_page]
    return page([organization(n) for n in chunk], len(names), page_number, per_page)


@router.get("/service_at_locations", url_name="hsds_service_at_locations",
          operation_id="getPaginatedListOfServiceAtLocation",
          summary="Each station's service at its place, with schedules",
          response={200: dict, 422: ProblemOut})
def list_service_at_locations(request, search: str | None = Query(None, max_length=64),
                              page_number: int = Query(1, ge=1, le=100_000, alias="page"),
                              per_page: int = Query(50, ge=1, le=200),
                              organization_id: str | None = Query(None, max_length=64),
                              modified_after: Moment | None = None):
    qs = _stations(search, organization_id, modified_after)
    total = qs.count()
    items = []
    for s in qs[(page_number - 1) * per_page: page_number * per_page]:
        sal_id = _id("service_at_location", s.public_id)
        items.append({"id": sal_id, "service_id": _sid(s),
                      "location_id": _id("location", s.public_id), "description": s.name,
                      "location": location(s),
                      "schedules": schedules(s, service_at_location_id=sal_id)})
    return page(items, total, page_number, per_page)

