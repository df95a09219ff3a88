"""A person's points, for the copy and the erasure (core/privacy.py)."""

from __future__ import annotations

from warmstation.core import privacy
from warmstation.core.privacy import Person
from warmstation.points.models import Hold
from warmstation.points.selectors import statement, wallet_of


def export(person: Person) -> dict:
    """The balance and the whole statement, every entry (a copy is not a page of it)."""
    wallet = wallet_of(person.user)
    entries = statement(user=person.user).order_by("id")
    return {"points": {
        "balance": wallet["balance"], "held": wallet["held"], "available": wallet["available"],
        "statement": [
            {"at": e.created_at.isoformat(), "points": e.amount, "balance_after": e.balance_after,
             "kind": e.transaction.kind, "action": e.transaction.action,
             "memo": e.transaction.memo} for e in entries.iterator()],
        "holds": [
            {"created_at": h.created_at.isoformat(), "amount": h.amount, "status": h.status,
             "memo": h.memo}
            for h in Hold.objects.filter(account__user=person.user).order_by("id")],
    }}


def erase(person: Person) -> None:
    """The ledger stays as it is: entries are append-only (the database refuses UPDATE) and
    hold no name or number — the worker's account is `worker:<user id>`, the user row becomes
    anonymous. Balances do not change. Holds are ordinary rows: their memo is starred out if it
    names the person."""
    for hold in Hold.objects.filter(account__user=person.user).exclude(memo=""):
        if person.mentioned_in(hold.memo):
            Hold.objects.filter(pk=hold.pk).update(memo=person.redact(hold.memo))


privacy.register("points", export=export, erase=erase,
                 covers=("points.pointsaccount", "points.ledgertransaction"))
