"""Snap-and-report (随手拍) in the JSON API: photos uploaded ahead, categories, the same-problem
lookup, a report, "我也遇到", my reports, the command centre's queue and steps. Every problem
is read through access_problem_by_id / problem_visible_q."""

from datetime import datetime
from typing import Annotated, Literal

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, File, Header, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from warmstation.accounts.models import Role
from warmstation.appeals.models import Department
from warmstation.areas.scoping import access_area_by_code
from warmstation.core import geo
from warmstation.core.errors import InvalidInput
from warmstation.core.images import MAX_UPLOAD_BYTES
from warmstation.core.pagination import Rows
from warmstation.core.permissions import require_roles
from warmstation.core.schemas import AUTH_ERRORS, Id, Line, ProblemOut, Text
from warmstation.reports import selectors, services, workflow
from warmstation.reports.models import Follower, Photo, Problem, ReportCategory
from warmstation.reports.permissions import STAFF, access_problem_by_id

router = Router(tags=["reports"])
ERR = {404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS}
CRS = Literal["wgs84", "gcj02", "bd09"]
KEY_PATTERN = r"^[!-~]{1,64}$"


class ReportCategoryOut(Schema):
    code: str
    group: str
    name_zh: str
    name_en: str
    resolve_days: int


class ReportPhotoOut(Schema):
    id: int
    kind: str
    state: Literal["processing", "ready", "failed"] = Field(
        description="processing: checked and kept, re-encoded by a task in a moment (its URLs "
                    "already work: the first request for it finishes the work)")
    width: int
    height: int
    url: str
    thumb_url: str


class ReportIn(Schema):
    category: Annotated[str, Line(32)]
    lat: float = Field(..., ge=-90, le=90)
    lng: float = Field(..., ge=-180, le=180)
    crs: CRS = "wgs84"
    description: Annotated[str, Text(1000)] = ""
    address: Annotated[str, Line(200)] = ""
    photo_ids: list[Id] = Field(min_length=1, max_length=3)
    area_code: Annotated[str, Line(32)] | None = None


class ReportFollowIn(Schema):
    lat: float = Field(..., ge=-90, le=90)
    lng: float = Field(..., ge=-180, le=180)
    crs: CRS = "wgs84"


class ReportEventOut(Schema):
    at: datetime
    action: str
    from_status: str
    to_status: str
    department: str | None
    note: str


class ReportOut(Schema):
    id: int
    number: str
    category: str
    status: str
    reject_reason: str
    area_code: str
    lat: float
    lng: float
    crs: str
    address: str
    description: str
    department: str | None
    created_at: datetime
    resolve_due: datetime | None
    is_overdue: bool
    merged_into_id: int | None


class ReportDetailOut(ReportOut):
    following: bool
    actions: list[str]
    photos: list[ReportPhotoOut]
    timeline: list[ReportEventOut]


class ReportCandidateOut(Schema):
    id: int
    number: str
    status: str
    distance_m: float
    lat: float
    lng: float
    description: str
    followers: int
    created_at: datetime
    photo_url: str | None
    thumb_url: str | None


class ReportCandidatesOut(Schema):
    radius_m: int
    crs: str
    candidates: list[ReportCandidateOut]


class ReportActionIn(Schema):
    action: Literal["accept", "reject", "dispatch", "resolve", "close", "not_fixed", "merge",
                    "note"]
    note: Annotated[str, Text(1000)] = ""
    reason: Literal["unclear", "duplicate", "untrue", "split", "not_ours", ""] = ""
    department: Annotated[str, Line(48)] | None = None
    photo_ids: list[Id] = Field(default_factory=list, max_length=3)
    into_id: Id | None = None


class ReportBulkIn(Schema):
    ids: list[Id] = Field(min_length=1, max_length=200)
    action: Literal["accept", "reject", "dispatch"]
    reason: Literal["unclear", "duplicate", "untrue", "split", "not_ours", ""] = ""
    department: Annotated[str, Line(48)] | None = None
    note: Annotated[str, Text(1000)] = ""


class ReportBulkFailure(Schema):
    id: int
    zh: str
    en: str


class ReportBulkOut(Schema):
    done: list[int]
    failed: list[ReportBulkFailure]


def photo_urls(photo_id: int, grant: str = "") -> dict:
    suffix = f"?g={grant}" if grant else ""
    return {"url": reverse("reports:photo", args=[photo_id]) + suffix,
            "thumb_url": reverse("reports:photo_thumb", args=[photo_id]) + suffix}


def _photo_out(photo: Photo) -> dict:
    return {"id": photo.pk, "kind": photo.kind, "state": photo.state,
            "width": photo.width, "height": photo.height,
            **photo_urls(photo.pk)}


def _out(problem: Problem, crs: str = "wgs84") -> dict:
    lat, lng = geo.from_wgs84(problem.lat, problem.lng, crs)
    now = timezone.now()
    return {
        "id": problem.pk, "number": problem.number, "category": problem.category.code,
        "status": problem.status, "reject_reason": problem.reject_reason,
        "area_code": problem.area.code, "lat": round(lat, 7), "lng": round(lng, 7),
        "crs": crs, "address": problem.address, "description": problem.description,
        "department": problem.department.code if problem.department else None,
        "created_at": problem.created_at, "resolve_due": problem.resolve_due,
        "is_overdue": bool(problem.resolve_due and problem.resolve_due < now
                           and problem.status in (Problem.Status.ACCEPTED,
                                                  Problem.Status.DISPATCHED)),
        "merged_into_id": problem.merged_into_id,
    }


def _detail(problem: Problem, viewer, *, filed: services.Filed | None = None) -> dict:
    """The problem as `viewer` sees it; `filed`: the problem just filed by `viewer`, whose
    follower kind (reporter), timeline and (on PostgreSQL) photos are in hand, not read back."""
    from warmstation.reports.permissions import capacities

    caps = capacities(viewer, problem,
                      follower_kind=Follower.Kind.REPORTER if filed else None)
    events = filed.events if filed else selectors.problem_timeline(problem)
    return {**_out(problem), "following": "follower" in caps,
            "actions": selectors.available_actions(problem, viewer, caps),
            "photos": [_photo_out(p) for p in (
                filed.photos if filed and filed.photos is not None
                else selectors.problem_photos(problem))],
            "timeline": [{"at": e.at, "action": e.action, "from_status": e.from_status,
                          "to_status": e.to_status, "note": e.note,
                          "department": e.department.code if e.department else None}
                         for e in events]}


def category_by_code(code: str) -> ReportCategory:
    category = ReportCategory.objects.filter(code=code, is_active=True).first() \
        if code and "\x00" not in code else None
    if category is None:
        raise InvalidInput(_("未知类别。"), field="category")
    return category


def department_by_code(code: str | None) -> Department | None:
    if not code:
        return None
    dept = Department.objects.filter(code=code, is_active=True).first() \
        if "\x00" not in code else None
    if dept is None:
        raise InvalidInput(_("未知部门。"), field="department")
    return dept


@router.get("/categories", url_name="report_categories", operation_id="list_report_categories",
            summary="Event classes a problem may be reported as (GB/T 30428.2)",
            response={200: list[ReportCategoryOut], **AUTH_ERRORS})
@paginate
def list_report_categories(request):
    return Rows(selectors.category_list(), lambda rows: [
        {"code": c.code, "group": c.group_zh, "name_zh": c.name_zh, "name_en": c.name_en,
         "resolve_days": c.resolve_days} for c in rows])


@router.post("/photos", url_name="report_photos", operation_id="upload_report_photo",
             summary="Upload a photo ahead of the report (checked now; re-encoded and stripped of metadata by a task)",
             response={201: ReportPhotoOut, 409: ProblemOut, 413: ProblemOut, **AUTH_ERRORS})
@require_roles(Role.WORKER, *STAFF)
def upload_report_photo(request, image: File[UploadedFile]):
    if (image.size or 0) > MAX_UPLOAD_BYTES:
        raise InvalidInput(_("请上传 JPEG、PNG、WebP 或 HEIC 图片（不超过 8 MB）。"),
                           code="bad_image", field="image")
    photo = services.photo_upload(actor=request.user, data=image.read(), request=request)
    return Status(201, _photo_out(photo))


@router.get("/nearby", url_name="report_nearby", operation_id="same_problem_candidates",
            summary="Open problems of a category near a place: \"is this the same problem?\"",
            response={200: ReportCandidatesOut, **AUTH_ERRORS})
@require_roles(Role.WORKER)
def same_problem_candidates(request, category: Annotated[str, Line(32)],
                            lat: float = Query(..., ge=-90, le=90),
                            lng: float = Query(..., ge=-180, le=180), crs: CRS = "wgs84"):
    wlat, wlng = services.point_to_wgs84(lat, lng, crs)
    conf = services.report_settings()
    found = selectors.same_problem_candidates(viewer=request.user,
                                              category=category_by_code(category),
                                              lat=wlat, lng=wlng, conf=conf)
    out = []
    for c in found:
        clat, clng = geo.from_wgs84(c.problem.lat, c.problem.lng, crs)
        urls = photo_urls(c.photo_id, c.grant) if c.photo_id else {}
        out.append({"id": c.problem.pk, "number": c.problem.number, "status": c.problem.status,
                    "distance_m": c.distance_m, "lat": round(clat, 7), "lng": round(clng, 7),
                    "description": c.problem.description, "followers": c.followers,
                    "created_at": c.problem.created_at, "photo_url": urls.get("url"),
                    "thumb_url": urls.get("thumb_url")})
    return {"radius_m": conf.same_radius_m, "crs": crs,
            "candidates": out}


@router.post("", url_name="reports", operation_id="create_report",
             summary="Report a street problem (photos uploaded ahead, referenced by id)",
             response={200: ReportDetailOut, 201: ReportDetailOut, 429: ProblemOut, **ERR})
@require_roles(Role.WORKER)
def create_report(request, payload: ReportIn,
                  idempotency_key: str = Header("", alias="Idempotency-Key",
                                                pattern=r"^([!-~]{1,64})?$")):
    """The same Idempotency-Key (the phone's offline queue resending) answers the first report
    again with 200 instead of creating a second."""
    area = access_area_by_code(request.user, payload.area_code) if payload.area_code else None
    filed = services.report_file(
        actor=request.user, category=category_by_code(payload.category), lat=payload.lat,
        lng=payload.lng, crs=payload.crs, description=payload.description,
        address=payload.address, photo_ids=payload.photo_ids, client_key=idempotency_key,
        area=area, request=request)
    # A problem just filed is the reporter's own, answered from the rows in hand; a replay (the
    # first report again) is read through the choke point like any other.
    if filed.created:
        return Status(201, _detail(filed.problem, request.user, filed=filed))
    return Status(200, _detail(access_problem_by_id(request.user, filed.problem.pk),
                               request.user))


@router.get("/mine", url_name="my_reports", operation_id="list_my_reports",
            summary="Problems I reported or confirmed, newest first",
            response={200: list[ReportOut], **AUTH_ERRORS})
@require_roles(Role.WORKER)
@paginate
def list_my_reports(request):
    return Rows(selectors.problem_list(user=request.user, mine=True),
                lambda rows: [_out(p) for p in rows])


@router.get("", url_name="report_queue", operation_id="list_reports",
            summary="The command centre's queue (待受理 first) and every problem in scope",
            response={200: list[ReportOut], **AUTH_ERRORS})
@require_roles(*STAFF)
@paginate
def list_reports(request, status: Annotated[str, Line(16)] | None = None,
                 category: Annotated[str, Line(32)] | None = None,
                 area_code: Annotated[str, Line(32)] | None = None,
                 overdue: bool | None = None):
    qs = selectors.problem_list(user=request.user, status=status, category=category,
                                area_code=area_code, overdue=overdue)
    return Rows(qs, lambda rows: [_out(p) for p in rows])


@router.post("/bulk", url_name="report_bulk", operation_id="bulk_reports",
             summary="Accept, reject or dispatch several problems",
             response={200: ReportBulkOut, **ERR})
@require_roles(*STAFF)
def bulk_reports(request, payload: ReportBulkIn):
    return services.problem_bulk(actor=request.user, ids=payload.ids, action=payload.action,
                                 reason=payload.reason, note=payload.note,
                                 department=department_by_code(payload.department),
                                 request=request)


@router.get("/{problem_id}", url_name="report", operation_id="get_report",
            summary="One problem with its photos, timeline and the steps I may take",
            response={200: ReportDetailOut, 404: ProblemOut, **AUTH_ERRORS})
def get_report(request, problem_id: Id):
    return _detail(access_problem_by_id(request.user, problem_id), request.user)


@router.post("/{problem_id}/follow", url_name="report_follow", operation_id="follow_report",
             summary="我也遇到: confirm and follow an open problem nearby",
             response={200: ReportDetailOut, **ERR})
@require_roles(Role.WORKER)
def follow_report(request, problem_id: Id, payload: ReportFollowIn):
    services.report_follow(actor=request.user, problem_id=problem_id, lat=payload.lat,
                           lng=payload.lng, crs=payload.crs, request=request)
    return _detail(access_problem_by_id(request.user, problem_id), request.user)


@router.post("/{problem_id}/actions", url_name="report_action", operation_id="act_on_report",
             summary="Move a problem one step (accept, reject, dispatch, resolve, close, "
                     "not fixed, merge, note)",
             response={200: ReportDetailOut, **ERR})
def act_on_report(request, problem_id: Id, payload: ReportActionIn):
    services.problem_transition(
        actor=request.user, problem_id=problem_id, action=payload.action, note=payload.note,
        reason=payload.reason, department=department_by_code(payload.department),
        photo_ids=payload.photo_ids, into_id=payload.into_id, request=request)
    return _detail(access_problem_by_id(request.user, problem_id), request.user)


__all__ = ["router", "workflow"]
