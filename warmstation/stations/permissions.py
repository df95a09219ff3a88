"""Who may see and change a station. Reading an active station is public (it is on the map).
Changing one needs its steward (signed in with a password) or an area/district admin whose area
covers it; anything else looks missing (404). Child objects (loans, photos, stock movements, the
service ledger, special dates) are reached only through their station, below."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from warmstation.accounts.models import Role
from warmstation.areas.scoping import area_in_scope, scope_q
from warmstation.core.errors import NotFound
from warmstation.core.inputs import id_or_404
from warmstation.stations.models import (
    HoursException,
    Loan,
    ServiceRecord,
    Station,
    StationPhoto,
    StockMovement,
)

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
    except (Station.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None
    if for_change:
        if not can_change_station(user, station):
            raise NotFound()
    elif not station.is_active and not can_change_station(user, station):
        raise NotFound()
    return station


# --- child objects: each is reached through the station it belongs to --------------------------



def loan_list(user: User | AnonymousUser | None, *, station: Station | None = None) -> QuerySet[Loan]:
    """Loans the user may see and take back: those lent from a station they keep (steward) or
    oversee (area/district admin), optionally of one station."""
    qs = Loan.objects.filter(station__in=Station.objects.filter(managed_station_q(user)))
    if station is not None:
        qs = qs.filter(station=station)
    return qs.select_related("item", "worker", "station")


def access_loan_by_id(user: User | AnonymousUser | None, loan_id: int | str, *, station: Station) -> Loan:
    """A loan by its id, only as one of `station`'s own loans (the console's list, the API's
    list_loans) and only for someone who may change that station. A loan of another station —
    even one the same person keeps — looks missing: ids are guessable, so an id never reaches
    past the station in the URL."""
    loan = loan_list(user, station=station).filter(pk=id_or_404(loan_id)).first()
    if loan is None:
        raise NotFound()
    return loan


def access_exception_by_id(user: User | AnonymousUser | None, exception_id: int | str, *,
                           station: Station) -> HoursException:
    """One of `station`'s special dates, for someone who may change the station; another
    station's looks missing, as a loan does."""
    access_station_by_id(user, station.pk, for_change=True)
    exception = HoursException.objects.filter(station=station, pk=id_or_404(exception_id)).first()
    if exception is None:
        raise NotFound()
    return exception


def access_open_loan_by_borrower(user: User | AnonymousUser | None, *, station: Station, worker: User,
                                 item_code: str) -> Loan:
    """The loan a worker brings back to `station` (returns at any station are a feature): found
    by what the worker shows — their mobile (→ `worker`, through accounts.selectors.
    worker_by_mobile) and the item in their hand — never by an id. The caller must be able to
    change `station` (the shelf the item goes onto); then the worker's oldest open loan of that
    item, from any station, is the one. None open → NotFound."""
    if not can_change_station(user, station):
        raise NotFound()
    loan = (Loan.objects.filter(worker=worker, item__code=item_code or "", returned_at=None)
            .select_related("item", "worker", "station").order_by("due_at", "pk").first())
    if loan is None:
        raise NotFound()
    return loan


def access_photo_by_id(user: User | AnonymousUser | None, photo_id: int | str, *,
                       station: Station) -> StationPhoto:
    """A station's photo, for someone who may change that station (reading photos is public
    through the station's card)."""
    if not can_change_station(user, station):
        raise NotFound()
    photo = StationPhoto.objects.filter(pk=id_or_404(photo_id), station=station).first()
    if photo is None:
        raise NotFound()
    return photo


def stock_movement_list(user: User | AnonymousUser | None, *, station: Station) -> QuerySet[StockMovement]:
    """A station's cabinet movements, newest first, for whoever may change the station."""
    if not can_change_station(user, station):
        return StockMovement.objects.none()
    return StockMovement.objects.filter(station=station).select_related("item")


def service_record_list(user: User | AnonymousUser | None, *, station: Station) -> QuerySet[ServiceRecord]:
    """A station's ledger of services and check-ins (台账), for whoever may change it."""
    if not can_change_station(user, station):
        return ServiceRecord.objects.none()
    return ServiceRecord.objects.filter(station=station).select_related("service", "worker")


def hours_exception_list(user: User | AnonymousUser | None, *, station: Station) -> QuerySet[HoursException]:
    """A station's special dates (holidays): public for an active station, like its hours."""
    access_station_by_id(user, station.pk)
    return HoursException.objects.filter(station=station)
