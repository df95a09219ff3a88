"""Who may see and change merchants, offers and redemptions. Reading an active merchant and
its active offers is open to anyone signed in (they are on the map). Changing one needs its own
staff (a `merchant` grant plus a MerchantStaff link) or an area/district admin covering its
area; a merchant sees only its own redemptions. Anything else looks missing (404)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from warmstation.accounts.models import Role
from warmstation.areas.scoping import area_in_scope, scope_q
from warmstation.benefits.models import Merchant, Offer, Redemption
from warmstation.core.errors import NotFound

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from warmstation.accounts.models import User


def is_merchant_staff(user: User | AnonymousUser | None, merchant: Merchant) -> bool:
    return user is not None and user.is_authenticated and user.has_role(Role.MERCHANT) and \
        merchant.staff.filter(user=user).exists()


def can_change_merchant(user: User | AnonymousUser | None, merchant: Merchant) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return is_merchant_staff(user, merchant) or area_in_scope(user, merchant.area)


def managed_merchant_q(user: User | AnonymousUser | None) -> Q:
    q = scope_q(user)
    if user is not None and user.is_authenticated and user.has_role(Role.MERCHANT):
        q |= Q(staff__user=user)
    return q


def merchant_managed_list(user: User | AnonymousUser | None) -> QuerySet[Merchant]:
    """Merchants the user runs (their counters) or manages (their area's partners)."""
    return Merchant.objects.filter(managed_merchant_q(user)).select_related("area").distinct()


def merchant_counter_list(user: User | AnonymousUser | None) -> QuerySet[Merchant]:
    """Merchants whose counter this user works (merchant role + staff link)."""
    if not (user is not None and user.is_authenticated and user.has_role(Role.MERCHANT)):
        return Merchant.objects.none()
    return Merchant.objects.filter(staff__user=user, is_active=True).order_by("name")


def access_merchant_by_id(user: User | AnonymousUser | None, merchant_id: int | str, *, for_change: bool = False,
                          counter: bool = False) -> Merchant:
    """`counter=True`: only the merchant's own staff (redeeming codes, its redemptions)."""
    try:
        merchant = Merchant.objects.select_related("area").get(pk=merchant_id)
    except (Merchant.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None
    if counter:
        if not is_merchant_staff(user, merchant):
            raise NotFound()
    elif for_change:
        if not can_change_merchant(user, merchant):
            raise NotFound()
    elif not merchant.is_active and not can_change_merchant(user, merchant):
        raise NotFound()
    return merchant


def access_offer_by_id(user: User | AnonymousUser | None, offer_id: int | str, *, for_change: bool = False) -> Offer:
    try:
        offer = Offer.objects.select_related("merchant", "merchant__area").get(pk=offer_id)
    except (Offer.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None
    hidden = not (offer.is_active and offer.merchant.is_active)
    if (for_change or hidden) and not can_change_merchant(user, offer.merchant):
        raise NotFound()
    return offer


def redemption_visible_q(user: User | AnonymousUser | None) -> Q:
    """A worker sees their own codes; a merchant its counter's; an admin their area's."""
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    q = Q(worker=user) | scope_q(user, field="merchant__area")
    if user.has_role(Role.MERCHANT):
        q |= Q(merchant__staff__user=user)
    return q


def access_redemption_by_id(user: User | AnonymousUser | None, redemption_id: int | str) -> Redemption:
    try:
        r = Redemption.objects.filter(redemption_visible_q(user)).select_related(
            "merchant", "offer").distinct().get(pk=redemption_id)
    except (Redemption.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None
    return r
