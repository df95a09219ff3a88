"""Union membership: a worker applies (with their own consent) and sees their card; the union
staff review applications and read the roll and its figures; a steward or the union enrols a
list on site and gets the row-by-row report."""

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Router, Schema, Status
from ninja.pagination import paginate
from pydantic import Field

from warmstation.accounts.models import Brand, Role
from warmstation.areas.scoping import access_area_by_code
from warmstation.core.errors import InvalidInput
from warmstation.core.masking import mask_mobile, mask_name
from warmstation.core.pagination import Rows
from warmstation.core.permissions import require_roles
from warmstation.core.schemas import AUTH_ERRORS, Day, Id, Line, ProblemOut, Text
from warmstation.union import selectors, services
from warmstation.union.models import EnrolmentBatch, Member, MembershipApplication
from warmstation.union.permissions import (
    ROLL_ROLES,
    access_application_by_id,
    access_batch_by_id,
    access_enrolment_place,
    application_list,
    member_list,
    my_member,
)

router = Router(tags=["union"])
JobTypeIn = Literal["courier", "food_delivery", "ride_hailing", "other"]
BATCH_ROLES = (Role.STEWARD, Role.UNION_STAFF)


class ApplicationIn(Schema):
    area_code: Annotated[str, Line(32, min_length=1)]
    employer: Annotated[str, Line(128, min_length=1)] = Field(
        ..., description="the company or platform the worker works for")
    job_type: JobTypeIn
    brand: Annotated[str, Line(32)] | None = None
    station_id: Id | None = None
    consent: bool = Field(..., description="the worker's explicit consent to the union "
                                           "processing these details; must be true")


class ApplicationOut(Schema):
    id: int
    status: str
    real_name: str
    mobile: str
    employer: str
    brand: str | None
    job_type: str
    area_code: str
    station_id: int | None
    created_at: datetime
    reviewed_at: datetime | None
    review_note: str
    member_number: str | None


class DecisionIn(Schema):
    approve: bool
    note: Annotated[str, Text(500)] = ""


class UnionMemberOut(Schema):
    number: str
    real_name: str
    mobile: str
    employer: str
    brand: str | None
    job_type: str
    area_code: str
    station_id: int | None
    source: str
    enrolled_at: datetime


class MyMembershipOut(Schema):
    member: UnionMemberOut | None
    application: ApplicationOut | None


class BatchRowIn(Schema):
    # Loosely typed on purpose: a bad name or mobile is reported for its row, not a 422 for all.
    name: Annotated[str, Line(200)] = ""
    mobile: Annotated[str, Line(64)] = ""
    employer: Annotated[str, Line(200)] = ""
    job_type: Annotated[str, Line(32)] = ""


class BatchIn(Schema):
    title: Annotated[str, Line(128, min_length=1)]
    held_on: Day
    station_id: Id | None = None
    area_code: Annotated[str, Line(32)] | None = None
    partner: Annotated[str, Line(64)] = ""
    brand: Annotated[str, Line(32)] | None = None
    consent_confirmed: bool = Field(..., description="every person signed the union's consent "
                                                     "form on site")
    rows: list[BatchRowIn] = Field(..., min_length=1, max_length=services.BATCH_ROWS_MAX)


class ReportRowOut(Schema):
    row: int
    name: str
    mobile: str
    result: Literal["enrolled", "member", "refused"]
    message_zh: str
    message_en: str
    number: str


class BatchOut(Schema):
    id: int
    title: str
    held_on: date
    area_code: str
    station_id: int | None
    partner: str
    brand: str | None
    rows_total: int
    rows_enrolled: int
    rows_refused: int
    report: list[ReportRowOut]


class UnionAreaFigureOut(Schema):
    code: str
    name: str
    members: int


class UnionStationFigureOut(Schema):
    station_id: int | None
    name: str
    members: int


class UnionFiguresOut(Schema):
    members: int
    pending: int
    by_area: list[UnionAreaFigureOut]
    by_station: list[UnionStationFigureOut]


def _brand(code: str | None, field: str = "brand") -> Brand | None:
    if not code:
        return None
    brand = Brand.objects.filter(code=code).first()
    if brand is None:
        raise InvalidInput(services.UNKNOWN_BRAND, field=field)
    return brand


def application_out(a: MembershipApplication, viewer) -> ApplicationOut:
    own = a.applicant_id == viewer.pk
    member = getattr(a, "member", None) if a.status == "approved" else None
    return ApplicationOut(
        id=a.pk, status=a.status, real_name=a.real_name if own else mask_name(a.real_name),
        mobile=a.mobile if own else mask_mobile(a.mobile), employer=a.employer,
        brand=a.brand.code if a.brand else None, job_type=a.job_type, area_code=a.area.code,
        station_id=a.station_id, created_at=a.created_at, reviewed_at=a.reviewed_at,
        review_note=a.review_note, member_number=member.number if member else None)


def member_out(m: Member, *, own: bool = False) -> UnionMemberOut:
    return UnionMemberOut(
        number=m.number or "", real_name=m.real_name if own else mask_name(m.real_name),
        mobile=(m.mobile or "") if own else mask_mobile(m.mobile), employer=m.employer,
        brand=m.brand.code if m.brand else None, job_type=m.job_type, area_code=m.area.code,
        station_id=m.station_id, source=m.source, enrolled_at=m.enrolled_at)


def batch_out(b: EnrolmentBatch) -> BatchOut:
    return BatchOut(id=b.pk, title=b.title, held_on=b.held_on, area_code=b.area.code,
                    station_id=b.station_id, partner=b.partner,
                    brand=b.brand.code if b.brand else None, rows_total=b.rows_total,
                    rows_enrolled=b.rows_enrolled, rows_refused=b.rows_refused,
                    report=[ReportRowOut(**r) for r in b.report])


@router.get("/me", url_name="union_me", operation_id="get_my_membership",
            summary="My union membership (member card) and my latest application",
            response={200: MyMembershipOut, **AUTH_ERRORS})
@require_roles(Role.WORKER)
def get_my_membership(request):
    member = my_member(request.user)
    application = application_list(request.user).filter(applicant=request.user) \
        .order_by("-created_at", "-id").first()
    return MyMembershipOut(member=member_out(member, own=True) if member else None,
                           application=application_out(application, request.user)
                           if application else None)


@router.post("/applications", url_name="union_applications_create",
             operation_id="apply_for_membership",
             summary="Apply to join the trade union, with my explicit consent (worker)",
             response={201: ApplicationOut, 404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS})
@require_roles(Role.WORKER)
def apply_for_membership(request, payload: ApplicationIn):
    from warmstation.stations.permissions import access_station_by_id

    area = access_area_by_code(request.user, payload.area_code)
    station = access_station_by_id(request.user, payload.station_id) \
        if payload.station_id else None
    application = services.membership_apply(
        user=request.user, area=area, employer=payload.employer, job_type=payload.job_type,
        brand=_brand(payload.brand), station=station, consent=payload.consent, request=request)
    return Status(201, application_out(application, request.user))


@router.get("/applications", url_name="union_applications",
            operation_id="list_membership_applications",
            summary="My applications; for the union staff, those of the areas they review",
            response={200: list[ApplicationOut], **AUTH_ERRORS})
@paginate
def list_membership_applications(
        request, status: Literal["submitted", "approved", "rejected", "withdrawn"] | None = None):
    qs = application_list(request.user).select_related("member")
    if status:
        qs = qs.filter(status=status)
    viewer = request.user
    return Rows(qs.order_by("-created_at", "-id"),
                lambda page: [application_out(a, viewer) for a in page])


@router.post("/applications/{application_id}/decision", url_name="union_application_decide",
             operation_id="decide_membership_application",
             summary="Approve (enrol, with a member number) or reject an application (union)",
             response={200: ApplicationOut, 404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS})
@require_roles(Role.UNION_STAFF)
def decide_membership_application(request, application_id: Id, payload: DecisionIn):
    application = access_application_by_id(request.user, application_id, for_review=True)
    services.membership_decide(actor=request.user, application=application,
                               approve=payload.approve, note=payload.note, request=request)
    fresh = application_list(request.user).select_related("member").get(pk=application.pk)
    return application_out(fresh, request.user)


@router.get("/members", url_name="union_members", operation_id="list_union_members",
            summary="The union roll of my area (names and mobiles masked)",
            response={200: list[UnionMemberOut], **AUTH_ERRORS})
@require_roles(*ROLL_ROLES)
@paginate
def list_union_members(request, area: Annotated[str, Line(32)] | None = None,
                       station_id: Id | None = None):
    qs = member_list(request.user)
    if area:
        qs = qs.filter(area__path__contains=f"/{area}/")
    if station_id:
        qs = qs.filter(station_id=station_id)
    return Rows(qs.order_by("number"), lambda page: [member_out(m) for m in page])


@router.get("/figures", url_name="union_figures", operation_id="get_union_figures",
            summary="Members by street/town and by station, and applications waiting",
            response={200: UnionFiguresOut, **AUTH_ERRORS})
@require_roles(*ROLL_ROLES)
def get_union_figures(request):
    return selectors.figures(member_list(request.user),
                             application_list(request.user, review=True))


@router.post("/batches", url_name="union_batches", operation_id="create_enrolment_batch",
             summary="Enrol a list on site (steward at their station, or union staff); "
                     "answers the row-by-row report",
             response={201: BatchOut, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(*BATCH_ROLES)
def create_enrolment_batch(request, payload: BatchIn):
    if payload.station_id is None and not payload.area_code:
        raise InvalidInput(services.PLACE_NEEDED, field="station_id")
    area, station = access_enrolment_place(request.user, area_code=payload.area_code,
                                           station_id=payload.station_id)
    batch = services.batch_enrol(
        actor=request.user, title=payload.title, held_on=payload.held_on, area=area,
        station=station, partner=payload.partner, brand=_brand(payload.brand),
        rows=[services.BatchRow(row=i, **r.model_dump()) for i, r in
              enumerate(payload.rows, start=1)],
        consent_confirmed=payload.consent_confirmed, request=request)
    return Status(201, batch_out(batch))


@router.get("/batches/{batch_id}", url_name="union_batch", operation_id="get_enrolment_batch",
            summary="One batch enrolment and its row-by-row report",
            response={200: BatchOut, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(Role.STEWARD, *ROLL_ROLES)
def get_enrolment_batch(request, batch_id: Id):
    return batch_out(access_batch_by_id(request.user, batch_id))
