"""A person's volunteering, for the copy and the erasure (core/privacy.py)."""

from __future__ import annotations

from django.db.models import Q

from warmstation.core import privacy
from warmstation.core.privacy import Person
from warmstation.volunteering.models import (
    Activity,
    Errand,
    ServiceRecord,
    Signup,
    VolunteerProfile,
    VolunteerTask,
)


def export(person: Person) -> dict:
    profile = VolunteerProfile.objects.filter(user=person.user).first()
    signups = (Signup.objects.filter(worker=person.user).select_related("shift__task")
               .order_by("shift__starts_at", "id"))
    taken = Errand.objects.filter(taker=person.user).order_by("created_at", "id")
    asked = Errand.objects.filter(resident=person.user).order_by("created_at", "id")
    return {"volunteering": {
        "volunteer_number": profile.number if profile else None,
        "errand_verified_at": profile.errand_verified_at.isoformat()
        if profile and profile.errand_verified_at else None,
        "shifts": [
            {"task": s.shift.task.title, "starts_at": s.shift.starts_at.isoformat(),
             "ends_at": s.shift.ends_at.isoformat(), "status": s.status,
             "checked_in_at": s.checked_in_at.isoformat() if s.checked_in_at else None,
             "checked_out_at": s.checked_out_at.isoformat() if s.checked_out_at else None,
             "minutes": s.minutes, "confirmed": s.confirmed_at is not None, "points": s.points}
            for s in signups],
        # Errands the person ran: what and when, never the resident's details.
        "errands_run": [{"title": e.title, "status": e.status, "minutes": e.minutes,
                         "done_at": e.done_at.isoformat() if e.done_at else None}
                        for e in taken],
        "errands_asked": [{"title": e.title, "details": e.details, "status": e.status,
                           "created_at": e.created_at.isoformat()} for e in asked],
        "activities": [{"title": a.title, "kind": a.kind, "held_on": a.held_on.isoformat()}
                       for a in Activity.objects.filter(participants=person.user)],
        "records": [{"number": r.number, "minutes": r.minutes,
                     "issued_at": r.issued_at.isoformat(),
                     "revoked": r.revoked_at is not None}
                    for r in ServiceRecord.objects.filter(worker=person.user)],
    }}


def erase(person: Person) -> None:
    """Attendance and errands stay (hours, counts and the ledger rely on them), pointing at the
    closed account. An errand the person asked for as a resident loses the resident's details;
    their records are revoked (the public page then says so, and shows no name); the volunteer
    number goes."""
    Errand.objects.filter(resident=person.user).update(
        resident_name="", resident_address="", resident_phone="", resident=None)
    for errand in Errand.objects.filter(Q(posted_by=person.user) | Q(taker=person.user)) \
            .exclude(details=""):
        if person.mentioned_in(errand.details):
            Errand.objects.filter(pk=errand.pk).update(details=person.redact(errand.details))
    from django.utils import timezone

    ServiceRecord.objects.filter(worker=person.user, revoked_at=None).update(
        revoked_at=timezone.now(), revoke_reason="账号已注销")
    ServiceRecord.objects.filter(worker=person.user).update(masked_name="已注销")
    VolunteerProfile.objects.filter(user=person.user).delete()
    VolunteerTask.objects.filter(organiser=person.user).update(organiser=None)
    Activity.objects.filter(recorded_by=person.user).update(recorded_by=None)


privacy.register("volunteering", export=export, erase=erase,
                 covers=("volunteering.volunteerprofile", "volunteering.volunteertask",
                         "volunteering.signup", "volunteering.errand", "volunteering.activity",
                         "volunteering.servicerecord"))
