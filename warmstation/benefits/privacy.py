"""A person's meal and service redemptions, for the copy and the erasure (core/privacy.py)."""

from __future__ import annotations

from warmstation.benefits.models import MerchantStaff, Redemption
from warmstation.core import privacy
from warmstation.core.privacy import Person


def export(person: Person) -> dict:
    redemptions = (Redemption.objects.filter(worker=person.user).select_related("merchant")
                   .order_by("issued_at", "id"))
    return {"redemptions": [
        {"issued_at": r.issued_at.isoformat(), "merchant": r.merchant.name, "title": r.title,
         "status": r.status, "redeemed_at": r.redeemed_at.isoformat() if r.redeemed_at else None,
         "price": str(r.price) if r.price is not None else None, "points": r.points}
        for r in redemptions]}


def erase(person: Person) -> None:
    """Redemptions stay (the merchant's settlement and the ledger rely on them) and hold no
    name or number; a closed account stops being a merchant's staff."""
    MerchantStaff.objects.filter(user=person.user).delete()


privacy.register("benefits", export=export, erase=erase,
                 covers=("benefits.merchantstaff", "benefits.redemption"))
