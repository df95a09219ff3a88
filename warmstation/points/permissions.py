"""Who may name a ledger transaction: only a district admin (they award and reverse); a worker
sees their own entries through selectors.statement, never by a transaction id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from warmstation.accounts.models import Role
from warmstation.core.errors import NotFound
from warmstation.points.models import LedgerTransaction

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from warmstation.accounts.models import User


def access_transaction_by_id(user: User | AnonymousUser | None,
                            transaction_id: int | str) -> LedgerTransaction:
    try:
        transaction_id = int(str(transaction_id).strip())
    except (TypeError, ValueError):
        raise NotFound() from None
    if user is None or not user.is_authenticated or not 0 < transaction_id < 2**63 or \
            not user.has_role(Role.DISTRICT_ADMIN):
        raise NotFound()
    found = LedgerTransaction.objects.filter(pk=transaction_id).first()
    if found is None:
        raise NotFound()
    return found
