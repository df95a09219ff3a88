"""What accounts holds about a person, for the copy and the erasure (core/privacy.py)."""

from __future__ import annotations

from django.contrib.admin.models import LogEntry
from django.db.models import Q
from django.utils import timezone

from warmstation.accounts.models import SmsCode, User, WorkerProfile
from warmstation.accounts.services import api_principals_forget
from warmstation.core import privacy
from warmstation.core.masking import CLOSED_ACCOUNT_PREFIX
from warmstation.core.privacy import Person


def export(person: Person) -> dict:
    user = person.user
    profile = WorkerProfile.objects.filter(user=user).select_related("brand").first()
    return {
        "account": {"mobile": user.mobile, "real_name": user.real_name,
                    "date_joined": user.date_joined.isoformat()},
        "roles": [
            {"role": g.role, "area": g.area.code,
             "department": g.department.code if g.department else None,
             "since": g.created_at.isoformat()}
            for g in user.grants.select_related("area", "department")
        ],
        "worker_profile": None if profile is None else {
            "job_type": profile.job_type,
            "brand": profile.brand.name_zh if profile.brand else None,
            "areas": [{"code": a.code, "name": a.name_zh} for a in profile.areas.all()],
            "id_number": profile.id_number or None,
        },
        "consents": [
            {"purpose": c.purpose, "version": c.version, "granted": c.granted,
             "at": c.at.isoformat()} for c in user.consents.all()
        ],
        "sign_in_codes": [
            {"created_at": s.created_at.isoformat(), "used": s.used_at is not None}
            for s in SmsCode.objects.filter(mobile=user.mobile)
        ],
        "api_tokens": [
            {"prefix": t.prefix, "name": t.name, "created_at": t.created_at.isoformat(),
             "revoked": t.revoked_at is not None} for t in user.api_tokens.all()
        ],
    }


def erase(person: Person) -> None:
    """Last of the erasers: the user row becomes an anonymous tombstone (ledger entries, cases
    and audit lines keep pointing at it), everything else of the person's here goes."""
    user = User.objects.select_for_update().get(pk=person.user.pk)
    user.mobile = f"{CLOSED_ACCOUNT_PREFIX}{user.pk}"
    user.real_name = ""
    user.is_active = False
    user.closed_at = timezone.now()
    user.totp_secret = ""
    user.set_unusable_password()
    user.save()
    WorkerProfile.objects.filter(user=user).delete()  # the ID number and work areas with it
    user.grants.all().delete()
    user.api_tokens.all().update(revoked_at=timezone.now())
    api_principals_forget(user.pk)  # the update above sends no signal
    # Consent history stays (proof of what was agreed, PIPL art. 14) without the address.
    user.consents.update(ip=None)
    SmsCode.objects.filter(mobile=person.mobile).delete()
    # The Django admin's history names objects as they were shown ("王芳 (快递员)").
    mentions = Q()
    for needle in person.needles():
        mentions |= Q(object_repr__contains=needle)
    for entry in LogEntry.objects.filter(mentions):
        LogEntry.objects.filter(pk=entry.pk).update(object_repr=person.redact(entry.object_repr))
    user.forget_grants()
    person.user.forget_grants()


privacy.register(
    "accounts", export=export, erase=erase, order=100,
    covers=("accounts.rolegrant", "accounts.workerprofile", "accounts.consentrecord",
            "accounts.apitoken", "admin.logentry"),
)
