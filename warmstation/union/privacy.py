"""A person's union membership, applications and consents, for the copy and the erasure."""

from __future__ import annotations

from django.db.models import Q

from warmstation.core import privacy
from warmstation.core.privacy import Person
from warmstation.union.models import (
    EnrolmentBatch,
    Member,
    MembershipApplication,
    MembershipConsent,
)


def _members(person: Person):
    return Member.objects.filter(Q(user=person.user) | Q(mobile=person.mobile))


def export(person: Person) -> dict:
    return {
        "union_membership": [
            {"number": m.number, "real_name": m.real_name, "employer": m.employer,
             "job_type": m.job_type, "area": m.area.code, "source": m.source,
             "enrolled_at": m.enrolled_at.isoformat()}
            for m in _members(person).select_related("area")],
        "union_applications": [
            {"created_at": a.created_at.isoformat(), "status": a.status, "employer": a.employer,
             "job_type": a.job_type, "area": a.area.code, "review_note": a.review_note}
            for a in MembershipApplication.objects.filter(applicant=person.user)
            .select_related("area").order_by("created_at", "id")],
        "union_consents": [
            {"at": c.at.isoformat(), "granted": c.granted, "version": c.version,
             "method": c.method}
            for c in MembershipConsent.objects.filter(
                Q(user=person.user) | Q(member__in=_members(person))).order_by("at", "id")],
    }


def erase(person: Person) -> None:
    """The roll keeps a numbered row (the union's counts do not change) with no name, mobile
    or account; the applications lose the person's details; consents stay as a history of
    what was agreed, no longer linked to anyone."""
    members = list(_members(person).values_list("pk", flat=True))
    MembershipConsent.objects.filter(Q(user=person.user) | Q(member__in=members)).update(
        user=None, recorded_by=None, ip=None)
    Member.objects.filter(pk__in=members).update(user=None, real_name="", mobile=None,
                                                 employer="")
    MembershipApplication.objects.filter(applicant=person.user).update(
        real_name="", mobile="", employer="", review_note="")
    MembershipApplication.objects.filter(reviewed_by=person.user).update(reviewed_by=None)
    MembershipConsent.objects.filter(recorded_by=person.user).update(recorded_by=None)
    Member.objects.filter(enrolled_by=person.user).update(enrolled_by=None)
    EnrolmentBatch.objects.filter(created_by=person.user).update(created_by=None)


privacy.register("union", export=export, erase=erase,
                 covers=("union.member", "union.membershipapplication",
                         "union.membershipconsent", "union.enrolmentbatch"))
