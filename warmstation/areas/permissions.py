from __future__ import annotations

from typing import TYPE_CHECKING

from warmstation.areas.models import AreaContact
from warmstation.areas.scoping import access_area_by_code, access_area_by_id, area_in_scope
from warmstation.core.errors import NotFound

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from warmstation.accounts.models import User

__all__ = ["access_area_by_code", "access_area_by_id", "access_contact_by_id"]


def access_contact_by_id(user: User | AnonymousUser | None, contact_id: int, *, for_change: bool = False) -> AreaContact:
    try:
        contact_id = int(contact_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    if not 0 < contact_id < 2**63:
        raise NotFound()
    contact = AreaContact.objects.select_related("area").filter(pk=contact_id).first()
    if contact is None or (for_change and not area_in_scope(user, contact.area)):
        raise NotFound()
    return contact
