"""Who may name a ledger transaction: only a district admin (they award and reverse); a worker
sees their own entries through selectors.statement, never by a transaction id."""

from warmstation.accounts.models import Role
from warmstation.core.errors import NotFound
from warmstation.points.models import LedgerTransaction


def access_transaction_by_id(user, transaction_id) -> LedgerTransaction:
    try:
        transaction_id = int(transaction_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    if not 0 < transaction_id < 2**63 or not getattr(user, "is_authenticated", False) or \
            not user.has_role(Role.DISTRICT_ADMIN):
        raise NotFound()
    found = LedgerTransaction.objects.filter(pk=transaction_id).first()
    if found is None:
        raise NotFound()
    return found
