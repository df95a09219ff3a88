"""Housing. The family short-stay flat: flats and their calendars (anyone signed in), bookings
(workers book for their visiting family; the steward and the housing office check guests in and
out). The housing survey: a worker's own answers; aggregates, suppressed below a minimum group
size, for the overseers of an area; one worker's answers for the housing office only. Housing
resources and rental-intention applications moved by the housing office to a signed intention."""

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Router, Schema, Status
from ninja.pagination import paginate
from pydantic import Field

from warmstation.accounts.models import Role
from warmstation.areas.scoping import access_area_by_code, area_in_scope
from warmstation.core.errors import NotFound
from warmstation.core.masking import mask_mobile, mask_name
from warmstation.core.pagination import Rows
from warmstation.core.permissions import require_roles
from warmstation.core.schemas import AUTH_ERRORS, Day, Id, Line, ProblemOut, Text
from warmstation.housing import selectors, services
from warmstation.housing.models import Booking, Flat, RentalApplication, Resource, Survey
from warmstation.housing.permissions import (
    access_booking_by_id,
    access_flat_by_id,
    access_rental_by_id,
    access_resource_by_id,
    access_survey_by_id,
    booking_list,
    flat_list,
    rental_list,
    resource_list,
    survey_list,
    survey_scope,
)

router = Router(tags=["housing"])
MANAGERS = (Role.STEWARD, Role.AREA_ADMIN, Role.DISTRICT_ADMIN, Role.HOUSING_OFFICE)
Relation = Literal["spouse", "child", "parent", "sibling", "other"]


class EquipmentOut(Schema):
    code: str
    name_zh: str
    name_en: str


class FlatOut(Schema):
    id: int
    name: str
    area_code: str
    station_id: int | None
    address: str
    description: str
    max_guests: int
    max_nights: int
    max_bookings_per_season: int
    horizon_days: int
    contact_phone: str
    is_active: bool
    equipment: list[EquipmentOut]


class NightOut(Schema):
    night: date
    taken: bool


class CalendarOut(Schema):
    flat_id: int
    start: date
    days: int
    taken_nights: list[date]
    nights: list[NightOut]


class VisitorIn(Schema):
    name: Annotated[str, Line(64, min_length=1)]
    relation: Relation


class VisitorOut(Schema):
    name: str
    relation: str


class BookingIn(Schema):
    check_in: Day
    check_out: Day = Field(..., description="the day the family leaves; it is not a night "
                                            "of the stay and is free for the next guest")
    visitors: list[VisitorIn] = Field(..., min_length=1, max_length=8)
    note: Annotated[str, Text(500)] = ""


class BookingOut(Schema):
    id: int
    flat_id: int
    flat: str
    check_in: date
    check_out: date
    nights: int
    season: str
    status: str
    worker: str
    worker_mobile: str
    visitors: list[VisitorOut]
    note: str
    created_at: datetime
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    cancelled_at: datetime | None


def flat_out(f: Flat) -> FlatOut:
    return FlatOut(
        id=f.pk, name=f.name, area_code=f.area.code, station_id=f.station_id, address=f.address,
        description=f.description, max_guests=f.max_guests, max_nights=f.max_nights,
        max_bookings_per_season=f.max_bookings_per_season, horizon_days=f.horizon_days,
        contact_phone=f.contact_phone, is_active=f.is_active,
        equipment=[EquipmentOut(code=e.code, name_zh=e.name_zh, name_en=e.name_en)
                   for e in f.equipment.all()])


def booking_out(b: Booking, viewer) -> BookingOut:
    """The worker sees their own booking in full; whoever manages the flat sees the worker
    masked (the steward checks the family in by name, the worker's number stays masked)."""
    own = b.worker_id == viewer.pk
    return BookingOut(
        id=b.pk, flat_id=b.flat_id, flat=b.flat.name, check_in=b.check_in, check_out=b.check_out,
        nights=b.nights, season=b.season, status=b.status,
        worker=b.worker.real_name if own else mask_name(b.worker.real_name),
        worker_mobile=b.worker.mobile if own else mask_mobile(b.worker.mobile),
        visitors=[VisitorOut(name=v.name, relation=v.relation) for v in b.visitors.all()],
        note=b.note, created_at=b.created_at, checked_in_at=b.checked_in_at,
        checked_out_at=b.checked_out_at, cancelled_at=b.cancelled_at)


@router.get("/flats", url_name="flats", operation_id="list_flats",
            summary="Family short-stay flats (爱心公寓) and their equipment",
            response={200: list[FlatOut], **AUTH_ERRORS})
@paginate
def list_flats(request, managed: bool = False):
    return Rows(flat_list(request.user, managed=managed), lambda page: [flat_out(f) for f in page])


@router.get("/flats/{flat_id}", url_name="flat", operation_id="get_flat",
            summary="One flat", response={200: FlatOut, 404: ProblemOut, **AUTH_ERRORS})
def get_flat(request, flat_id: Id):
    flat = access_flat_by_id(request.user, flat_id)
    return flat_out(Flat.objects.prefetch_related("equipment").get(pk=flat.pk))


@router.get("/flats/{flat_id}/calendar", url_name="flat_calendar",
            operation_id="get_flat_calendar",
            summary="Which nights of a flat are taken (never by whom)",
            response={200: CalendarOut, 404: ProblemOut, **AUTH_ERRORS})
def get_flat_calendar(request, flat_id: Id, start: Day | None = None,
                      days: Annotated[int, Field(ge=1, le=selectors.CALENDAR_DAYS_MAX)] = 56):
    flat = access_flat_by_id(request.user, flat_id)
    nights = selectors.flat_calendar(flat, start=start, days=days)
    return CalendarOut(flat_id=flat.pk, start=nights[0].day, days=len(nights),
                       taken_nights=[n.day for n in nights if n.taken],
                       nights=[NightOut(night=n.day, taken=n.taken) for n in nights])


@router.post("/flats/{flat_id}/bookings", url_name="flat_bookings",
             operation_id="create_booking",
             summary="Book a flat for my visiting family (worker); 409 names the taken nights",
             response={201: BookingOut, 404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS})
@require_roles(Role.WORKER)
def create_booking(request, flat_id: Id, payload: BookingIn):
    flat = access_flat_by_id(request.user, flat_id)
    booking = services.booking_create(
        worker=request.user, flat=flat, check_in=payload.check_in, check_out=payload.check_out,
        visitors=[v.model_dump() for v in payload.visitors], note=payload.note, request=request)
    return Status(201, booking_out(_fresh(booking), request.user))


def _fresh(booking: Booking) -> Booking:
    return Booking.objects.select_related("flat", "worker").prefetch_related("visitors") \
        .get(pk=booking.pk)


@router.get("/bookings", url_name="bookings", operation_id="list_bookings",
            summary="My bookings; with managed=true, the bookings of the flats I keep",
            response={200: list[BookingOut], **AUTH_ERRORS})
@paginate
def list_bookings(request, managed: bool = False,
                  status: Literal["booked", "checked_in", "checked_out", "cancelled"]
                  | None = None):
    qs = booking_list(request.user, managed=managed)
    if status:
        qs = qs.filter(status=status)
    viewer = request.user
    return Rows(qs.order_by("-check_in", "-id"), lambda page: [booking_out(b, viewer)
                                                               for b in page])


@router.get("/bookings/{booking_id}", url_name="booking", operation_id="get_booking",
            summary="One booking", response={200: BookingOut, 404: ProblemOut, **AUTH_ERRORS})
def get_booking(request, booking_id: Id):
    return booking_out(access_booking_by_id(request.user, booking_id), request.user)


@router.post("/bookings/{booking_id}/cancel", url_name="booking_cancel",
             operation_id="cancel_booking",
             summary="Cancel a booking before check-in: its nights are free at once",
             response={200: BookingOut, 404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS})
def cancel_booking(request, booking_id: Id):
    booking = access_booking_by_id(request.user, booking_id)
    services.booking_cancel(actor=request.user, booking=booking, request=request)
    return booking_out(_fresh(booking), request.user)


@router.post("/bookings/{booking_id}/check-in", url_name="booking_check_in",
             operation_id="check_in_guests", summary="The family arrives (steward)",
             response={200: BookingOut, 404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS})
@require_roles(*MANAGERS)
def check_in_guests(request, booking_id: Id):
    booking = access_booking_by_id(request.user, booking_id, for_change=True)
    services.booking_check_in(actor=request.user, booking=booking, request=request)
    return booking_out(_fresh(booking), request.user)


@router.post("/bookings/{booking_id}/check-out", url_name="booking_check_out",
             operation_id="check_out_guests",
             summary="The family leaves (steward): the remaining nights are free at once",
             response={200: BookingOut, 404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS})
@require_roles(*MANAGERS)
def check_out_guests(request, booking_id: Id):
    booking = access_booking_by_id(request.user, booking_id, for_change=True)
    services.booking_check_out(actor=request.user, booking=booking, request=request)
    return booking_out(_fresh(booking), request.user)


# --- the housing survey (摸排) -------------------------------------------------------------------

Need = Literal["need_cheaper", "need_closer", "need_dormitory", "need_family", "need_short_stay"]
HousingKind = Literal["rent_alone", "rent_shared", "dormitory", "station", "own", "other"]
FIGURE_ROLES = (Role.HOUSING_OFFICE, Role.AREA_ADMIN, Role.DISTRICT_ADMIN)


class SurveyIn(Schema):
    area_code: Annotated[str, Line(32, min_length=1)]
    housing: HousingKind
    rent: Annotated[int, Field(ge=0, le=100_000)] | None = None
    commute_minutes: Annotated[int, Field(ge=0, le=600)]
    household: Annotated[int, Field(ge=1, le=50)] = 1
    needs: list[Need] = Field(default_factory=list, max_length=5)
    note: Annotated[str, Text(500)] = ""


class SurveyOut(Schema):
    id: int
    area_code: str
    brand: str | None
    job_type: str
    housing: str
    rent: int | None
    commute_minutes: int
    household: int
    needs: list[str]
    note: str
    updated_at: datetime


class FigureCellOut(Schema):
    key: str
    label: str
    count: int | None = Field(..., description="null when the group is below min_group")
    suppressed: bool
    avg_rent: int | None
    avg_commute: int | None
    housing: dict[str, int | None]
    needs: dict[str, int | None]


class SurveyFiguresOut(Schema):
    by: str
    min_group: int
    total: FigureCellOut | None
    cells: list[FigureCellOut]


def survey_out(s) -> SurveyOut:
    return SurveyOut(id=s.pk, area_code=s.area.code, brand=s.brand.code if s.brand else None,
                     job_type=s.job_type, housing=s.housing, rent=s.rent,
                     commute_minutes=s.commute_minutes, household=s.household,
                     needs=[n for n in s.NEEDS if getattr(s, n)], note=s.note,
                     updated_at=s.updated_at)


@router.get("/survey", url_name="survey_me", operation_id="get_my_survey",
            summary="My answers to the housing survey (404 before I answer)",
            response={200: SurveyOut, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(Role.WORKER)
def get_my_survey(request):
    survey = Survey.objects.select_related("area", "brand").filter(worker=request.user).first()
    if survey is None:
        raise NotFound()
    return survey_out(survey)


@router.put("/survey", url_name="survey_save", operation_id="save_my_survey",
            summary="Answer (or answer again) the housing survey (worker)",
            response={200: SurveyOut, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(Role.WORKER)
def save_my_survey(request, payload: SurveyIn):
    area = access_area_by_code(request.user, payload.area_code)
    survey = services.survey_save(
        worker=request.user, area=area, housing=payload.housing, rent=payload.rent,
        commute_minutes=payload.commute_minutes, household=payload.household,
        needs=set(payload.needs), note=payload.note, request=request)
    return survey_out(survey)


@router.get("/survey/figures", url_name="survey_figures", operation_id="get_survey_figures",
            summary="The survey's aggregates for my area, by street/town, brand or job type; "
                    "groups below min_group are suppressed",
            response={200: SurveyFiguresOut, **AUTH_ERRORS})
@require_roles(*FIGURE_ROLES)
def get_survey_figures(request, by: Literal["area", "brand", "job_type"] = "area"):
    return selectors.survey_figures(survey_scope(request.user), by=by)


@router.get("/surveys", url_name="surveys", operation_id="list_surveys",
            summary="Workers' answers, for the housing office of their area",
            response={200: list[SurveyOut], **AUTH_ERRORS})
@require_roles(Role.HOUSING_OFFICE)
@paginate
def list_surveys(request):
    return Rows(survey_list(request.user).order_by("-updated_at", "-id"),
                lambda page: [survey_out(s) for s in page])


@router.get("/surveys/{survey_id}", url_name="survey", operation_id="get_survey",
            summary="One worker's answers (the worker; the housing office of their area)",
            response={200: SurveyOut, 404: ProblemOut, **AUTH_ERRORS})
def get_survey(request, survey_id: Id):
    return survey_out(access_survey_by_id(request.user, survey_id))


# --- housing resources and rental intentions -----------------------------------------------------

ResourceKind = Literal["converted_flat", "dormitory", "factory", "commercial"]


class ResourceIn(Schema):
    kind: ResourceKind
    name: Annotated[str, Line(128, min_length=1)]
    area_code: Annotated[str, Line(32, min_length=1)]
    address: Annotated[str, Line(255)]
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    rooms: Annotated[int, Field(ge=0, le=100_000)] = 0
    beds: Annotated[int, Field(ge=0, le=100_000)] = 0
    available: Annotated[int, Field(ge=0, le=100_000)] = 0
    rent: Annotated[int, Field(ge=0, le=100_000)] | None = None
    conditions: Annotated[str, Text(1000)] = ""
    contact_name: Annotated[str, Line(64)] = ""
    contact_phone: Annotated[str, Line(32)] = ""
    available_from: Day | None = None


class ResourceOut(Schema):
    id: int
    kind: str
    name: str
    area_code: str
    address: str
    lat: float | None
    lng: float | None
    rooms: int
    beds: int
    available: int
    rent: int | None
    conditions: str
    contact_name: str
    contact_phone: str
    available_from: date | None
    is_active: bool


class RentalIn(Schema):
    people: Annotated[int, Field(ge=1, le=20)] = 1
    note: Annotated[str, Text(500)] = ""


class RentalStepIn(Schema):
    action: Literal["review", "viewing", "sign", "decline", "withdraw"]
    note: Annotated[str, Text(500)] = ""


class RentalOut(Schema):
    id: int
    resource_id: int
    resource: str
    status: str
    people: int
    note: str
    office_note: str
    worker: str
    worker_mobile: str
    created_at: datetime
    signed_at: datetime | None


class ResourceFigureOut(Schema):
    code: str
    name: str
    resources: int
    rooms: int
    beds: int
    available: int
    open: int
    signed: int


def resource_out(r: Resource) -> ResourceOut:
    return ResourceOut(area_code=r.area.code, **{f: getattr(r, f) for f in ResourceOut.model_fields
                                                 if f != "area_code"})


def rental_out(a: RentalApplication, viewer) -> RentalOut:
    own = a.worker_id == viewer.pk
    return RentalOut(id=a.pk, resource_id=a.resource_id, resource=a.resource.name,
                     status=a.status, people=a.people, note=a.note, office_note=a.office_note,
                     worker=a.worker.real_name if own else mask_name(a.worker.real_name),
                     worker_mobile=a.worker.mobile if own else mask_mobile(a.worker.mobile),
                     created_at=a.created_at, signed_at=a.signed_at)


@router.get("/resources", url_name="resources", operation_id="list_housing_resources",
            summary="Housing resources: converted flats, dormitories, idle factory buildings, "
                    "commercial space",
            response={200: list[ResourceOut], **AUTH_ERRORS})
@paginate
def list_housing_resources(request, kind: ResourceKind | None = None,
                           area: Annotated[str, Line(32)] | None = None):
    qs = resource_list(request.user)
    if kind:
        qs = qs.filter(kind=kind)
    if area:
        qs = qs.filter(area__path__contains=f"/{area}/")
    return Rows(qs.order_by("area__path", "name", "id"), lambda page: [resource_out(r)
                                                                       for r in page])


@router.post("/resources", url_name="resource_create", operation_id="create_housing_resource",
             summary="Add a housing resource in my area (housing office)",
             response={201: ResourceOut, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(Role.HOUSING_OFFICE)
def create_housing_resource(request, payload: ResourceIn):
    data = payload.model_dump()
    area = access_area_by_code(request.user, data.pop("area_code"))
    if not area_in_scope(request.user, area, roles=(Role.HOUSING_OFFICE,)):
        raise NotFound()
    resource = services.resource_save(actor=request.user, resource=Resource(), area=area,
                                      request=request, **data)
    return Status(201, resource_out(resource))


@router.get("/resources/{resource_id}", url_name="resource", operation_id="get_housing_resource",
            summary="One housing resource",
            response={200: ResourceOut, 404: ProblemOut, **AUTH_ERRORS})
def get_housing_resource(request, resource_id: Id):
    return resource_out(access_resource_by_id(request.user, resource_id))


@router.post("/resources/{resource_id}/applications", url_name="resource_apply",
             operation_id="apply_for_rental",
             summary="Apply for a resource: a rental intention (worker)",
             response={201: RentalOut, 404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS})
@require_roles(Role.WORKER)
def apply_for_rental(request, resource_id: Id, payload: RentalIn):
    resource = access_resource_by_id(request.user, resource_id)
    application = services.rental_apply(worker=request.user, resource=resource,
                                        people=payload.people, note=payload.note,
                                        request=request)
    return Status(201, rental_out(_rental(application.pk), request.user))


def _rental(pk: int) -> RentalApplication:
    return RentalApplication.objects.select_related("resource", "worker").get(pk=pk)


@router.get("/rental-applications", url_name="rentals", operation_id="list_rental_applications",
            summary="My rental applications; with office=true, those of my area",
            response={200: list[RentalOut], **AUTH_ERRORS})
@paginate
def list_rental_applications(request, office: bool = False,
                             status: Literal["submitted", "reviewing", "viewing", "signed",
                                             "declined", "withdrawn"] | None = None):
    qs = rental_list(request.user, office=office)
    if status:
        qs = qs.filter(status=status)
    viewer = request.user
    return Rows(qs.order_by("-created_at", "-id"), lambda page: [rental_out(a, viewer)
                                                                 for a in page])


@router.post("/rental-applications/{rental_id}/steps", url_name="rental_step",
             operation_id="move_rental_application",
             summary="Move an application on (housing office), or withdraw it (worker)",
             response={200: RentalOut, 404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS})
@require_roles(Role.WORKER, Role.HOUSING_OFFICE)
def move_rental_application(request, rental_id: Id, payload: RentalStepIn):
    mine = payload.action == "withdraw"
    application = access_rental_by_id(request.user, rental_id, for_office=not mine)
    if mine and application.worker_id != request.user.pk:
        raise NotFound()
    services.rental_move(actor=request.user, application=application, action=payload.action,
                         note=payload.note, request=request)
    return rental_out(_rental(application.pk), request.user)


class HousingFiguresOut(Schema):
    areas: list[ResourceFigureOut]


@router.get("/figures", url_name="housing_figures", operation_id="get_housing_figures",
            summary="Resources and rental intentions by street/town (my area)",
            response={200: HousingFiguresOut, **AUTH_ERRORS})
@require_roles(*FIGURE_ROLES)
def get_housing_figures(request):
    return {"areas": selectors.resource_figures(resource_list(request.user, managed=True),
                                                rental_list(request.user, office=True))}
