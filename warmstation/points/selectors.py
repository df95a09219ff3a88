"""Reads of the ledger: a worker's wallet and statement, the rules, the district's figures, and
`ledger_breaches` — the proof behind `manage.py ledger_verify`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from warmstation.areas.scoping import scope_paths
from warmstation.points.models import EarningRule, Entry, Hold, LedgerTransaction, PointsAccount

if TYPE_CHECKING:
    from warmstation.accounts.models import User


class Wallet(TypedDict):
    account: PointsAccount | None
    balance: int
    held: int
    available: int


def wallet_of(user: User) -> Wallet:
    """Balance, held and available of a worker (zeros before their first point)."""
    account = PointsAccount.objects.filter(user=user).first()
    if account is None:
        return {"account": None, "balance": 0, "held": 0, "available": 0}
    return {"account": account, "balance": account.balance, "held": account.held,
            "available": account.available}


def statement(*, user: User) -> QuerySet[Entry]:
    """The worker's entries, newest first, each with its transaction and running balance."""
    return Entry.objects.filter(account__user=user).select_related("transaction") \
        .order_by("-id")


def active_holds(*, user: User) -> QuerySet[Hold]:
    return Hold.objects.filter(account__user=user, status=Hold.Status.ACTIVE).order_by("-id")


def earning_rule_list(*, user: User | None = None, active_only: bool = True) -> QuerySet[EarningRule]:
    """Published rules. Everyone sees district-wide ones; an area admin also sees (and an
    unscoped caller sees all) rules published by areas."""
    qs = EarningRule.objects.select_related("area")
    if active_only:
        qs = qs.filter(is_active=True)
    if user is None:
        return qs
    q = Q(area=None)
    for path in scope_paths(user):
        q |= Q(area__path__startswith=path)
    return qs.filter(q)


def district_figures() -> dict[str, Any]:
    """Points issued (by source and month), spent (at merchants) and outstanding."""
    tz = timezone.get_current_timezone()
    issued_by_source = list(
        Entry.objects.filter(account__kind=PointsAccount.Kind.ISSUANCE)
        .values(code=F("account__code"), name=F("account__name"))
        .annotate(issued=-Sum("amount"), count=Count("id")).order_by("code"))
    by_month = list(
        LedgerTransaction.objects.annotate(month=TruncMonth("created_at", tzinfo=tz))
        .values("month", "kind").annotate(points=Sum("points"), count=Count("id"))
        .order_by("-month", "kind"))
    spent = PointsAccount.objects.filter(kind=PointsAccount.Kind.SETTLEMENT) \
        .aggregate(total=Sum("balance"))["total"] or 0
    outstanding = PointsAccount.objects.filter(kind=PointsAccount.Kind.WORKER) \
        .aggregate(total=Sum("balance"), held=Sum("held"), n=Count("id"))
    return {"issued_by_source": issued_by_source,
            "issued": sum(r["issued"] or 0 for r in issued_by_source),
            "spent": spent, "outstanding": outstanding["total"] or 0,
            "held": outstanding["held"] or 0, "worker_accounts": outstanding["n"],
            "by_month": by_month}


def ledger_breaches(*, limit: int = 50) -> list[str]:
    """Every invariant of the ledger, checked from the rows themselves. Empty list: all hold.

    1. each transaction's entries sum to zero, and it has at least two;
    2. each account's balance equals the sum of its entries, and its last entry's
       balance_after equals its balance (and every balance_after is the running sum);
    3. no worker balance is negative or below what it holds;
    4. each account's `held` equals the sum of its active holds;
    5. a posted hold has exactly one spend transaction of its amount; others have none;
    6. the whole ledger sums to zero;
    7. a transaction is reversed at most once, by its exact mirror image.
    """
    out: list[str] = []
    unbalanced = Entry.objects.values("transaction_id").annotate(s=Sum("amount"), n=Count("id")) \
        .filter(~Q(s=0) | Q(n__lt=2)).values_list("transaction_id", "s", "n")[:limit]
    out += [f"transaction {t}: entries sum to {s} over {n} line(s)" for t, s, n in unbalanced]
    empty = LedgerTransaction.objects.filter(entries=None).values_list("pk", flat=True)[:limit]
    out += [f"transaction {t}: no entries" for t in empty]
    sums = dict(Entry.objects.values("account_id").annotate(s=Sum("amount"))
                .values_list("account_id", "s"))
    holds = dict(Hold.objects.filter(status=Hold.Status.ACTIVE).values("account_id")
                 .annotate(s=Sum("amount")).values_list("account_id", "s"))
    for acc in PointsAccount.objects.all().iterator():
        if acc.balance != sums.get(acc.pk, 0):
            out.append(f"account {acc.code}: balance {acc.balance} != entries {sums.get(acc.pk, 0)}")
        if acc.held != holds.get(acc.pk, 0):
            out.append(f"account {acc.code}: held {acc.held} != active holds {holds.get(acc.pk, 0)}")
        if acc.kind == PointsAccount.Kind.WORKER and (acc.balance < 0 or acc.balance < acc.held):
            out.append(f"account {acc.code}: balance {acc.balance}, held {acc.held}")
    # Running balances: walk each account's entries in order (one pass over the table).
    running: dict[int, int] = {}
    for account_id, amount, after, pk in Entry.objects.order_by("account_id", "id") \
            .values_list("account_id", "amount", "balance_after", "pk").iterator(chunk_size=5000):
        running[account_id] = running.get(account_id, 0) + amount
        if running[account_id] != after and len(out) < limit:
            out.append(f"entry {pk}: balance_after {after} != running {running[account_id]}")
    total = Entry.objects.aggregate(s=Sum("amount"))["s"] or 0
    if total != 0:
        out.append(f"the ledger sums to {total}, not 0")
    bad_posted = Hold.objects.filter(status=Hold.Status.POSTED).filter(
        Q(transaction=None) | ~Q(transaction__points=-F("amount")) |
        ~Q(transaction__kind=LedgerTransaction.Kind.SPEND)).values_list("pk", flat=True)[:limit]
    out += [f"hold {h}: posted without a matching spend" for h in bad_posted]
    stray = Hold.objects.exclude(status=Hold.Status.POSTED).exclude(transaction=None) \
        .values_list("pk", flat=True)[:limit]
    out += [f"hold {h}: not posted but has a transaction" for h in stray]
    mirrors = LedgerTransaction.objects.filter(kind=LedgerTransaction.Kind.REVERSAL) \
        .exclude(points=-F("reverses__points")).values_list("pk", flat=True)[:limit]
    out += [f"reversal {t}: not the mirror of what it reverses" for t in mirrors]
    return out[:limit]
