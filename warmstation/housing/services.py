"""Every write of housing: the family short-stay flat (flats, bookings, check-in and
check-out), the housing survey, housing resources and rental-intention applications.

Nights are the scarce thing. A booking holds its nights as FlatNight rows under a unique
(flat, night) constraint, inserted in the booking's own transaction: two bookings of one night
cannot both commit, on PostgreSQL (the second insert waits for the first transaction and then
fails on the unique index) as on SQLite (writers are serialised by BEGIN IMMEDIATE). The flat's
row is locked first (SELECT … FOR UPDATE on PostgreSQL) so the per-season limit of a worker is
counted by one booking at a time; the constraint stays the guarantee even without that lock.
Lock order: flat, then its nights."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from warmstation.accounts.models import WorkerProfile
from warmstation.core.audit import audit_record
from warmstation.core.errors import Conflict, InvalidInput, PermissionDenied
from warmstation.core.inputs import check_text
from warmstation.housing.models import (
    Booking,
    Equipment,
    Flat,
    FlatNight,
    RentalApplication,
    Resource,
    Survey,
    Visitor,
)

if TYPE_CHECKING:
    from warmstation.accounts.models import User
    from warmstation.areas.models import Area

VISITORS_MAX = 8


def season_of(day: date) -> str:
    """The season a stay counts against: the quarter of the calendar year of its first night."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def nights_of(check_in: date, check_out: date) -> list[date]:
    return [check_in + timedelta(days=i) for i in range((check_out - check_in).days)]


def _fmt(days: list[date]) -> str:
    return ", ".join(d.isoformat() for d in days)


# --- flats -------------------------------------------------------------------------------------

FLAT_FIELDS = ("name", "area", "station", "address", "description", "max_guests", "max_nights",
               "max_bookings_per_season", "horizon_days", "contact_phone", "is_active")


def flat_save(*, actor: User | None, flat: Flat, equipment: list[str] | None = None,
              request: HttpRequest | None = None, **fields: Any) -> Flat:
    """Create (unsaved `flat`) or change a flat; `equipment` codes replace its equipment."""
    for key, value in fields.items():
        if key not in FLAT_FIELDS:
            raise InvalidInput(_("未知的字段：%(field)s"), params={"field": key}, field=key)
        setattr(flat, key, value)
    if not (flat.name or "").strip():
        raise InvalidInput(_("请填写名称。"), field="name")
    created = flat.pk is None
    with transaction.atomic():
        flat.save()
        if equipment is not None:
            found = list(Equipment.objects.filter(code__in=equipment))
            unknown = sorted(set(equipment) - {e.code for e in found})
            if unknown:
                raise InvalidInput(_("未知的设备：%(codes)s"), params={"codes": ", ".join(unknown)},
                                   field="equipment")
            flat.equipment.set(found)
        audit_record("flat.create" if created else "flat.update", actor=actor, obj=flat,
                     request=request, detail={k: str(v) for k, v in fields.items()}
                     | ({"equipment": sorted(equipment)} if equipment is not None else {}))
    return flat


# --- bookings ----------------------------------------------------------------------------------

def _check_visitors(visitors: list[dict[str, str]], flat: Flat) -> list[Visitor]:
    rows = []
    for i, v in enumerate(visitors):
        name = check_text((v.get("name") or "").strip(), max_length=64, field=f"name_{i}")
        relation = v.get("relation") or ""
        if not name and not relation:
            continue
        if not name:
            raise InvalidInput(_("请填写来访家属的姓名。"), field=f"name_{i}")
        if relation not in Visitor.Relation.values:
            raise InvalidInput(_("请选择与小哥的关系。"), field=f"relation_{i}")
        rows.append(Visitor(name=name, relation=relation))
    if not rows:
        raise InvalidInput(_("请至少填写一位来访家属。"), field="name_0")
    if len(rows) > min(flat.max_guests, VISITORS_MAX):
        raise Conflict(_("这套公寓最多住 %(n)s 人。"), params={"n": flat.max_guests},
                       code="too_many_guests", field="name_0")
    return rows


def taken_nights(flat: Flat, check_in: date, check_out: date) -> list[date]:
    return list(FlatNight.objects.filter(flat=flat, night__gte=check_in, night__lt=check_out)
                .order_by("night").values_list("night", flat=True))


def _taken(flat: Flat, check_in: date, check_out: date) -> Conflict:
    taken = taken_nights(flat, check_in, check_out)
    return Conflict(_("这些晚上已被预订：%(nights)s。请换一个日期。"), params={"nights": _fmt(taken)},
                    code="nights_taken", field="check_in",
                    extra={"taken_nights": [d.isoformat() for d in taken]})


def booking_create(*, worker: User, flat: Flat, check_in: date, check_out: date,
                   visitors: list[dict[str, str]], note: str = "",
                   request: HttpRequest | None = None) -> Booking:
    """Book `flat` for the nights check_in .. check_out - 1 for the worker's visiting family.
    Refused (409 `nights_taken`, naming the nights) when any night is held by another booking;
    the unique constraint on FlatNight makes that true under any concurrency."""
    if not hasattr(worker, "worker_profile"):
        raise PermissionDenied(_("仅登记的新就业群体可以预订。"), code="not_eligible")
    if not flat.is_active:
        raise Conflict(_("这套公寓暂停预订。"), code="flat_closed")
    today = timezone.localdate()
    if check_out <= check_in:
        raise InvalidInput(_("退房日期须晚于入住日期。"), field="check_out")
    if check_in < today:
        raise InvalidInput(_("入住日期不能早于今天。"), field="check_in")
    if check_in > today + timedelta(days=flat.horizon_days):
        raise InvalidInput(_("最多可预订 %(n)s 天以内的日期。"), params={"n": flat.horizon_days},
                           field="check_in")
    if (check_out - check_in).days > flat.max_nights:
        raise Conflict(_("每次最多住 %(n)s 晚。"), params={"n": flat.max_nights},
                       code="too_many_nights", field="check_out")
    rows = _check_visitors(visitors, flat)
    note = check_text(note.strip(), max_length=500, multiline=True, field="note")
    season = season_of(check_in)
    try:
        with transaction.atomic():
            Flat.objects.select_for_update().filter(pk=flat.pk).first()  # lock order: flat first
            held = Booking.objects.filter(worker=worker, season=season,
                                          status__in=(Booking.Status.BOOKED,
                                                      Booking.Status.CHECKED_IN,
                                                      Booking.Status.CHECKED_OUT)).count()
            if held >= flat.max_bookings_per_season:
                raise Conflict(_("每季度最多预订 %(n)s 次，本季度的次数已用完。"),
                               params={"n": flat.max_bookings_per_season},
                               code="season_limit", field="check_in")
            booking = Booking.objects.create(flat=flat, worker=worker, check_in=check_in,
                                             check_out=check_out, season=season, note=note)
            for v in rows:
                v.booking = booking
            Visitor.objects.bulk_create(rows)
            FlatNight.objects.bulk_create([FlatNight(flat=flat, night=n, booking=booking)
                                           for n in nights_of(check_in, check_out)])
            audit_record("booking.create", actor=worker, obj=booking, request=request,
                         detail={"flat": flat.pk, "check_in": check_in.isoformat(),
                                 "check_out": check_out.isoformat(), "visitors": len(rows)})
    except IntegrityError:
        # Another booking holds one of these nights (it committed first): say which.
        raise _taken(flat, check_in, check_out) from None
    return booking


def _move(booking: Booking, *, allowed: tuple[str, ...], to: str, actor: User,
          free_from: date | None, stamp: str, action: str,
          request: HttpRequest | None) -> Booking:
    """One status step by a conditional UPDATE (exactly once under concurrency); nights from
    `free_from` on are deleted in the same transaction, so they are free at once."""
    now = timezone.now()
    with transaction.atomic():
        won = Booking.objects.filter(pk=booking.pk, status__in=allowed).update(
            status=to, handled_by=actor, updated_at=now, **{stamp: now})
        if not won:
            booking.refresh_from_db(fields=["status"])
            raise Conflict(_("预订当前状态（%(status)s）不能这样操作。"),
                           params={"status": booking.get_status_display()},
                           code="invalid_transition")
        freed = 0
        if free_from is not None:
            freed, _counts = FlatNight.objects.filter(booking=booking, night__gte=free_from) \
                .delete()
        audit_record(action, actor=actor, obj=booking, request=request,
                     detail={"from": booking.status, "freed_nights": freed})
    booking.refresh_from_db()
    return booking


def booking_cancel(*, actor: User, booking: Booking,
                   request: HttpRequest | None = None) -> Booking:
    """Cancel before check-in (the worker, or the flat's steward or admins): every night is
    freed at once."""
    return _move(booking, allowed=(Booking.Status.BOOKED,), to=Booking.Status.CANCELLED,
                 actor=actor, free_from=booking.check_in, stamp="cancelled_at",
                 action="booking.cancel", request=request)


def booking_check_in(*, actor: User, booking: Booking,
                     request: HttpRequest | None = None) -> Booking:
    """The steward lets the family in (from the check-in day until the last night)."""
    today = timezone.localdate()
    if not booking.check_in <= today < booking.check_out:
        raise Conflict(_("只能在入住日期到退房日期之间办理入住。"), code="not_today")
    return _move(booking, allowed=(Booking.Status.BOOKED,), to=Booking.Status.CHECKED_IN,
                 actor=actor, free_from=None, stamp="checked_in_at",
                 action="booking.check_in", request=request)


def booking_check_out(*, actor: User, booking: Booking,
                      request: HttpRequest | None = None) -> Booking:
    """The family leaves: nights after today are freed at once (an early departure gives them
    back); tonight is free too, since check-out day belongs to the next guest."""
    today = timezone.localdate()
    return _move(booking, allowed=(Booking.Status.CHECKED_IN,), to=Booking.Status.CHECKED_OUT,
                 actor=actor, free_from=max(today, booking.check_in), stamp="checked_out_at",
                 action="booking.check_out", request=request)


# --- the housing survey (摸排) -----------------------------------------------------------------

def survey_save(*, worker: User, area: Area, housing: str, rent: int | None,
                commute_minutes: int, household: int, needs: set[str], note: str = "",
                request: HttpRequest | None = None) -> Survey:
    """Record (or update) the worker's answers; brand and job type come from their profile."""
    profile = WorkerProfile.objects.filter(user=worker).first()
    if profile is None:
        raise PermissionDenied(_("仅登记的新就业群体可以填写。"), code="not_eligible")
    if housing not in Survey.Housing.values:
        raise InvalidInput(_("请选择现在的住处。"), field="housing")
    renting = housing in (Survey.Housing.RENT_ALONE, Survey.Housing.RENT_SHARED)
    if rent is not None and not 0 <= rent <= 100_000:
        raise InvalidInput(_("月租金须在 0 至 100000 元之间。"), field="rent")
    if renting and rent is None:
        raise InvalidInput(_("租房的请填写每月租金。"), field="rent")
    if not 0 <= commute_minutes <= 600:
        raise InvalidInput(_("通勤时间须在 0 至 600 分钟之间。"), field="commute_minutes")
    if not 1 <= household <= 50:
        raise InvalidInput(_("同住人数须在 1 至 50 之间。"), field="household")
    unknown = needs - set(Survey.NEEDS)
    if unknown:
        raise InvalidInput(_("未知的需求：%(codes)s"), params={"codes": ", ".join(sorted(unknown))},
                           field="needs")
    note = check_text((note or "").strip(), max_length=500, multiline=True, field="note")
    with transaction.atomic():
        survey, created = Survey.objects.update_or_create(worker=worker, defaults={
            "area": area, "brand": profile.brand, "job_type": profile.job_type,
            "housing": housing, "rent": rent, "commute_minutes": commute_minutes,
            "household": household, "note": note,
            **{n: n in needs for n in Survey.NEEDS}})
        audit_record("survey.create" if created else "survey.update", actor=worker, obj=survey,
                     request=request, detail={"area": area.code})
    return survey


# --- housing resources and rental intentions -----------------------------------------------------

RESOURCE_FIELDS = ("kind", "name", "area", "address", "lat", "lng", "rooms", "beds",
                   "available", "rent", "conditions", "contact_name", "contact_phone",
                   "available_from", "is_active")


def resource_save(*, actor: User | None, resource: Resource, request: HttpRequest | None = None,
                  **fields: Any) -> Resource:
    for key, value in fields.items():
        if key not in RESOURCE_FIELDS:
            raise InvalidInput(_("未知的字段：%(field)s"), params={"field": key}, field=key)
        setattr(resource, key, value)
    if resource.kind not in Resource.Kind.values:
        raise InvalidInput(_("房源类型无效。"), field="kind")
    if not (resource.name or "").strip():
        raise InvalidInput(_("请填写名称。"), field="name")
    created = resource.pk is None
    with transaction.atomic():
        resource.save()
        audit_record("resource.create" if created else "resource.update", actor=actor,
                     obj=resource, request=request,
                     detail={k: str(v) for k, v in fields.items()})
    return resource


def rental_apply(*, worker: User, resource: Resource, people: int = 1, note: str = "",
                 request: HttpRequest | None = None) -> RentalApplication:
    """A worker's rental-intention application; one open application per resource."""
    if not WorkerProfile.objects.filter(user=worker).exists():
        raise PermissionDenied(_("仅登记的新就业群体可以申请。"), code="not_eligible")
    if not resource.is_active:
        raise Conflict(_("这处房源暂不接受申请。"), code="resource_closed")
    if not 1 <= people <= 20:
        raise InvalidInput(_("入住人数须在 1 至 20 之间。"), field="people")
    note = check_text((note or "").strip(), max_length=500, multiline=True, field="note")
    try:
        with transaction.atomic():
            application = RentalApplication.objects.create(worker=worker, resource=resource,
                                                           people=people, note=note)
            audit_record("rental.apply", actor=worker, obj=application, request=request,
                         detail={"resource": resource.pk})
    except IntegrityError:
        raise Conflict(_("您已申请过这处房源，正在办理中。"), code="application_open") from None
    return application


S = RentalApplication.Status
# The housing office's steps: action → (from statuses, to status).
RENTAL_STEPS: dict[str, tuple[tuple[str, ...], str]] = {
    "review": ((S.SUBMITTED,), S.REVIEWING),
    "viewing": ((S.SUBMITTED, S.REVIEWING), S.VIEWING),
    "sign": ((S.REVIEWING, S.VIEWING), S.SIGNED),
    "decline": ((S.SUBMITTED, S.REVIEWING, S.VIEWING), S.DECLINED),
}


def rental_move(*, actor: User, application: RentalApplication, action: str, note: str = "",
                request: HttpRequest | None = None) -> RentalApplication:
    """One step by the housing office (or the worker's `withdraw`), exactly once: a
    conditional UPDATE on the statuses the step starts from."""
    allowed: tuple[str, ...]
    to: str
    if action == "withdraw":
        allowed, to = (S.SUBMITTED, S.REVIEWING, S.VIEWING), S.WITHDRAWN
    elif action in RENTAL_STEPS:
        allowed, to = RENTAL_STEPS[action]
    else:
        raise InvalidInput(_("未知的操作。"), field="action")
    note = check_text((note or "").strip(), max_length=500, multiline=True, field="note")
    if action == "decline" and not note:
        raise InvalidInput(_("请写明未能安排的原因。"), field="note")
    now = timezone.now()
    with transaction.atomic():
        changes: dict[str, Any] = {"status": to, "updated_at": now}
        if action != "withdraw":
            changes["handled_by"] = actor
            if note:
                changes["office_note"] = note
        if to == S.SIGNED:
            changes["signed_at"] = now
        won = RentalApplication.objects.filter(pk=application.pk, status__in=allowed) \
            .update(**changes)
        if not won:
            application.refresh_from_db(fields=["status"])
            raise Conflict(_("申请当前状态（%(status)s）不能这样操作。"),
                           params={"status": application.get_status_display()},
                           code="invalid_transition")
        audit_record(f"rental.{action}", actor=actor, obj=application, request=request,
                     detail={"from": application.status, "to": to})
    application.refresh_from_db()
    return application
