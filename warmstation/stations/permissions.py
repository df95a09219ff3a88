"""Who may see and change a station. Reading an active station is public (it is on the map).
Changing one needs its steward (signed in with a password) or an area/district admin whose area
covers it; anything else looks missing (404)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from warmstation.accounts.models import Role
from warmstation.areas.scoping import area_in_scope, scope_q
from warmstation.core.errors import NotFound
from warmstation.stations.models import Station

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from warmstation.accounts.models import User


def can_change_station(user: User | AnonymousUser | None, station: Station) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if station.steward_id == user.pk and user.has_role(Role.STEWARD):
        return True
    return area_in_scope(user, station.area)


def managed_station_q(user: User | AnonymousUser | None) -> Q:
    q = scope_q(user)
    if user is not None and user.is_authenticated and user.has_role(Role.STEWARD):
        q |= Q(steward=user)
    return q


def station_managed_list(user: User | AnonymousUser | None) -> QuerySet[Station]:
    return Station.objects.filter(managed_station_q(user)).select_related("area", "steward")


def access_station_by_id(user: User | AnonymousUser | None, station_id: int | str, *,
                         for_change: bool = False) -> Station:
    try:
        station = Station.objects.select_related("area", "steward").get(pk=station_id)
    except (Station.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    if for_change:
        if not can_change_station(user, station):
            raise NotFound()
    elif not station.is_active and not can_change_station(user, station):
        raise NotFound()
    return station
