"""Who may see and change flats and bookings. Reading an active flat and its calendar (which
nights are taken, not by whom) is open to anyone signed in. A flat is managed by the steward of
its station and by the area/district admins and the housing office whose area covers it. A
booking is seen by its worker and by whoever manages its flat; anything else looks missing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from warmstation.accounts.models import Role
from warmstation.areas.scoping import area_in_scope, scope_q
from warmstation.core.errors import NotFound
from warmstation.core.inputs import id_or_404
from warmstation.housing.models import Booking, Flat, RentalApplication, Resource, Survey

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from warmstation.accounts.models import User

# Roles that oversee the housing of an area (besides the steward who keeps a flat).
HOUSING_ROLES = (Role.AREA_ADMIN, Role.DISTRICT_ADMIN, Role.HOUSING_OFFICE)


def can_manage_flat(user: User | AnonymousUser | None, flat: Flat) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if flat.station_id is not None and user.has_role(Role.STEWARD) and \
            flat.station is not None and flat.station.steward_id == user.pk:
        return True
    return area_in_scope(user, flat.area, roles=HOUSING_ROLES)


def managed_flat_q(user: User | AnonymousUser | None, *, field: str = "") -> Q:
    prefix = f"{field}__" if field else ""
    q = scope_q(user, field=f"{prefix}area", roles=HOUSING_ROLES)
    if user is not None and user.is_authenticated and user.has_role(Role.STEWARD):
        q |= Q(**{f"{prefix}station__steward": user})
    return q


def flat_list(user: User | AnonymousUser | None, *, managed: bool = False) -> QuerySet[Flat]:
    """Active flats for anyone signed in; `managed`: the flats the user keeps or oversees."""
    qs = Flat.objects.select_related("area", "station").prefetch_related("equipment")
    if managed:
        return qs.filter(managed_flat_q(user)).distinct()
    if user is None or not user.is_authenticated:
        return qs.none()
    return qs.filter(is_active=True)


def access_flat_by_id(user: User | AnonymousUser | None, flat_id: int | str, *,
                      for_change: bool = False) -> Flat:
    if user is None or not user.is_authenticated:
        raise NotFound()
    flat = Flat.objects.select_related("area", "station").filter(pk=id_or_404(flat_id)).first()
    if flat is None:
        raise NotFound()
    if (for_change or not flat.is_active) and not can_manage_flat(user, flat):
        raise NotFound()
    return flat


def booking_visible_q(user: User | AnonymousUser | None) -> Q:
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    return Q(worker=user) | managed_flat_q(user, field="flat")


def booking_list(user: User | AnonymousUser | None, *, managed: bool = False,
                 flat: Flat | None = None) -> QuerySet[Booking]:
    """The user's own bookings; `managed`: the bookings of the flats they keep or oversee."""
    if user is None or not user.is_authenticated:
        return Booking.objects.none()
    q = managed_flat_q(user, field="flat") if managed else booking_visible_q(user)
    qs = Booking.objects.filter(q)
    if flat is not None:
        qs = qs.filter(flat=flat)
    return qs.select_related("flat", "flat__area", "worker").prefetch_related("visitors") \
        .distinct()


def access_booking_by_id(user: User | AnonymousUser | None, booking_id: int | str, *,
                         for_change: bool = False) -> Booking:
    """`for_change`: check-in and check-out, for whoever manages the flat (not the worker)."""
    booking = booking_list(user).filter(pk=id_or_404(booking_id)).first()
    if booking is None:
        raise NotFound()
    if for_change and not can_manage_flat(user, booking.flat):
        raise NotFound()
    return booking


# --- the survey: aggregates for the overseers of an area, answers for the office only -----------

OFFICE_ROLES = (Role.HOUSING_OFFICE,)


def survey_scope(user: User | AnonymousUser | None) -> QuerySet[Survey]:
    """The answers whose aggregates the user may see (the housing office, area and district
    admins of the area); the figures, never the rows, leave this module's callers."""
    return Survey.objects.filter(scope_q(user, roles=HOUSING_ROLES))


def survey_list(user: User | AnonymousUser | None) -> QuerySet[Survey]:
    """One worker's answers are for the housing office of their area only (it arranges
    housing with them); admins see aggregates."""
    return Survey.objects.filter(scope_q(user, roles=OFFICE_ROLES)).select_related(
        "worker", "area", "brand")


def access_survey_by_id(user: User | AnonymousUser | None, survey_id: int | str) -> Survey:
    if user is None or not user.is_authenticated:
        raise NotFound()
    survey = Survey.objects.select_related("worker", "area", "brand").filter(
        Q(worker=user) | scope_q(user, roles=OFFICE_ROLES), pk=id_or_404(survey_id)).first()
    if survey is None:
        raise NotFound()
    return survey


# --- housing resources and rental applications ------------------------------------------------

def resource_list(user: User | AnonymousUser | None, *, managed: bool = False) -> QuerySet[Resource]:
    """Active resources for anyone signed in; `managed`: those of the office's area."""
    if user is None or not user.is_authenticated:
        return Resource.objects.none()
    qs = Resource.objects.select_related("area")
    if managed:
        return qs.filter(scope_q(user, roles=HOUSING_ROLES))
    return qs.filter(is_active=True)


def access_resource_by_id(user: User | AnonymousUser | None, resource_id: int | str, *,
                          for_change: bool = False) -> Resource:
    if user is None or not user.is_authenticated:
        raise NotFound()
    resource = Resource.objects.select_related("area").filter(pk=id_or_404(resource_id)).first()
    if resource is None:
        raise NotFound()
    if (for_change or not resource.is_active) and \
            not area_in_scope(user, resource.area, roles=OFFICE_ROLES):
        raise NotFound()
    return resource


def rental_list(user: User | AnonymousUser | None, *,
                office: bool = False) -> QuerySet[RentalApplication]:
    """The worker's own applications; `office`: those of the office's area (the office moves
    them; area and district admins read them)."""
    if user is None or not user.is_authenticated:
        return RentalApplication.objects.none()
    q = scope_q(user, field="resource__area", roles=HOUSING_ROLES)
    if not office:
        q |= Q(worker=user)
    return RentalApplication.objects.filter(q).select_related(
        "resource", "resource__area", "worker").distinct()


def access_rental_by_id(user: User | AnonymousUser | None, application_id: int | str, *,
                        for_office: bool = False) -> RentalApplication:
    """`for_office`: a step by the housing office of the resource's area."""
    application = rental_list(user).filter(pk=id_or_404(application_id)).first()
    if application is None:
        raise NotFound()
    if for_office and not area_in_scope(user, application.resource.area, roles=OFFICE_ROLES):
        raise NotFound()
    return application
