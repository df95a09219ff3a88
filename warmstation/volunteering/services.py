"""Every write about volunteer tasks, shifts and attendance.

Capacity (why a shift is never overfilled): every change of a shift's places — a sign-up, a
cancellation, a waitlist promotion — first locks the shift row (`SELECT … FOR UPDATE`), so they
run one at a time per shift; the place itself is taken by a conditional `UPDATE … SET placed =
placed + 1 WHERE placed < capacity`, and the database's CHECK (placed <= capacity) is the last
word even for a bug here. Lock order: the shift, then its sign-ups, then (confirmation) the
worker's points account inside the ledger — never the other way round.

Points for a shift are paid once per attendance: the ledger call's idempotency key names the
sign-up (`volunteering.attendance:<id>`), so a retried or raced confirmation pays nothing twice.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from warmstation.core import geo
from warmstation.core.audit import audit_record
from warmstation.core.errors import ApplicationError, Conflict, InvalidInput, NotFound
from warmstation.core.inputs import clean_text
from warmstation.core.time import LOCAL
from warmstation.outreach.models import OutboxMessage
from warmstation.outreach.services import outbox_enqueue
from warmstation.volunteering.models import (
    CHECKIN_EARLY,
    Shift,
    Signup,
    VolunteerProfile,
    VolunteerTask,
)

if TYPE_CHECKING:
    from django.http import HttpRequest

    from warmstation.accounts.models import User
    from warmstation.areas.models import Area

# An SMS reminder goes this long before a shift starts.
REMIND_BEFORE = timedelta(hours=12)
# Attendance of a shift is closed this long after it ends: a check-in without check-out is
# then capped at the shift's end and flagged, a placed worker who never came is a no-show.
CLOSE_GRACE = timedelta(hours=2)
SHIFT_MAX = timedelta(hours=24)
CAPACITY_MAX = 500
SMS_PREFIX = "【37°C+暖心驿站】"


def _local(moment: datetime) -> str:
    return moment.astimezone(LOCAL).strftime("%m月%d日 %H:%M")


def _sms(user: User, body: str, purpose: str) -> None:
    """An SMS through the outbox, in the caller's transaction (sent after commit)."""
    if user.mobile and user.mobile[:1] == "1":
        outbox_enqueue(channel=OutboxMessage.Channel.SMS, recipient=user.mobile,
                       body=f"{SMS_PREFIX}{body}", purpose=purpose)


def volunteer_profile_open(*, user: User) -> VolunteerProfile:
    """The worker's volunteer profile, made on first use with the next volunteer number
    (FSV + the user id: unique, stable, and says nothing about the person)."""
    profile = VolunteerProfile.objects.filter(user=user).first()
    if profile is not None:
        return profile
    try:
        with transaction.atomic():
            return VolunteerProfile.objects.create(user=user, number=f"FSV{user.pk:08d}")
    except IntegrityError:
        return VolunteerProfile.objects.get(user=user)


# --- tasks and shifts -------------------------------------------------------------------------

def task_save(*, actor: User | None, task: VolunteerTask, area: Area, kind: str, title: str,
              place_name: str, lat: float, lng: float, description: str = "",
              checkin_radius_m: int = 200, points_action: str = "volunteer_shift",
              request: HttpRequest | None = None) -> VolunteerTask:
    """Create (an unsaved `task`) or change a task and its place."""
    if kind not in VolunteerTask.Kind.values:
        raise InvalidInput(_("请选择任务类型。"), code="invalid_kind", field="kind")
    title = clean_text(title, max_length=64, field="title")
    place_name = clean_text(place_name, max_length=128, field="place_name")
    if not title:
        raise InvalidInput(_("请填写任务名称。"), field="title")
    if not place_name:
        raise InvalidInput(_("请填写地点。"), field="place_name")
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or not geo.in_china(lat, lng):
        raise InvalidInput(_("地点坐标无效。"), code="invalid_location", field="lat")
    if not 20 <= checkin_radius_m <= 5000:
        raise InvalidInput(_("签到范围须在 20 至 5000 米之间。"), code="invalid_radius",
                           field="checkin_radius_m")
    created = task.pk is None
    task.area, task.kind, task.title, task.place_name = area, kind, title, place_name
    task.description = clean_text(description, max_length=2000, multiline=True,
                                  field="description")
    task.lat, task.lng, task.checkin_radius_m = lat, lng, checkin_radius_m
    task.points_action = points_action
    if created:
        task.organiser = actor
    task.save()
    audit_record("volunteer.task_create" if created else "volunteer.task_update", actor=actor,
                 obj=task, request=request, detail={"area": area.code, "kind": kind})
    return task


def shift_create(*, actor: User | None, task: VolunteerTask, starts_at: datetime,
                 ends_at: datetime, capacity: int, cancel_deadline: datetime | None = None,
                 note: str = "", now: datetime | None = None,
                 request: HttpRequest | None = None) -> Shift:
    """A new shift. It must end after it starts and last at most SHIFT_MAX (an overnight
    shift ends the next day); the cancellation deadline defaults to two hours before the
    start and cannot be after it."""
    now = now or timezone.now()
    if ends_at <= starts_at:
        raise InvalidInput(_("结束时间须晚于开始时间。"), code="invalid_span", field="ends_at")
    if ends_at - starts_at > SHIFT_MAX:
        raise InvalidInput(_("一个班次最长 24 小时。"), code="invalid_span", field="ends_at")
    if starts_at <= now:
        raise InvalidInput(_("开始时间须在将来。"), code="in_the_past", field="starts_at")
    if not 1 <= capacity <= CAPACITY_MAX:
        raise InvalidInput(_("名额须在 1 至 %(max)s 之间。"), params={"max": CAPACITY_MAX},
                           code="invalid_capacity", field="capacity")
    deadline = cancel_deadline or starts_at - timedelta(hours=2)
    if deadline > starts_at:
        raise InvalidInput(_("取消截止时间不能晚于开始时间。"), code="invalid_deadline",
                           field="cancel_deadline")
    shift = Shift.objects.create(task=task, starts_at=starts_at, ends_at=ends_at,
                                 capacity=capacity, cancel_deadline=max(deadline, now),
                                 note=clean_text(note, max_length=128, field="note"))
    audit_record("volunteer.shift_create", actor=actor, obj=shift, request=request,
                 detail={"task": task.pk, "capacity": capacity})
    return shift


def _locked_shift(shift_id: int) -> Shift:
    shift = Shift.objects.select_for_update().filter(pk=shift_id).first()
    if shift is None:
        raise NotFound()
    return shift


def shift_signup(*, worker: User, shift_id: int, now: datetime | None = None,
                 request: HttpRequest | None = None) -> Signup:
    """Sign `worker` up: a place if one is free, else the waitlist. Never more than the
    capacity, whatever the concurrency (module docstring). Signing up again after cancelling
    reuses the row; signing up twice is refused."""
    now = now or timezone.now()
    with transaction.atomic():
        shift = _locked_shift(shift_id)
        task = VolunteerTask.objects.get(pk=shift.task_id)
        if not task.is_active or shift.starts_at <= now:
            raise Conflict(_("该班次已开始或已停止报名。"), code="signup_closed")
        signup = Signup.objects.select_for_update().filter(shift=shift, worker=worker).first()
        if signup is not None and signup.status in (Signup.Status.PLACED,
                                                    Signup.Status.WAITLIST):
            raise Conflict(_("您已报名该班次。"), code="already_signed_up")
        placed = Shift.objects.filter(pk=shift.pk, placed__lt=F("capacity")) \
            .update(placed=F("placed") + 1)
        status = Signup.Status.PLACED if placed else Signup.Status.WAITLIST
        fields: dict[str, Any] = {"status": status, "cancelled_at": None,
                                  "waitlisted_at": None if placed else now}
        if signup is None:
            signup = Signup.objects.create(shift=shift, worker=worker, **fields)
        else:
            for name, value in fields.items():
                setattr(signup, name, value)
            signup.save(update_fields=[*fields, "updated_at"])
        volunteer_profile_open(user=worker)
        audit_record("volunteer.signup", actor=worker, obj=signup, request=request,
                     detail={"shift": shift.pk, "status": status})
    return signup


def _promote_next(shift: Shift, now: datetime) -> Signup | None:
    """The first on the waitlist takes the free place and is told by SMS. Caller holds the
    shift's lock and has just freed a place."""
    nxt = (Signup.objects.select_for_update().filter(shift=shift, status=Signup.Status.WAITLIST)
           .order_by("waitlisted_at", "id").first())
    if nxt is None or shift.starts_at <= now:
        return None
    if not Shift.objects.filter(pk=shift.pk, placed__lt=F("capacity")) \
            .update(placed=F("placed") + 1):
        return None
    nxt.status, nxt.waitlisted_at = Signup.Status.PLACED, None
    nxt.save(update_fields=["status", "waitlisted_at", "updated_at"])
    task = VolunteerTask.objects.get(pk=shift.task_id)
    _sms(nxt.worker, f"您候补的志愿任务“{task.title[:20]}”（{_local(shift.starts_at)}）"
         f"已转为正式报名，请按时到{task.place_name[:20]}签到。", "volunteer_promoted")
    audit_record("volunteer.waitlist_promote", obj=nxt, detail={"shift": shift.pk})
    return nxt


def signup_cancel(*, actor: User, signup_id: int, now: datetime | None = None,
                  request: HttpRequest | None = None) -> Signup:
    """The worker cancels (a place until the shift's cancellation deadline; the waitlist any
    time before the start). A freed place goes to the first on the waitlist."""
    now = now or timezone.now()
    with transaction.atomic():
        shift_id = Signup.objects.filter(pk=signup_id).values_list("shift_id", flat=True).first()
        if shift_id is None:
            raise NotFound()
        shift = _locked_shift(shift_id)
        signup = Signup.objects.select_for_update().get(pk=signup_id)
        if signup.status not in (Signup.Status.PLACED, Signup.Status.WAITLIST):
            raise Conflict(_("该报名已取消或已结束。"), code="not_active")
        if signup.status == Signup.Status.PLACED and now > shift.cancel_deadline:
            raise Conflict(_("已过取消截止时间（%(at)s），如有变故请联系组织者。"),
                           params={"at": _local(shift.cancel_deadline)},
                           code="cancel_deadline_passed")
        if shift.starts_at <= now:
            raise Conflict(_("班次已开始，不能取消。"), code="shift_started")
        was_placed = signup.status == Signup.Status.PLACED
        signup.status, signup.cancelled_at, signup.waitlisted_at = \
            Signup.Status.CANCELLED, now, None
        signup.save(update_fields=["status", "cancelled_at", "waitlisted_at", "updated_at"])
        if was_placed:
            Shift.objects.filter(pk=shift.pk).update(placed=F("placed") - 1)
            shift.refresh_from_db(fields=["placed"])
            _promote_next(shift, now)
        audit_record("volunteer.signup_cancel", actor=actor, obj=signup, request=request,
                     detail={"shift": shift.pk, "was_placed": was_placed})
    return signup


# --- attendance --------------------------------------------------------------------------------

def served_minutes(shift: Shift, checked_in_at: datetime, checked_out_at: datetime) -> int:
    """Service actually given: from check-in to check-out at the place (travel to and from it
    is outside that span), counted within the shift's own span (an early arrival counts from
    the start, a late leave to the end). Aware datetimes, so a shift across midnight, or a
    DST-free zone's night, is simply its length."""
    start = max(checked_in_at, shift.starts_at)
    end = min(checked_out_at, shift.ends_at)
    return max(0, int((end - start).total_seconds() // 60))


def _check_position(task: VolunteerTask, lat: float | None, lng: float | None) -> None:
    if lat is None or lng is None:
        return  # the phone gave no position: the QR code alone is the proof
    distance = geo.distance_m(lat, lng, task.lat, task.lng)
    if distance > task.checkin_radius_m:
        raise Conflict(_("您距离签到地点约 %(d)s 米，超出 %(r)s 米范围，请到现场再扫码。"),
                       params={"d": round(distance), "r": task.checkin_radius_m},
                       code="out_of_range", extra={"distance_m": round(distance)})


def _check_in(signup: Signup, shift: Shift, now: datetime, method: str) -> None:
    if not shift.open_for_checkin(now):
        raise Conflict(_("不在签到时间内（开始前 %(m)s 分钟至结束）。"),
                       params={"m": int(CHECKIN_EARLY.total_seconds() // 60)},
                       code="not_checkin_time")
    signup.checked_in_at, signup.check_in_method = now, method
    if signup.status == Signup.Status.NO_SHOW:  # the organiser marked too early
        signup.status = Signup.Status.PLACED
    signup.save(update_fields=["checked_in_at", "check_in_method", "status", "updated_at"])


def _check_out(signup: Signup, shift: Shift, now: datetime, method: str) -> None:
    assert signup.checked_in_at is not None
    signup.checked_out_at = max(min(now, shift.ends_at), signup.checked_in_at)
    signup.check_out_method = method
    signup.minutes = served_minutes(shift, signup.checked_in_at, signup.checked_out_at)
    signup.save(update_fields=["checked_out_at", "check_out_method", "minutes", "updated_at"])


def attendance_scan(*, worker: User, token: str, lat: float | None = None,
                    lng: float | None = None, now: datetime | None = None,
                    request: HttpRequest | None = None) -> Signup:
    """The worker scanned the place's QR code: check in to their shift there that is open now,
    or check out if already in. Within the radius when the phone gave a position."""
    now = now or timezone.now()
    task = next((t for t in VolunteerTask.objects.filter(checkin_token=token[:32])
                 if hmac.compare_digest(t.checkin_token.encode(), token.encode())), None)
    if task is None:
        raise NotFound()
    with transaction.atomic():
        signup = (Signup.objects.select_for_update(of=("self",))
                  .filter(worker=worker, shift__task=task, shift__closed_at=None,
                          status__in=[Signup.Status.PLACED, Signup.Status.NO_SHOW],
                          shift__starts_at__lte=now + CHECKIN_EARLY,
                          shift__ends_at__gte=now - CLOSE_GRACE, checked_out_at=None)
                  .select_related("shift").order_by("shift__starts_at").first())
        if signup is None:
            raise Conflict(_("您在此地点现在没有已报名的班次。"), code="no_shift_now")
        _check_position(task, lat, lng)
        shift = signup.shift
        if signup.checked_in_at is None:
            _check_in(signup, shift, now, Signup.Method.QR)
            action = "volunteer.check_in"
        else:
            _check_out(signup, shift, now, Signup.Method.QR)
            action = "volunteer.check_out"
        audit_record(action, actor=worker, obj=signup, request=request,
                     detail={"method": "qr", "with_position": lat is not None})
    return signup


DESK_ACTIONS = ("check_in", "check_out", "no_show")


def attendance_mark(*, actor: User, signup: Signup, action: str, now: datetime | None = None,
                    request: HttpRequest | None = None) -> Signup:
    """The organiser's check-in desk: check a worker in or out by hand, or record a no-show
    (after the start, for a placed worker who has not checked in)."""
    now = now or timezone.now()
    if action not in DESK_ACTIONS:
        raise InvalidInput(_("未知的操作。"), code="invalid_action", field="action")
    with transaction.atomic():
        signup = Signup.objects.select_for_update().get(pk=signup.pk)
        shift = Shift.objects.get(pk=signup.shift_id)
        if signup.confirmed_at is not None:
            raise Conflict(_("工时已确认，不能再修改。"), code="already_confirmed")
        if action == "check_in":
            if signup.status not in (Signup.Status.PLACED, Signup.Status.NO_SHOW) or \
                    signup.checked_in_at is not None:
                raise Conflict(_("该报名不能签到。"), code="invalid_transition")
            _check_in(signup, shift, now, Signup.Method.ORGANISER)
        elif action == "check_out":
            if signup.checked_in_at is None or signup.checked_out_at is not None:
                raise Conflict(_("该报名尚未签到或已签退。"), code="invalid_transition")
            _check_out(signup, shift, now, Signup.Method.ORGANISER)
        else:
            if signup.status != Signup.Status.PLACED or signup.checked_in_at is not None or \
                    now < shift.starts_at:
                raise Conflict(_("只有班次开始后仍未签到的报名可记为未到岗。"),
                               code="invalid_transition")
            signup.status = Signup.Status.NO_SHOW
            signup.save(update_fields=["status", "updated_at"])
        audit_record(f"volunteer.{action}", actor=actor, obj=signup, request=request,
                     detail={"method": "organiser"})
    return signup


def _award(*, user: User, action: str, key: str, source_ref: str,
           actor: User | None) -> tuple[int, int | None, str]:
    """Points by the published rule, through the ledger's idempotent award: (points,
    transaction id, note). A refusal (cap reached, no such rule) pays nothing and is noted —
    the hours stand. The ledger remembers the key, so a retry replays the same answer."""
    from warmstation.points.services import points_award

    try:
        out = points_award(user=user, action=action, idempotency_key=key,
                           source_ref=source_ref, actor=actor)
    except ApplicationError as exc:
        return 0, None, exc.code[:64]
    return int(out["points"]), int(out["transaction_id"]), ""


def attendance_confirm(*, actor: User, signup: Signup, now: datetime | None = None,
                       request: HttpRequest | None = None) -> Signup:
    """The organiser confirms the hours of a checked-out attendance; the published rule's
    points follow through the ledger, exactly once (a second confirmation, retried or raced,
    finds the row confirmed under its lock and changes nothing)."""
    now = now or timezone.now()
    with transaction.atomic():
        signup = Signup.objects.select_for_update().get(pk=signup.pk)
        if signup.confirmed_at is not None:
            return signup
        if signup.checked_out_at is None:
            raise Conflict(_("签退后才能确认工时。"), code="not_checked_out")
        task = VolunteerTask.objects.get(shifts__signups=signup)
        points, txn, note = (0, None, "no_service") if signup.minutes == 0 else _award(
            user=signup.worker, action=task.points_action,
            key=f"volunteering.attendance:{signup.pk}",
            source_ref=f"volunteering.signup:{signup.pk}", actor=actor)
        signup.confirmed_at, signup.confirmed_by = now, actor
        signup.points, signup.points_transaction_id, signup.points_note = points, txn, note
        signup.save(update_fields=["confirmed_at", "confirmed_by", "points",
                                   "points_transaction_id", "points_note", "updated_at"])
        audit_record("volunteer.confirm", actor=actor, obj=signup, request=request,
                     detail={"minutes": signup.minutes, "points": points, "note": note})
    return signup


# --- the periodic job -----------------------------------------------------------------------

def shift_remind_due(*, now: datetime | None = None) -> int:
    """SMS each placed worker once, REMIND_BEFORE their shift starts. Idempotent: the
    conditional UPDATE on reminded_at lets one run send each reminder."""
    now = now or timezone.now()
    due = (Signup.objects.filter(status=Signup.Status.PLACED, reminded_at=None,
                                 shift__starts_at__gt=now,
                                 shift__starts_at__lte=now + REMIND_BEFORE)
           .select_related("shift__task", "worker").order_by("id"))
    count = 0
    for signup in list(due[:1000]):
        with transaction.atomic():
            if not Signup.objects.filter(pk=signup.pk, reminded_at=None).update(reminded_at=now):
                continue
            task = signup.shift.task
            _sms(signup.worker, f"提醒：您报名的志愿任务“{task.title[:20]}”将于"
                 f"{_local(signup.shift.starts_at)}在{task.place_name[:20]}开始，到场请扫码签到。",
                 "volunteer_remind")
            count += 1
    return count


def shift_close_due(*, now: datetime | None = None) -> int:
    """Close the attendance of shifts ended more than CLOSE_GRACE ago: a forgotten check-out
    is capped at the shift's end and flagged; a placed worker who never checked in is a
    no-show. Each shift once (the conditional UPDATE on closed_at)."""
    now = now or timezone.now()
    ids = list(Shift.objects.filter(closed_at=None, ends_at__lte=now - CLOSE_GRACE)
               .order_by("id").values_list("pk", flat=True)[:500])
    for shift_id in ids:
        with transaction.atomic():
            shift = _locked_shift(shift_id)
            if shift.closed_at is not None:
                continue
            for signup in Signup.objects.select_for_update().filter(
                    shift=shift, status=Signup.Status.PLACED, checked_out_at=None):
                if signup.checked_in_at is None:
                    signup.status = Signup.Status.NO_SHOW
                    signup.save(update_fields=["status", "updated_at"])
                    audit_record("volunteer.no_show", obj=signup, detail={"by": "tick"})
                else:
                    _check_out(signup, shift, shift.ends_at, "")
                    Signup.objects.filter(pk=signup.pk).update(checkout_capped=True)
                    audit_record("volunteer.checkout_capped", obj=signup,
                                 detail={"minutes": signup.minutes})
            Shift.objects.filter(pk=shift.pk).update(closed_at=now)
    return len(ids)


def volunteering_tick(*, now: datetime | None = None) -> int:
    """The periodic job (settings.PERIODIC_JOBS): reminders, then closing ended shifts."""
    return shift_remind_due(now=now) + shift_close_due(now=now)
