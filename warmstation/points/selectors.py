"""Reads of the ledger: a worker's wallet and statement, the rules, the district's figures, and
`ledger_breaches` — the proof behind `manage.py ledger_verify`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from django.db import connection, transaction
from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from warmstation.areas.scoping import scope_paths
from warmstation.points.chain import GENESIS, checkpoint_signature, tx_hash
from warmstation.points.models import (
    EarningRule,
    Entry,
    Hold,
    LedgerCheckpoint,
    LedgerHead,
    LedgerTransaction,
    PointsAccount,
)

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
    """Every invariant of the whole ledger (see _full_breaches); the proof behind a full
    `ledger_verify --full`. Empty list: all hold."""
    return _full_breaches(limit=limit)[0]


def _full_breaches(*, limit: int) -> tuple[list[str], ChainWalk]:
    """Every invariant of the ledger, checked from the rows themselves (the full run). Empty
    list: all hold.

    1. each transaction's entries sum to zero, and it has at least two;
    2. each account's balance equals the sum of its entries, and its last entry's
       balance_after equals its balance (and every balance_after is the running sum);
    3. no worker balance is negative or below what it holds;
    4. each account's `held` equals the sum of its active holds;
    5. a posted hold has exactly one spend transaction of its amount; others have none;
    6. the whole ledger sums to zero;
    7. a transaction is reversed at most once, by its exact mirror image;
    8. the hash chain: every transaction's hash recomputes from its fields and entries, names
       the previous one's, positions have no gap, and the head names the last one.
    """
    out: list[str] = []
    walk = _chain_breaches(after=None, limit=limit)
    out += walk.breaches
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
    return out[:limit], walk


# --- the hash chain and incremental verification ---------------------------------------------

@dataclass
class ChainWalk:
    breaches: list[str]
    last_seq: int
    last_hash: str
    transactions: int  # how many were walked


_CHAIN_SQL = (
    "SELECT t.id, t.seq, t.prev_hash, t.hash, t.kind, t.points, t.user_id, t.action, "
    "t.source_ref, t.reverses_id, t.actor_id, t.memo, e.account_id, e.amount, e.balance_after "
    "FROM points_ledgertransaction t LEFT JOIN points_entry e ON e.transaction_id = t.id "
    "WHERE t.seq >= %s ORDER BY t.seq, e.account_id")


def _chain_rows(from_seq: int) -> Iterator[tuple[Any, ...]]:
    cursor = connection.chunked_cursor()
    try:
        cursor.execute(_CHAIN_SQL, [from_seq])
        while rows := cursor.fetchmany(5000):
            yield from rows
    finally:
        cursor.close()


def _chain_breaches(*, after: LedgerCheckpoint | None, limit: int,
                    sums: bool = False) -> ChainWalk:
    """Walk the chain (all of it, or from a checkpoint's transaction on), recomputing each hash.
    `sums`: also check each transaction's entries sum to zero over two or more lines (the full
    run checks that over the whole table in SQL)."""
    out: list[str] = []
    if after is None:
        expected_prev, expected_seq, from_seq = GENESIS, 1, 1
    else:
        expected_prev, expected_seq, from_seq = after.hash, after.seq + 1, after.seq
    count = 0
    last_seq, last_hash = (after.seq, after.hash) if after else (0, GENESIS)

    def check(tx: tuple[Any, ...], lines: list[tuple[int, int, int]]) -> None:
        nonlocal expected_prev, expected_seq, last_seq, last_hash, count
        pk, seq, prev, stored = tx[0], tx[1], tx[2], tx[3]
        digest = tx_hash(prev_hash=prev, seq=seq, kind=tx[4], points=tx[5], user_id=tx[6],
                         action=tx[7], source_ref=tx[8], reverses_id=tx[9], actor_id=tx[10],
                         memo=tx[11], entries=lines)
        if digest != stored:
            out.append(f"transaction {pk} (seq {seq}): its hash does not match its fields and "
                       "entries (an entry or the transaction was changed or removed)")
        if after is not None and seq == after.seq:  # the checkpoint's own transaction
            if stored != after.hash:
                out.append(f"checkpoint {after.pk}: transaction seq {seq} is not the one signed")
            return
        if seq != expected_seq:
            out.append(f"transaction {pk}: seq {seq} follows {expected_seq - 1} "
                       f"({seq - expected_seq} transaction(s) removed before it)")
        if prev != expected_prev:
            out.append(f"transaction {pk} (seq {seq}): chained to a hash that is not its "
                       "predecessor's (a transaction before it was removed or changed)")
        if sums and (sum(a for _acc, a, _b in lines) != 0 or len(lines) < 2):
            out.append(f"transaction {pk}: entries sum to {sum(a for _acc, a, _b in lines)} "
                       f"over {len(lines)} line(s)")
        expected_prev, expected_seq = stored, seq + 1
        last_seq, last_hash = seq, stored
        count += 1

    current: tuple[Any, ...] | None = None
    lines: list[tuple[int, int, int]] = []
    seen_checkpoint_tx = after is None
    for row in _chain_rows(from_seq):
        if current is None or row[0] != current[0]:
            if current is not None:
                check(current, lines)
            current, lines = row[:12], []
            seen_checkpoint_tx = seen_checkpoint_tx or row[1] == from_seq
        if row[12] is not None:
            lines.append((row[12], row[13], row[14]))
        if len(out) >= limit:
            return ChainWalk(out[:limit], last_seq, last_hash, count)
    if current is not None:
        check(current, lines)
    if not seen_checkpoint_tx:
        out.append(f"checkpoint {after.pk}: its transaction (seq {from_seq}) is gone")  # type: ignore[union-attr]
    head = LedgerHead.objects.filter(pk=1).first()
    if head is None:
        if last_seq:
            out.append("the chain's head is missing")
    elif (head.seq, head.hash) != (last_seq, last_hash):
        out.append(f"the chain's head names seq {head.seq}, the last transaction is seq "
                   f"{last_seq} (transactions at the end were removed, or the head was moved)")
    return ChainWalk(out[:limit], last_seq, last_hash, count)


def checkpoint_valid(cp: LedgerCheckpoint) -> bool:
    return cp.signature == checkpoint_signature(seq=cp.seq, hash=cp.hash, entry_id=cp.entry_id,
                                                full=cp.full, created_at=cp.created_at)


@dataclass
class Verification:
    breaches: list[str]
    checkpoint: LedgerCheckpoint | None  # started from (None: a full run)
    last_seq: int
    last_hash: str
    last_entry_id: int
    transactions: int


def _snapshot() -> None:
    """One consistent view for the whole verification (postings go on meanwhile)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")


def ledger_verify(*, full: bool = False, limit: int = 50) -> Verification:
    """Verify the ledger: from the newest signed checkpoint (what came after it: its
    transactions and entries, the chain from the checkpoint's hash, every stored balance
    against its account's newest entry, holds and reversals since), or all of it (`full`, or
    when there is no checkpoint yet). A checkpoint whose signature fails is a breach."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            _snapshot()
        last_entry = Entry.objects.aggregate(m=Max("id"))["m"] or 0
        checkpoint = None if full else LedgerCheckpoint.objects.order_by("-id").first()
        if checkpoint is not None and not checkpoint_valid(checkpoint):
            return Verification([f"checkpoint {checkpoint.pk}: its signature does not verify "
                                 "(forged, or LEDGER_CHECKPOINT_KEY changed): run a full "
                                 "verification"], checkpoint, 0, "", last_entry, 0)
        if checkpoint is None:
            breaches, walk = _full_breaches(limit=limit)
            return Verification(breaches, None, walk.last_seq, walk.last_hash, last_entry,
                                walk.transactions)
        walk = _chain_breaches(after=checkpoint, limit=limit, sums=True)
        out = walk.breaches + _breaches_since(checkpoint, limit=limit)
        return Verification(out[:limit], checkpoint, walk.last_seq, walk.last_hash,
                            last_entry, walk.transactions)


def _breaches_since(cp: LedgerCheckpoint, *, limit: int) -> list[str]:
    out: list[str] = []
    grafted = Entry.objects.filter(id__gt=cp.entry_id, transaction__seq__lte=cp.seq) \
        .values_list("pk", "transaction_id")[:limit]
    out += [f"entry {e}: added to transaction {t} after its checkpoint" for e, t in grafted]
    # Running balances of the new entries, each from its account's previous entry.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.id, e.amount, e.balance_after, (SELECT p.balance_after FROM points_entry p"
            " WHERE p.account_id = e.account_id AND p.id < e.id ORDER BY p.id DESC LIMIT 1) "
            "FROM points_entry e WHERE e.id > %s ORDER BY e.id", [cp.entry_id])
        for pk, amount, after, before in cursor.fetchall():
            if (before or 0) + amount != after and len(out) < limit:
                out.append(f"entry {pk}: balance_after {after} != running {(before or 0) + amount}")
        # Every stored balance against its account's newest entry (one index probe each).
        cursor.execute(
            "SELECT a.code, a.kind, a.balance, a.held, (SELECT e.balance_after FROM points_entry e"
            " WHERE e.account_id = a.id ORDER BY e.id DESC LIMIT 1) FROM points_pointsaccount a")
        accounts = cursor.fetchall()
    holds = dict(Hold.objects.filter(status=Hold.Status.ACTIVE).values("account__code")
                 .annotate(s=Sum("amount")).values_list("account__code", "s"))
    for code, kind, balance, held, newest in accounts:
        if balance != (newest or 0):
            out.append(f"account {code}: balance {balance} != entries {newest or 0}")
        if held != holds.get(code, 0):
            out.append(f"account {code}: held {held} != active holds {holds.get(code, 0)}")
        if kind == PointsAccount.Kind.WORKER and (balance < 0 or balance < held):
            out.append(f"account {code}: balance {balance}, held {held}")
    new_holds = Hold.objects.filter(transaction__seq__gt=cp.seq)
    bad_posted = new_holds.filter(status=Hold.Status.POSTED).filter(
        ~Q(transaction__points=-F("amount")) | ~Q(transaction__kind=LedgerTransaction.Kind.SPEND)
    ).values_list("pk", flat=True)[:limit]
    out += [f"hold {h}: posted without a matching spend" for h in bad_posted]
    stray = new_holds.exclude(status=Hold.Status.POSTED).values_list("pk", flat=True)[:limit]
    out += [f"hold {h}: not posted but has a transaction" for h in stray]
    mirrors = LedgerTransaction.objects.filter(kind=LedgerTransaction.Kind.REVERSAL,
                                               seq__gt=cp.seq) \
        .exclude(points=-F("reverses__points")).values_list("pk", flat=True)[:limit]
    out += [f"reversal {t}: not the mirror of what it reverses" for t in mirrors]
    return out


def ledger_checkpoint_write(v: Verification, *, full: bool) -> LedgerCheckpoint | None:
    """Sign the point a clean verification reached (nothing to sign on an empty ledger)."""
    if v.breaches or not v.last_seq:
        return None
    now = timezone.now()
    return LedgerCheckpoint.objects.create(
        seq=v.last_seq, hash=v.last_hash, entry_id=v.last_entry_id, full=full, created_at=now,
        signature=checkpoint_signature(seq=v.last_seq, hash=v.last_hash,
                                       entry_id=v.last_entry_id, full=full, created_at=now))
