"""Every write about errands (跑腿) for elderly, sick and disabled residents: community staff
post one for a resident (or the resident asks), a verified worker takes it, runs it and marks
it done, the resident (or staff) confirms; hours and points follow, exactly once.

Taking is a race (two workers tap at once): a conditional UPDATE on status='open' lets one
through. Confirmation locks the errand row; the points go through the ledger's idempotent award
keyed by the errand (`volunteering.errand:<id>`). On confirmation the resident's address and
phone are wiped: the errand's record stays, the person's whereabouts do not.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from warmstation.accounts.models import Role
from warmstation.core.audit import audit_record
from warmstation.core.errors import Conflict, InvalidInput, PermissionDenied
from warmstation.core.inputs import clean_text, normalise_phone
from warmstation.volunteering.models import Errand, VolunteerProfile
from warmstation.volunteering.permissions import errand_verified
from warmstation.volunteering.services import _award, _sms, volunteer_profile_open

if TYPE_CHECKING:
    from django.http import HttpRequest

    from warmstation.accounts.models import User
    from warmstation.areas.models import Area

ERRAND_ACTION = "errand_elderly"
MINUTES_MAX = 8 * 60
BUDGET_MAX = Decimal("5000")


def parse_money(value: object, *, field: str) -> Decimal | None:
    """A sum of yuan typed in a form or a body: blank is none; 0..BUDGET_MAX, two decimals."""
    raw = str(value or "").strip()
    if not raw:
        return None
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or not Decimal(0) <= amount <= BUDGET_MAX:
        raise InvalidInput(_("金额须在 0 至 %(max)s 元之间。"), params={"max": BUDGET_MAX},
                           code="invalid_amount", field=field)
    return amount.quantize(Decimal("0.01"))


def _text_fields(title: str, details: str, where: str) -> tuple[str, str, str]:
    title = clean_text(title, max_length=64, field="title")
    if not title:
        raise InvalidInput(_("请填写要办的事。"), field="title")
    return (title, clean_text(details, max_length=1000, multiline=True, field="details"),
            clean_text(where, max_length=128, field="where"))


def errand_post(*, actor: User, area: Area, title: str, details: str = "", where: str = "",
                due_at: datetime | None = None, budget: Decimal | None = None,
                resident_name: str, resident_address: str, resident_phone: str = "",
                resident: User | None = None, request: HttpRequest | None = None) -> Errand:
    """Community staff post an errand for a resident (a caller's area is checked by the
    caller). The resident's name, address and phone are stored encrypted."""
    title, details, where = _text_fields(title, details, where)
    name = clean_text(resident_name, max_length=32, field="resident_name")
    address = clean_text(resident_address, max_length=128, field="resident_address")
    if not name or not address:
        raise InvalidInput(_("请填写居民的称呼和地址。"), field="resident_address" if name
                           else "resident_name")
    phone = normalise_phone(resident_phone, field="resident_phone") if resident_phone else ""
    errand = Errand.objects.create(
        area=area, title=title, details=details, where=where, due_at=due_at, budget=budget,
        resident=resident, resident_name=name, resident_address=address, resident_phone=phone,
        posted_by=actor)
    audit_record("errand.post", actor=actor, obj=errand, request=request,
                 detail={"area": area.code})
    return errand


def errand_ask(*, resident: User, title: str, details: str = "", where: str = "",
               address: str, phone: str = "", request: HttpRequest | None = None) -> Errand:
    """A resident asks for an errand themselves, in the community their account belongs to."""
    grant = next((g for g in resident.active_grants() if g.role == Role.RESIDENT), None)
    if grant is None:
        raise PermissionDenied()
    return errand_post(actor=resident, area=grant.area, title=title, details=details,
                       where=where, resident_name=resident.real_name or "居民",
                       resident_address=address, resident_phone=phone or resident.mobile,
                       resident=resident, request=request)


def errand_worker_verify(*, actor: User, worker: User, request: HttpRequest | None = None
                         ) -> VolunteerProfile:
    """Community staff have seen the worker's identity and vouch for them: they may now take
    errands into residents' homes. Staff vouch only for workers registered in their areas."""
    from warmstation.areas.scoping import area_in_scope
    from warmstation.volunteering.permissions import ERRAND_STAFF

    profile_areas = list(worker.worker_profile.areas.all()) \
        if hasattr(worker, "worker_profile") else []
    if not any(area_in_scope(actor, a, roles=ERRAND_STAFF) for a in profile_areas):
        raise InvalidInput(_("该小哥不在您管辖的区域登记。"), code="not_in_scope", field="mobile")
    profile = volunteer_profile_open(user=worker)
    if profile.errand_verified_at is None:
        profile.errand_verified_at, profile.errand_verified_by = timezone.now(), actor
        profile.save(update_fields=["errand_verified_at", "errand_verified_by", "updated_at"])
        audit_record("errand.verify_worker", actor=actor, obj=profile, request=request,
                     detail={"worker": worker.pk})
    return profile


def errand_take(*, worker: User, errand: Errand, request: HttpRequest | None = None) -> Errand:
    """Only a verified worker takes an errand; of two taking at once one wins."""
    if not errand_verified(worker):
        raise PermissionDenied(_("跑腿服务需先由社区核验身份。"), code="not_verified")
    with transaction.atomic():
        taken = Errand.objects.filter(pk=errand.pk, status=Errand.Status.OPEN).update(
            status=Errand.Status.TAKEN, taker=worker, taken_at=timezone.now())
        if not taken:
            raise Conflict(_("该跑腿已被他人接单或已取消。"), code="already_taken")
        audit_record("errand.take", actor=worker, obj=errand, request=request)
    errand.refresh_from_db()
    return errand


def errand_done(*, worker: User, errand: Errand, minutes: int, spent: Decimal | None = None,
                request: HttpRequest | None = None) -> Errand:
    """The worker who took it marks it done with the time it took (travel included: an errand
    is the going) and what was spent; the resident is then asked to confirm."""
    if not 1 <= minutes <= MINUTES_MAX:
        raise InvalidInput(_("用时须在 1 至 %(max)s 分钟之间。"), params={"max": MINUTES_MAX},
                           code="invalid_minutes", field="minutes")
    with transaction.atomic():
        errand = Errand.objects.select_for_update().get(pk=errand.pk)
        if errand.status != Errand.Status.TAKEN or errand.taker_id != worker.pk:
            raise Conflict(_("只有接单人可以标记完成。"), code="invalid_transition")
        errand.status, errand.done_at = Errand.Status.DONE, timezone.now()
        errand.minutes, errand.spent = minutes, spent
        errand.save(update_fields=["status", "done_at", "minutes", "spent", "updated_at"])
        audit_record("errand.done", actor=worker, obj=errand, request=request,
                     detail={"minutes": minutes})
        if errand.resident is not None:
            _sms(errand.resident, f"您的跑腿“{errand.title[:20]}”已办好，请在手机上点“已办好”确认。",
                 "errand_done")
    return errand


def errand_confirm(*, actor: User, errand: Errand, request: HttpRequest | None = None) -> Errand:
    """The resident (or community staff for them) confirms: hours and the published rule's
    points for the worker, exactly once; the resident's address and phone are wiped."""
    with transaction.atomic():
        errand = Errand.objects.select_for_update().get(pk=errand.pk)
        if errand.status == Errand.Status.CONFIRMED:
            return errand
        if errand.status != Errand.Status.DONE or errand.taker is None:
            raise Conflict(_("跑腿完成后才能确认。"), code="not_done")
        points, _txn, note = _award(user=errand.taker, action=ERRAND_ACTION,
                                    key=f"volunteering.errand:{errand.pk}",
                                    source_ref=f"volunteering.errand:{errand.pk}", actor=actor)
        errand.status, errand.confirmed_at, errand.confirmed_by = \
            Errand.Status.CONFIRMED, timezone.now(), actor
        errand.points, errand.points_note = points, note
        errand.resident_address = errand.resident_phone = ""
        errand.save(update_fields=["status", "confirmed_at", "confirmed_by", "points",
                                   "points_note", "resident_address", "resident_phone",
                                   "updated_at"])
        audit_record("errand.confirm", actor=actor, obj=errand, request=request,
                     detail={"points": points, "note": note})
    return errand


def errand_cancel(*, actor: User, errand: Errand, request: HttpRequest | None = None) -> Errand:
    with transaction.atomic():
        errand = Errand.objects.select_for_update().get(pk=errand.pk)
        if errand.status not in (Errand.Status.OPEN, Errand.Status.TAKEN):
            raise Conflict(_("已完成的跑腿不能取消。"), code="invalid_transition")
        taker = errand.taker
        errand.status = Errand.Status.CANCELLED
        errand.resident_address = errand.resident_phone = ""
        errand.save(update_fields=["status", "resident_address", "resident_phone",
                                   "updated_at"])
        if taker is not None:
            _sms(taker, f"跑腿“{errand.title[:20]}”已取消，无需再办。", "errand_cancelled")
        audit_record("errand.cancel", actor=actor, obj=errand, request=request)
    return errand
