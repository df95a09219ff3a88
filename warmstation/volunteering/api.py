"""Volunteering: tasks and shifts, sign-up and cancellation, check-in/out by the place's QR code,
the organiser's roster, desk and confirmation, a worker's hours; errands. Every object is read
through volunteering.permissions."""


from datetime import date, datetime
from typing import Annotated, Literal

from django.utils.translation import gettext_lazy as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from warmstation.accounts.models import Role
from warmstation.areas.scoping import access_area_by_code
from warmstation.core.errors import InvalidInput, NotFound
from warmstation.core.pagination import Rows
from warmstation.core.permissions import require_roles
from warmstation.core.schemas import AUTH_ERRORS, Day, Id, Line, Mobile, Moment, ProblemOut, Text
from warmstation.volunteering import errands, selectors, services
from warmstation.volunteering.models import Errand, Shift, Signup, VolunteerTask
from warmstation.volunteering.permissions import (
    ERRAND_STAFF,
    ORGANISERS,
    access_errand_by_id,
    access_shift_by_id,
    access_signup_by_id,
    access_task_by_id,
    activity_list,
    can_see_resident,
    errand_list,
    organises,
    own_signup,
    roster_list,
)

router = Router(tags=["volunteering"])
ERR = {404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS}
WORKER = (Role.WORKER,)


class ShiftOut(Schema):
    id: int
    task_id: int
    starts_at: datetime
    ends_at: datetime
    capacity: int
    placed: int
    full: bool
    cancel_deadline: datetime
    note: str


class TaskOut(Schema):
    id: int
    kind: str
    title: str
    description: str
    area_code: str
    place_name: str
    lat: float
    lng: float
    checkin_radius_m: int
    is_active: bool
    distance_m: int | None = None
    shifts: list[ShiftOut] = []


class TasksNearOut(Schema):
    count: int
    tasks: list[TaskOut]


class TaskIn(Schema):
    area_code: Annotated[str, Line(32)]
    kind: Literal["checkpoint", "publicity", "patrol", "event"]
    title: Annotated[str, Line(64, min_length=1)]
    description: Annotated[str, Text(2000)] = ""
    place_name: Annotated[str, Line(128, min_length=1)]
    lat: float = Field(..., ge=-90, le=90)
    lng: float = Field(..., ge=-180, le=180)
    checkin_radius_m: int = Field(200, ge=20, le=5000)


class ShiftIn(Schema):
    starts_at: Moment
    ends_at: Moment
    capacity: int = Field(..., ge=1, le=services.CAPACITY_MAX)
    cancel_deadline: Moment | None = None
    note: Annotated[str, Line(128)] = ""


class SignupOut(Schema):
    id: int
    shift_id: int
    task_id: int
    task_title: str
    starts_at: datetime
    ends_at: datetime
    status: str
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    checkout_capped: bool
    minutes: int
    confirmed: bool
    points: int


class RosterOut(SignupOut):
    worker_name: str
    worker_mobile: str


class ScanIn(Schema):
    token: Annotated[str, Line(64, min_length=1)]
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)


class DeskIn(Schema):
    action: Literal["check_in", "check_out", "no_show"]


class HoursOut(Schema):
    confirmed_hours: float
    confirmed_minutes: int
    pending_minutes: int
    shifts: int
    errand_minutes: int
    errands: int
    no_shows: int
    points: int


def _signup_out(s: Signup) -> dict:
    return {"id": s.pk, "shift_id": s.shift_id, "task_id": s.shift.task_id,
            "task_title": s.shift.task.title, "starts_at": s.shift.starts_at,
            "ends_at": s.shift.ends_at, "status": s.status, "checked_in_at": s.checked_in_at,
            "checked_out_at": s.checked_out_at, "checkout_capped": s.checkout_capped,
            "minutes": s.minutes, "confirmed": s.confirmed_at is not None, "points": s.points}


def _signup(signup_id: int) -> dict:
    return _signup_out(Signup.objects.select_related("shift__task").get(pk=signup_id))


def _shift_out(s: Shift) -> ShiftOut:
    return ShiftOut(id=s.pk, task_id=s.task_id, starts_at=s.starts_at, ends_at=s.ends_at,
                    capacity=s.capacity, placed=s.placed, full=s.full,
                    cancel_deadline=s.cancel_deadline, note=s.note)


def _task_out(t: VolunteerTask) -> TaskOut:
    shifts = getattr(t, "coming", None)
    if shifts is None:
        shifts = list(t.shifts.all())
    return TaskOut(id=t.pk, kind=t.kind, title=t.title, description=t.description,
                   area_code=t.area.code, place_name=t.place_name, lat=t.lat, lng=t.lng,
                   checkin_radius_m=t.checkin_radius_m, is_active=t.is_active,
                   distance_m=getattr(t, "distance_m", None),
                   shifts=[_shift_out(s) for s in shifts])


@router.get("/tasks", url_name="volunteer_tasks", operation_id="list_volunteer_tasks",
            summary="Tasks with shifts to come: in my areas (mine=true), or all I may see",
            response={200: list[TaskOut], **AUTH_ERRORS})
@require_roles(Role.WORKER, *ORGANISERS)
@paginate
def list_volunteer_tasks(request, mine: bool = False,
                         kind: Literal["checkpoint", "publicity", "patrol", "event"] | None
                         = None):
    paths = None
    if mine:
        profile = getattr(request.user, "worker_profile", None)
        paths = [a.path for a in profile.areas.all()] if profile else []
    return Rows(selectors.task_browse(user=request.user, area_paths=paths, kind=kind),
                lambda page: [_task_out(t) for t in page])


@router.get("/tasks/nearby", url_name="volunteer_tasks_nearby",
            operation_id="volunteer_tasks_nearby",
            summary="Tasks near a point (WGS-84), nearest first; the best `limit`, not a list",
            response={200: TasksNearOut, **AUTH_ERRORS})
@require_roles(Role.WORKER, *ORGANISERS)
def volunteer_tasks_nearby(request, lat: float = Query(..., ge=-90, le=90),
                           lng: float = Query(..., ge=-180, le=180),
                           radius_m: int = Query(5000, ge=100, le=50_000),
                           limit: int = Query(20, ge=1, le=50)):
    tasks = [_task_out(t) for t in selectors.task_nearby(user=request.user, lat=lat, lng=lng,
                                                         radius_m=radius_m, limit=limit)]
    return {"count": len(tasks), "tasks": tasks}


@router.get("/tasks/{task_id}", url_name="volunteer_task", operation_id="get_volunteer_task",
            summary="A task with its shifts", response={200: TaskOut, **ERR})
@require_roles(Role.WORKER, *ORGANISERS)
def get_volunteer_task(request, task_id: Id):
    return _task_out(access_task_by_id(request.user, task_id))


@router.post("/tasks", url_name="volunteer_task_create", operation_id="create_volunteer_task",
             summary="Create a task and its place (organiser)",
             response={201: TaskOut, **ERR})
@require_roles(*ORGANISERS)
def create_volunteer_task(request, payload: TaskIn):
    area = _organised_area(request.user, payload.area_code)
    task = services.task_save(actor=request.user, task=VolunteerTask(), area=area,
                              kind=payload.kind, title=payload.title,
                              description=payload.description, place_name=payload.place_name,
                              lat=payload.lat, lng=payload.lng,
                              checkin_radius_m=payload.checkin_radius_m, request=request)
    return Status(201, _task_out(task))


def _organised_area(user, code: str):
    """An area named in a body: one the organiser does not cover is a wrong value (422 on the
    field), as an unknown code is."""
    try:
        area = access_area_by_code(user, code)
    except NotFound:
        area = None
    if area is None or not organises(user, area):
        raise InvalidInput(_("区域无效。"), field="area_code")
    return area


@router.post("/tasks/{task_id}/shifts", url_name="volunteer_shift_create",
             operation_id="create_volunteer_shift", summary="Add a shift to a task (organiser)",
             response={201: ShiftOut, **ERR})
@require_roles(*ORGANISERS)
def create_volunteer_shift(request, task_id: Id, payload: ShiftIn):
    task = access_task_by_id(request.user, task_id, for_change=True)
    shift = services.shift_create(actor=request.user, task=task, starts_at=payload.starts_at,
                                  ends_at=payload.ends_at, capacity=payload.capacity,
                                  cancel_deadline=payload.cancel_deadline, note=payload.note,
                                  request=request)
    return Status(201, _shift_out(shift))


@router.post("/shifts/{shift_id}/signup", url_name="volunteer_signup",
             operation_id="signup_volunteer_shift",
             summary="Sign up for a shift: a place, or the waitlist when it is full",
             response={201: SignupOut, **ERR})
@require_roles(*WORKER)
def signup_volunteer_shift(request, shift_id: Id):
    shift = access_shift_by_id(request.user, shift_id)
    signup = services.shift_signup(worker=request.user, shift_id=shift.pk, request=request)
    return Status(201, _signup(signup.pk))


@router.post("/signups/{signup_id}/cancel", url_name="volunteer_signup_cancel",
             operation_id="cancel_volunteer_signup",
             summary="Cancel my sign-up (a place until the cancellation deadline)",
             response={200: SignupOut, **ERR})
@require_roles(*WORKER)
def cancel_volunteer_signup(request, signup_id: Id):
    signup = own_signup(request.user, signup_id)
    services.signup_cancel(actor=request.user, signup_id=signup.pk, request=request)
    return _signup(signup.pk)


@router.get("/me/signups", url_name="my_volunteer_signups",
            operation_id="list_my_volunteer_signups", summary="My shifts, latest first",
            response={200: list[SignupOut], **AUTH_ERRORS})
@require_roles(*WORKER)
@paginate
def list_my_volunteer_signups(request):
    return Rows(selectors.my_signups(request.user), lambda page: [_signup_out(s) for s in page])


@router.get("/me/hours", url_name="my_volunteer_hours", operation_id="my_volunteer_hours",
            summary="My volunteer time: confirmed, waiting, errands, points",
            response={200: HoursOut, **AUTH_ERRORS})
@require_roles(*WORKER)
def my_volunteer_hours(request):
    return selectors.my_hours(request.user)


@router.post("/check", url_name="volunteer_check", operation_id="volunteer_check",
             summary="Scan the place's QR code: check in, or out if already in "
                     "(within the radius when a position is sent)",
             response={200: SignupOut, **ERR})
@require_roles(*WORKER)
def volunteer_check(request, payload: ScanIn):
    signup = services.attendance_scan(worker=request.user, token=payload.token,
                                      lat=payload.lat, lng=payload.lng, request=request)
    return _signup(signup.pk)


def _roster_out(s: Signup) -> dict:
    return {**_signup_out(s), "worker_name": s.worker.real_name,
            "worker_mobile": s.worker.mobile}


@router.get("/shifts/{shift_id}/roster", url_name="volunteer_roster",
            operation_id="list_volunteer_roster",
            summary="A shift's roster: places, waitlist, attendance (organiser)",
            response={200: list[RosterOut], **ERR})
@require_roles(*ORGANISERS)
@paginate
def list_volunteer_roster(request, shift_id: Id):
    shift = access_shift_by_id(request.user, shift_id, for_change=True)
    return Rows(roster_list(request.user, shift).select_related("shift__task"),
                lambda page: [_roster_out(s) for s in page])


@router.post("/signups/{signup_id}/attendance", url_name="volunteer_desk",
             operation_id="mark_volunteer_attendance",
             summary="The check-in desk: check a worker in or out, or record a no-show",
             response={200: RosterOut, **ERR})
@require_roles(*ORGANISERS)
def mark_volunteer_attendance(request, signup_id: Id, payload: DeskIn):
    signup = access_signup_by_id(request.user, signup_id, for_change=True)
    services.attendance_mark(actor=request.user, signup=signup, action=payload.action,
                             request=request)
    return _roster_out(Signup.objects.select_related("shift__task", "worker").get(pk=signup.pk))


@router.post("/signups/{signup_id}/confirm", url_name="volunteer_confirm",
             operation_id="confirm_volunteer_attendance",
             summary="Confirm the hours; the published rule's points follow, exactly once",
             response={200: RosterOut, **ERR})
@require_roles(*ORGANISERS)
def confirm_volunteer_attendance(request, signup_id: Id):
    signup = access_signup_by_id(request.user, signup_id, for_change=True)
    services.attendance_confirm(actor=request.user, signup=signup, request=request)
    return _roster_out(Signup.objects.select_related("shift__task", "worker").get(pk=signup.pk))


# --- errands ----------------------------------------------------------------------------------

ERRAND_ROLES = (Role.WORKER, Role.RESIDENT, *ERRAND_STAFF)


class ResidentOut(Schema):
    name: str
    address: str
    phone: str


class ErrandOut(Schema):
    id: int
    area_code: str
    title: str
    details: str
    where: str
    due_at: datetime | None
    budget: float | None
    status: str
    taken: bool
    minutes: int
    points: int
    # Only for the worker who took it, until it is done (and for the resident themselves).
    resident: ResidentOut | None


class ErrandIn(Schema):
    area_code: Annotated[str, Line(32)]
    title: Annotated[str, Line(64, min_length=1)]
    details: Annotated[str, Text(1000)] = ""
    where: Annotated[str, Line(128)] = ""
    due_at: Moment | None = None
    budget: float | None = Field(None, ge=0, le=5000, allow_inf_nan=False)
    resident_name: Annotated[str, Line(32, min_length=1)]
    resident_address: Annotated[str, Line(128, min_length=1)]
    resident_phone: Annotated[str, Line(32)] = ""


class ErrandDoneIn(Schema):
    minutes: int = Field(..., ge=1, le=errands.MINUTES_MAX)
    spent: float | None = Field(None, ge=0, le=5000, allow_inf_nan=False)


def _errand_out(e: Errand, user) -> dict:
    resident = {"name": e.resident_name, "address": e.resident_address,
                "phone": e.resident_phone} if can_see_resident(user, e) else None
    return {"id": e.pk, "area_code": e.area.code, "title": e.title, "details": e.details,
            "where": e.where, "due_at": e.due_at,
            "budget": float(e.budget) if e.budget is not None else None, "status": e.status,
            "taken": e.taker_id is not None, "minutes": e.minutes, "points": e.points,
            "resident": resident}


def _money(value: float | None, field: str):
    return errands.parse_money("" if value is None else f"{value:.2f}", field=field)


@router.get("/errands", url_name="errands", operation_id="list_errands",
            summary="Errands I may see: open ones (verified workers), mine, my area's (staff)",
            response={200: list[ErrandOut], **AUTH_ERRORS})
@require_roles(*ERRAND_ROLES)
@paginate
def list_errands(request, status: Literal["open", "taken", "done", "confirmed", "cancelled"]
                 | None = None):
    qs = errand_list(request.user).order_by("-created_at", "-id")
    if status:
        qs = qs.filter(status=status)
    return Rows(qs, lambda page: [_errand_out(e, request.user) for e in page])


@router.get("/errands/{errand_id}", url_name="errand", operation_id="get_errand",
            summary="An errand (the resident's details only for the worker running it)",
            response={200: ErrandOut, **ERR})
@require_roles(*ERRAND_ROLES)
def get_errand(request, errand_id: Id):
    return _errand_out(access_errand_by_id(request.user, errand_id), request.user)


@router.post("/errands", url_name="errand_create", operation_id="create_errand",
             summary="Community staff post an errand for a resident",
             response={201: ErrandOut, **ERR})
@require_roles(*ERRAND_STAFF)
def create_errand(request, payload: ErrandIn):
    area = _organised_area(request.user, payload.area_code)
    e = errands.errand_post(
        actor=request.user, area=area, title=payload.title, details=payload.details,
        where=payload.where, due_at=payload.due_at,
        budget=_money(payload.budget, "budget"), resident_name=payload.resident_name,
        resident_address=payload.resident_address, resident_phone=payload.resident_phone,
        request=request)
    return Status(201, _errand_out(e, request.user))


@router.post("/errands/{errand_id}/take", url_name="errand_take", operation_id="take_errand",
             summary="A verified worker takes an open errand (one wins a race)",
             response={200: ErrandOut, **ERR})
@require_roles(Role.WORKER)
def take_errand(request, errand_id: Id):
    e = errands.errand_take(worker=request.user,
                            errand=access_errand_by_id(request.user, errand_id),
                            request=request)
    return _errand_out(e, request.user)


@router.post("/errands/{errand_id}/done", url_name="errand_done", operation_id="finish_errand",
             summary="The worker who took it marks it done, with the time it took",
             response={200: ErrandOut, **ERR})
@require_roles(Role.WORKER)
def finish_errand(request, errand_id: Id, payload: ErrandDoneIn):
    e = errands.errand_done(worker=request.user,
                            errand=access_errand_by_id(request.user, errand_id),
                            minutes=payload.minutes, spent=_money(payload.spent, "spent"),
                            request=request)
    return _errand_out(e, request.user)


@router.post("/errands/{errand_id}/confirm", url_name="errand_confirm",
             operation_id="confirm_errand",
             summary="The resident (or community staff) confirms: hours and points, once",
             response={200: ErrandOut, **ERR})
@require_roles(Role.RESIDENT, *ERRAND_STAFF)
def confirm_errand(request, errand_id: Id):
    e = access_errand_by_id(request.user, errand_id)
    if e.resident_id != request.user.pk:
        e = access_errand_by_id(request.user, errand_id, for_change=True)
    e = errands.errand_confirm(actor=request.user, errand=e, request=request)
    return _errand_out(e, request.user)


# --- the 四个一 activities --------------------------------------------------------------------

class ActivityOut(Schema):
    id: int
    area_code: str
    kind: str
    title: str
    held_on: date
    people_reached: int
    station_id: int | None
    goods: list[dict]
    participants: int


class GoodsIn(Schema):
    item: Annotated[str, Line(32, min_length=1)]
    quantity: int = Field(..., ge=1, le=1000)


class ActivityIn(Schema):
    area_code: Annotated[str, Line(32)]
    kind: Literal["visit", "initiative", "care_delivery", "shared_service"]
    title: Annotated[str, Line(64, min_length=1)]
    held_on: Day
    people_reached: int = Field(..., ge=1, le=100_000)
    note: Annotated[str, Text(1000)] = ""
    station_id: Id | None = None
    goods: list[GoodsIn] = Field([], max_length=20)
    participant_mobiles: list[Mobile] = Field([], max_length=50)


def _activity_out(a, participants: int | None = None) -> dict:
    return {"id": a.pk, "area_code": a.area.code, "kind": a.kind, "title": a.title,
            "held_on": a.held_on, "people_reached": a.people_reached,
            "station_id": a.station_id, "goods": a.goods,
            "participants": a.participants.count() if participants is None else participants}


@router.get("/activities", url_name="activities", operation_id="list_activities",
            summary="四个一 activities of my areas, latest first",
            response={200: list[ActivityOut], **AUTH_ERRORS})
@require_roles(*ORGANISERS)
@paginate
def list_activities(request):
    from django.db.models import Count

    qs = activity_list(request.user).annotate(n=Count("participants")).order_by("-held_on", "-id")
    return Rows(qs, lambda page: [_activity_out(a, a.n) for a in page])


@router.post("/activities", url_name="activity_create", operation_id="create_activity",
             summary="Record a 四个一 activity (a care delivery takes its goods from a cabinet)",
             response={201: ActivityOut, **ERR})
@require_roles(*ORGANISERS)
def create_activity(request, payload: ActivityIn):
    from warmstation.accounts.selectors import worker_by_mobile
    from warmstation.stations.models import Station
    from warmstation.volunteering.activities import activity_record

    area = _organised_area(request.user, payload.area_code)
    station = None
    if payload.station_id is not None:
        station = Station.objects.filter(pk=payload.station_id, is_active=True).first()
        if station is None or not organises(request.user, station.area):
            raise InvalidInput(_("驿站无效。"), field="station_id")
    people = [worker_by_mobile(m) for m in payload.participant_mobiles]
    a = activity_record(actor=request.user, area=area, kind=payload.kind, title=payload.title,
                        held_on=payload.held_on, people_reached=payload.people_reached,
                        note=payload.note, station=station,
                        goods=[(g.item, g.quantity) for g in payload.goods],
                        participants=people, request=request)
    return Status(201, _activity_out(a))
