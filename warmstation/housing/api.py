"""The family short-stay flat: flats and their calendars (anyone signed in), bookings (workers
book for their visiting family; the steward and the housing office check guests in and out)."""

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Router, Schema, Status
from ninja.pagination import paginate
from pydantic import Field

from warmstation.accounts.models import Role
from warmstation.core.masking import mask_mobile, mask_name
from warmstation.core.pagination import Rows
from warmstation.core.permissions import require_roles
from warmstation.core.schemas import AUTH_ERRORS, Day, Id, Line, ProblemOut, Text
from warmstation.housing import selectors, services
from warmstation.housing.models import Booking, Flat
from warmstation.housing.permissions import (
    access_booking_by_id,
    access_flat_by_id,
    booking_list,
    flat_list,
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
