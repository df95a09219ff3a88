"""Who may see union applications, members and batches. A worker sees their own application
and membership. The union staff (区总工会 on the district, a town's union on its town) review
applications and see the members of their area; area and district admins see the figures and
the roll of their area. A steward runs batch enrolments at the stations they keep and sees
those batches. Anything else looks missing (404)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from warmstation.accounts.models import Role
from warmstation.areas.scoping import area_in_scope, scope_q
from warmstation.core.errors import NotFound
from warmstation.core.inputs import id_or_404
from warmstation.union.models import EnrolmentBatch, Member, MembershipApplication

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from warmstation.accounts.models import User
    from warmstation.areas.models import Area
    from warmstation.stations.models import Station

REVIEWERS = (Role.UNION_STAFF,)
# Who sees the roll and the figures of an area.
ROLL_ROLES = (Role.UNION_STAFF, Role.AREA_ADMIN, Role.DISTRICT_ADMIN)


def _signed_in(user: User | AnonymousUser | None) -> bool:
    return user is not None and user.is_authenticated


def can_review(user: User | AnonymousUser | None, area: Area) -> bool:
    return _signed_in(user) and area_in_scope(user, area, roles=REVIEWERS)


def can_enrol_in(user: User | AnonymousUser | None, area: Area) -> bool:
    """Batch enrolment in `area`: the union staff covering it (a steward enrols at a station
    they keep, checked by the caller through stations.permissions)."""
    return _signed_in(user) and area_in_scope(user, area, roles=REVIEWERS)


def application_list(user: User | AnonymousUser | None, *,
                     review: bool = False) -> QuerySet[MembershipApplication]:
    """The user's own applications; `review`: those of the areas they review."""
    if not _signed_in(user):
        return MembershipApplication.objects.none()
    q = scope_q(user, roles=REVIEWERS) if review else \
        Q(applicant=user) | scope_q(user, roles=REVIEWERS)
    return MembershipApplication.objects.filter(q).select_related(
        "area", "brand", "station", "applicant").distinct()


def access_application_by_id(user: User | AnonymousUser | None, application_id: int | str, *,
                             for_review: bool = False) -> MembershipApplication:
    application = application_list(user, review=for_review).filter(
        pk=id_or_404(application_id)).first()
    if application is None:
        raise NotFound()
    return application


def member_list(user: User | AnonymousUser | None) -> QuerySet[Member]:
    """The roll of the areas the user covers (union staff, admins)."""
    if not _signed_in(user):
        return Member.objects.none()
    return Member.objects.filter(scope_q(user, roles=ROLL_ROLES)).select_related(
        "area", "station", "brand")


def my_member(user: User | AnonymousUser | None) -> Member | None:
    if user is None or not user.is_authenticated:
        return None
    return Member.objects.select_related("area", "station", "brand").filter(
        user_id=user.pk).first()


def batch_list(user: User | AnonymousUser | None) -> QuerySet[EnrolmentBatch]:
    """Batches the user ran, and those of the areas they cover as union staff or admin."""
    if not _signed_in(user):
        return EnrolmentBatch.objects.none()
    return EnrolmentBatch.objects.filter(
        Q(created_by=user) | scope_q(user, roles=ROLL_ROLES)).select_related(
        "area", "station", "brand").distinct()


def access_batch_by_id(user: User | AnonymousUser | None,
                       batch_id: int | str) -> EnrolmentBatch:
    batch = batch_list(user).filter(pk=id_or_404(batch_id)).first()
    if batch is None:
        raise NotFound()
    return batch


def access_enrolment_place(user: User | AnonymousUser | None, *, area_code: str | None,
                           station_id: int | None) -> tuple[Area, Station | None]:
    """Where a batch enrolment is held: at a station the user keeps (steward) or that the
    union staff covers, or in an area the union staff covers. Anything else looks missing."""
    from warmstation.areas.scoping import access_area_by_code
    from warmstation.stations.permissions import access_station_by_id, can_change_station

    if station_id is not None:
        station = access_station_by_id(user, station_id)
        if not (can_change_station(user, station) or can_enrol_in(user, station.area)):
            raise NotFound()
        return station.area, station
    area = access_area_by_code(user, area_code or "")
    if not can_enrol_in(user, area):
        raise NotFound()
    return area, None
