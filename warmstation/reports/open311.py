"""Open311 GeoReport v2 at /open311/v2/ (docs/open311.md): discovery, services, a service's
definition, requests (GET and POST), one request, tokens, and the servicerequestupdates
extension — each in XML (which the specification requires) and JSON, by the path's suffix.

The protocol is the specification's, not our API's: form-encoded POSTs with `api_key` in the
body or the query string, answers as bare lists, errors as `[{code, description}]`
(`<errors><error>` in XML) with 404, 403 (missing or bad key) and 400 (anything else), times in
ISO 8601 with their zone. Reading is public and shows what the public map shows (filed
problems, never the reporter, no description written by a worker); a client also reads the
requests it filed itself. Writing needs a key, issued per client by the district admin
(views_clients.py), scoped to areas and revocable.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET  # noqa: N817 — building our own output only

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt

from warmstation.areas.models import Area
from warmstation.core.errors import ApplicationError, InvalidInput, PermissionDenied
from warmstation.core.inputs import FORM_VALUE_MAX, check_text, parse_id
from warmstation.core.ratelimit import rate_limit
from warmstation.reports import services, workflow
from warmstation.reports.geocoder import geocode
from warmstation.reports.models import Open311Client, Photo, Problem, ProblemEvent, ReportCategory

S = Problem.Status
CLOSED = {S.CLOSED, S.REJECTED, S.MERGED}
DEFAULT_DAYS = 90
DEFAULT_MAX = 1000
CHANGESET = "2026-12-01T00:00:00+08:00"

# The attributes every service asks for (services/{code}): optional, so a client that knows
# none of them still files a valid request.
ATTRIBUTES: list[dict[str, Any]] = [
    {"variable": True, "code": "severity", "datatype": "singlevaluelist", "required": False,
     "datatype_description": None, "order": 1, "description": "严重程度 Severity",
     "values": [{"key": "minor", "name": "轻微 Minor"}, {"key": "normal", "name": "一般 Normal"},
                {"key": "severe", "name": "严重 Severe"}]},
    {"variable": True, "code": "obstructs", "datatype": "multivaluelist", "required": False,
     "datatype_description": None, "order": 2, "description": "占用 What it obstructs",
     "values": [{"key": "sidewalk", "name": "人行道 Sidewalk"},
                {"key": "bike_lane", "name": "非机动车道 Bike lane"},
                {"key": "roadway", "name": "机动车道 Roadway"},
                {"key": "tactile", "name": "盲道 Tactile paving"}]},
    {"variable": True, "code": "count", "datatype": "number", "required": False,
     "datatype_description": "件数 How many (0–999)", "order": 3,
     "description": "数量 Count", "values": []},
    {"variable": True, "code": "observed_at", "datatype": "datetime", "required": False,
     "datatype_description": "ISO 8601", "order": 4, "description": "发现时间 Seen at",
     "values": []},
    {"variable": True, "code": "landmark", "datatype": "string", "required": False,
     "datatype_description": None, "order": 5, "description": "附近地标 Nearby landmark",
     "values": []},
    {"variable": False, "code": "notice", "datatype": "text", "required": False,
     "datatype_description": None, "order": 6,
     "description": "请勿上传可识别人脸或车牌的照片。Do not send photos showing faces or plates.",
     "values": []},
]


# --- rendering --------------------------------------------------------------------------------

def _when(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _xml_value(parent: ET.Element, key: str, value: Any) -> None:
    if isinstance(value, list):
        singular = {"attributes": "attribute", "values": "value", "endpoints": "endpoint",
                    "formats": "format"}.get(key, key.rstrip("s"))
        holder = ET.SubElement(parent, key)
        for item in value:
            _xml_item(holder, singular, item)
        return
    child = ET.SubElement(parent, key)
    if value is None:
        return
    child.text = ("true" if value else "false") if isinstance(value, bool) else str(value)


def _xml_item(parent: ET.Element, tag: str, item: Any) -> None:
    if isinstance(item, dict):
        node = ET.SubElement(parent, tag)
        for key, value in item.items():
            _xml_value(node, key, value)
    else:
        ET.SubElement(parent, tag).text = str(item)


def _render(fmt: str, data: Any, *, root: str, item: str | None = None,
            status: int = 200) -> HttpResponse:
    if fmt == "json":
        return HttpResponse(json.dumps(data, ensure_ascii=False), status=status,
                            content_type="application/json; charset=utf-8")
    node = ET.Element(root)
    if item is None:
        for key, value in data.items():
            _xml_value(node, key, value)
    else:
        for entry in data:
            _xml_item(node, item, entry)
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(node, encoding="utf-8")
    return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")


def _error(fmt: str, status: int, description: str) -> HttpResponse:
    return _render(fmt, [{"code": status, "description": description}], root="errors",
                   item="error", status=status)


def _from_refusal(request: HttpRequest, fmt: str, exc: ApplicationError) -> HttpResponse:
    status = {404: 404, 403: 403, 401: 403, 429: 429}.get(exc.status, 400)
    message = exc.message(getattr(request, "LANGUAGE_CODE", ""))
    if exc.field and exc.status == 422:
        message = f"{exc.field}: {message}"
    response = _error(fmt, status, message)
    if status == 429:
        response["Retry-After"] = str(int(exc.extra.get("retry_after", 60)))
    return response


def endpoint(view):
    """Common to every endpoint: csrf-exempt (keys, not cookies), the format, refusals in the
    specification's error format, the method the path has."""
    methods = getattr(view, "methods", ("GET",))

    @csrf_exempt
    def wrapper(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
        if request.method not in methods:
            response = _error(fmt, 400, f"method {request.method} is not allowed here")
            response["Allow"] = ", ".join(methods)
            return response
        try:
            jurisdiction = _param(request, "jurisdiction_id")
            if jurisdiction and jurisdiction != settings.OPEN311_JURISDICTION:
                return _error(fmt, 404, "jurisdiction_id not found")
            return view(request, fmt, **kwargs)
        except ApplicationError as exc:
            return _from_refusal(request, fmt, exc)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def methods(*names: str):
    def mark(view):
        view.methods = names
        return view
    return mark


def _param(request: HttpRequest, name: str) -> str:
    """One parameter, from the body (POST) or the query string; a control character (tabs and
    newlines only in a description) or a value beyond any field's length is a 400."""
    value = request.POST.get(name) if request.method == "POST" else None
    if value is None:
        value = request.GET.get(name, "")
    check_text(value, max_length=FORM_VALUE_MAX, multiline=name == "description", field=name)
    return value.strip()


def _client(request: HttpRequest, *, required: bool) -> Open311Client | None:
    key = _param(request, "api_key")
    client = services.open311_client_by_key(key) if key else None
    if required and client is None:
        raise PermissionDenied(_("api_key 缺失或无效。"), code="bad_api_key")
    return client


def _absolute(request: HttpRequest, path: str) -> str:
    return request.build_absolute_uri(path)


# --- discovery and services ---------------------------------------------------------------

@endpoint
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = _absolute(request, reverse("open311:discovery", kwargs={"fmt": fmt})) \
        .rsplit("/", 1)[0] + "/"
    data = {"changeset": CHANGESET, "contact": settings.OPEN311_CONTACT,
            "key_service": _absolute(request, "/reports/clients/"),
            "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2",
                           "url": base, "changeset": CHANGESET, "type": "production",
                           "formats": ["text/xml", "application/json"]}]}
    return _render(fmt, data, root="discovery")


def _service(category: ReportCategory) -> dict[str, Any]:
    return {"service_code": category.code,
            "service_name": f"{category.name_zh} {category.name_en}".strip(),
            "description": category.description or None, "metadata": True,
            "type": "realtime", "keywords": category.keywords or None,
            "group": f"{category.group_zh} {category.group_en}".strip()}


@endpoint
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    rows = ReportCategory.objects.filter(is_active=True).order_by("sort", "code")
    return _render(fmt, [_service(c) for c in rows], root="services", item="service")


@endpoint
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    if not ReportCategory.objects.filter(code=code, is_active=True).exists():
        return _error(fmt, 404, "service_code not found")
    return _render(fmt, {"service_code": code, "attributes": ATTRIBUTES},
                   root="service_definition")


# --- requests -------------------------------------------------------------------------------

def _status(problem: Problem) -> str:
    return "closed" if problem.status in CLOSED else "open"


def _status_notes(problem: Problem) -> str | None:
    if problem.status == S.REJECTED and problem.reject_reason:
        return str(Problem.RejectReason(problem.reject_reason).label)
    if problem.status == S.MERGED and problem.merged_into_id:
        return f"duplicate of {problem.merged_into_id}"
    return problem.get_status_display()


def _request_out(request: HttpRequest, problem: Problem, client: Open311Client | None,
                 media: dict[int, int]) -> dict[str, Any]:
    own = client is not None and problem.client_id == client.pk
    photo_id = media.get(problem.pk)
    updated = problem.closed_at or problem.resolved_at or problem.accepted_at or \
        problem.updated_at
    return {
        "service_request_id": str(problem.pk), "status": _status(problem),
        "status_notes": _status_notes(problem),
        "service_name": problem.category.name_zh, "service_code": problem.category.code,
        # a worker's own words may name people: only the client that wrote it reads it back
        "description": problem.description if own else None,
        "agency_responsible": problem.department.name_zh if problem.department else None,
        "service_notice": None,
        "requested_datetime": _when(problem.created_at),
        "updated_datetime": _when(updated),
        "expected_datetime": _when(problem.resolve_due),
        "address": problem.address or problem.area.name_zh, "address_id": None,
        "zipcode": None, "lat": round(problem.lat, 6), "long": round(problem.lng, 6),
        "media_url": _absolute(request, reverse("reports:photo", args=[photo_id]))
        if photo_id else None,
    }


def _readable(client: Open311Client | None) -> Q:
    q = Q(status__in=workflow.PUBLIC | {S.REJECTED})
    if client is not None:
        q |= Q(client=client)
    return q


def _public_media(problems: list[Problem]) -> dict[int, int]:
    media: dict[int, int] = {}
    for photo_id, problem_id in Photo.objects.filter(problem__in=problems, is_public=True) \
            .order_by("-id").values_list("pk", "problem_id"):
        if problem_id is not None:
            media[problem_id] = photo_id
    return media


def _date(request: HttpRequest, name: str) -> datetime | None:
    raw = _param(request, name)
    if not raw:
        return None
    value = parse_datetime(raw.replace(" ", "+")) if "T" in raw else None
    if value is None:
        raise InvalidInput(f"{name} must be an ISO 8601 date and time",
                           f"{name} must be an ISO 8601 date and time", field=name)
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _list_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    client = _client(request, required=False)
    qs = Problem.objects.filter(_readable(client)).select_related("category", "area",
                                                                  "department")
    ids_param = _param(request, "service_request_id")
    if ids_param:  # the specification: when ids are given, the other filters are ignored
        ids = [parse_id(i.strip()) for i in ids_param.split(",")[:DEFAULT_MAX]]
        qs = qs.filter(pk__in=[i for i in ids if i])
    else:
        start, end = _date(request, "start_date"), _date(request, "end_date")
        if start is None and end is None:
            start = timezone.now() - timedelta(days=DEFAULT_DAYS)
        if start is not None:
            qs = qs.filter(created_at__gte=start)
        if end is not None:
            qs = qs.filter(created_at__lte=end)
        codes = [c for c in _param(request, "service_code").split(",") if c][:50]
        if codes:
            qs = qs.filter(category__code__in=codes)
        statuses = {s for s in _param(request, "status").split(",") if s}
        if statuses - {"open", "closed"}:
            raise InvalidInput("status must be open or closed",
                               "status must be open or closed", field="status")
        if statuses == {"open"}:
            qs = qs.exclude(status__in=CLOSED)
        elif statuses == {"closed"}:
            qs = qs.filter(status__in=CLOSED)
    rows = list(qs.order_by("-created_at", "-id")[:DEFAULT_MAX])
    media = _public_media(rows)
    return _render(fmt, [_request_out(request, p, client, media) for p in rows],
                   root="service_requests", item="request")


_ATTR = re.compile(r"^attribute\[([A-Za-z0-9_\-]{1,32})\](\[\])?$")


def _attributes(request: HttpRequest) -> dict[str, Any]:
    given: dict[str, Any] = {}
    for key in request.POST:
        match = _ATTR.match(key)
        if not match:
            continue
        code = match.group(1)
        values = request.POST.getlist(key)
        for value in values:
            check_text(value, max_length=FORM_VALUE_MAX, field=key)
        given[code] = values if match.group(2) else values[-1]
    known = {a["code"]: a for a in ATTRIBUTES}
    out: dict[str, Any] = {}
    for code, value in given.items():
        spec = known.get(code)
        if spec is None:
            raise InvalidInput(f"unknown attribute {code}", f"unknown attribute {code}",
                               field=f"attribute[{code}]")
        keys = {v["key"] for v in spec["values"]}
        kind = spec["datatype"]
        values = value if isinstance(value, list) else [value]
        ok = True
        if kind == "singlevaluelist":
            ok = len(values) == 1 and values[0] in keys
        elif kind == "multivaluelist":
            ok = bool(values) and all(v in keys for v in values) and len(values) <= len(keys)
        elif kind == "number":
            ok = len(values) == 1 and bool(re.fullmatch(r"[0-9]{1,3}", values[0] or ""))
        elif kind == "datetime":
            ok = len(values) == 1 and parse_datetime(values[0] or "") is not None
        else:
            ok = len(values) == 1 and len(values[0] or "") <= 200 and "\x00" not in values[0]
        if not ok:
            raise InvalidInput(f"attribute[{code}] is not a valid {kind}",
                               f"attribute[{code}] is not a valid {kind}",
                               field=f"attribute[{code}]")
        out[code] = values if kind == "multivaluelist" else values[0]
    for spec in ATTRIBUTES:
        if spec["required"] and spec["code"] not in out:
            raise InvalidInput(f"attribute[{spec['code']}] is required",
                               f"attribute[{spec['code']}] is required")
    return out


def _float(request: HttpRequest, name: str) -> float | None:
    raw = _param(request, name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a number", f"{name} must be a number",
                           field=name) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidInput(f"{name} must be a number", f"{name} must be a number", field=name)
    return value


def _place(request: HttpRequest, client: Open311Client) -> tuple[float, float, Area | None, str]:
    """lat+long (WGS-84, as the specification says), or an address_id (an area code of ours),
    or an address_string placed by the street geocoder (reports/geocoder.py: a station's name
    or address, else the deepest area it names)."""
    lat, lng = _float(request, "lat"), _float(request, "long")
    address = _param(request, "address_string")
    if lat is not None and lng is not None:
        return lat, lng, None, address
    area: Area | None = None
    address_id = _param(request, "address_id")
    if address_id:
        area = Area.objects.filter(code=address_id[:32]).first()
        if area is None:
            raise InvalidInput("address_id not found", "address_id not found",
                               field="address_id")
    elif address:
        place = geocode(address)
        return place.lat, place.lng, place.area, address
    else:
        raise InvalidInput("a location is required: lat and long, address_string or "
                           "address_id", "a location is required: lat and long, "
                           "address_string or address_id", field="lat")
    centre: Area | None = area
    while centre is not None and (centre.center_lat is None or centre.center_lng is None):
        centre = centre.parent
    if centre is None or centre.center_lat is None or centre.center_lng is None:
        raise InvalidInput("that area has no known location", "that area has no known "
                           "location", field="address_id")
    return centre.center_lat, centre.center_lng, area, address


def _create_request(request: HttpRequest, fmt: str) -> HttpResponse:
    client = _client(request, required=True)
    assert client is not None
    # Before anything costly (a media_url is fetched): per client address (core/ratelimit.py).
    rate_limit(request, "open311_post")
    code = _param(request, "service_code")
    category = ReportCategory.objects.filter(code=code[:32], is_active=True).first() \
        if code else None
    if category is None:
        raise InvalidInput("service_code not found", "service_code not found",
                           field="service_code")
    lat, lng, area, address = _place(request, client)
    attributes = _attributes(request)
    media_url = _param(request, "media_url")
    photos = [services.photo_from_url(url=media_url)] if media_url else []
    problem, _created = services.report_create(
        actor=None, client=client, category=category, lat=lat, lng=lng, area=area,
        description=_param(request, "description"), address=address,
        attributes=attributes, photos=photos, request=request)
    notice = "已收到，等待指挥中心受理。Received; the command centre will triage it."
    return _render(fmt, [{"service_request_id": str(problem.pk), "token": problem.token,
                          "service_notice": notice, "account_id": None}],
                   root="service_requests", item="request", status=201)


@endpoint
@methods("GET", "POST")
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create_request(request, fmt)
    return _list_requests(request, fmt)


@endpoint
def request_detail(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    client = _client(request, required=False)
    pk = parse_id(request_id)
    problem = Problem.objects.filter(_readable(client), pk=pk).select_related(
        "category", "area", "department").first() if pk else None
    if problem is None:
        return _error(fmt, 404, "service_request_id not found")
    return _render(fmt, [_request_out(request, problem, client, _public_media([problem]))],
                   root="service_requests", item="request")


@endpoint
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    problem = Problem.objects.filter(token=token[:32]).first() \
        if re.fullmatch(r"[0-9a-f]{16}", token) else None
    if problem is None:
        return _error(fmt, 404, "token not found")
    return _render(fmt, [{"service_request_id": str(problem.pk), "token": problem.token}],
                   root="service_requests", item="request")


# --- the servicerequestupdates extension ---------------------------------------------------

def _update_out(request: HttpRequest, event: ProblemEvent) -> dict[str, Any]:
    closed = event.to_status in CLOSED
    label = workflow.ACTION_LABELS.get(event.action, event.action)
    with_department = f"{label}（{event.department.name_zh}）" if event.department else label
    return {"update_id": str(event.pk), "service_request_id": str(event.problem_id),
            "status": "CLOSED" if closed else "OPEN",
            "updated_datetime": _when(event.at), "description": with_department,
            "media_url": None}


@endpoint
@methods("GET", "POST")
def updates(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        client = _client(request, required=True)
        assert client is not None
        problem_id = parse_id(_param(request, "service_request_id"))
        if not problem_id:
            raise InvalidInput("service_request_id is required",
                               "service_request_id is required", field="service_request_id")
        status = _param(request, "status").upper()
        if status and status not in ("OPEN", "CLOSED"):
            raise InvalidInput("status must be OPEN or CLOSED", "status must be OPEN or CLOSED",
                               field="status")
        event = services.open311_update(client=client, problem_id=problem_id,
                                        description=_param(request, "description"),
                                        status=status, request=request)
        return _render(fmt, [{"update_id": str(event.pk)}], root="service_request_updates",
                       item="request_update", status=201)
    client = _client(request, required=False)
    start, end = _date(request, "start_date"), _date(request, "end_date")
    qs = ProblemEvent.objects.filter(public=True,
                                     problem__in=Problem.objects.filter(_readable(client))) \
        .exclude(action__in=("create", "follow")).select_related("department")
    qs = qs.filter(at__gte=start or timezone.now() - timedelta(days=DEFAULT_DAYS))
    if end is not None:
        qs = qs.filter(at__lte=end)
    rows = list(qs.order_by("at", "id")[:DEFAULT_MAX])
    return _render(fmt, [_update_out(request, e) for e in rows],
                   root="service_request_updates", item="request_update")


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    fmt = "json" if rest.endswith(".json") else "xml"
    return _error(fmt, 404, "not found")

