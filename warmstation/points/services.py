"""Every write to the points ledger.

Locking rule (why no deadlock and no double spend): a posting locks the worker's account row
first (`SELECT … FOR UPDATE`), checks what is available, then takes the chain head's row
(LedgerHead: every posting is one link of one chain), then writes; system accounts (issuance,
merchant settlement) are moved only under the head's lock, so they need no lock of their own.
The order is fixed — worker accounts by id, then the head, then system accounts — so two
postings never wait on each other in a circle. The database's CHECK constraints are the last word: even a bug here cannot leave a
worker's balance below zero or below what is held.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from warmstation.core.audit import audit_record
from warmstation.core.errors import Conflict, InvalidInput, NotFound
from warmstation.core.inputs import clean_text
from warmstation.core.time import LOCAL
from warmstation.points.chain import GENESIS, tx_hash
from warmstation.points.idempotency import idempotent
from warmstation.points.labels import reversal_memo
from warmstation.points.models import (
    EarningRule,
    Entry,
    Hold,
    LedgerHead,
    LedgerTransaction,
    PointsAccount,
)

if TYPE_CHECKING:
    from warmstation.accounts.models import User


class LedgerError(Exception):
    """A programming error: a posting that does not balance. Never shown to a user."""


class InsufficientPoints(Conflict):
    code = "insufficient_points"

    def __init__(self, available: int, needed: int) -> None:
        super().__init__(_("积分不足：可用 %(available)s，需要 %(needed)s。"),
                         params={"available": available, "needed": needed},
                         extra={"available": available, "needed": needed})


# --- accounts ---------------------------------------------------------------------------------

def points_account_open(*, user: User) -> PointsAccount:
    """The worker's account, created on first use (two concurrent first uses meet at the
    unique code)."""
    account = PointsAccount.objects.filter(user=user).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return PointsAccount.objects.create(
                kind=PointsAccount.Kind.WORKER, code=f"worker:{user.pk}", user=user,
                name=f"worker {user.pk}")
    except IntegrityError:
        return PointsAccount.objects.get(code=f"worker:{user.pk}")


def system_account_open(*, code: str, kind: str, name: str = "") -> PointsAccount:
    account = PointsAccount.objects.filter(code=code).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return PointsAccount.objects.create(kind=kind, code=code, name=name or code)
    except IntegrityError:
        return PointsAccount.objects.get(code=code)


def issuance_account(source: str) -> PointsAccount:
    label = EarningRule.Source(source).label if source in EarningRule.Source.values else source
    return system_account_open(code=f"issuance:{source}", kind=PointsAccount.Kind.ISSUANCE,
                               name=f"积分发放·{label}")


def _locked_worker(user: User) -> PointsAccount:
    account = points_account_open(user=user)
    return PointsAccount.objects.select_for_update().get(pk=account.pk)


# --- posting ----------------------------------------------------------------------------------

def _chain_next() -> tuple[int, str]:
    """Take the chain's head (its row lock, held to commit: postings are one line) and return
    (the new transaction's seq, the previous hash). The head row is made on first use (a new
    database, or a test database just emptied)."""
    table = LedgerHead._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")  # noqa: S608
        row = cursor.fetchone()
        if row is None:
            cursor.execute(f"INSERT INTO {table} (id, seq, hash) VALUES (1, 0, %s) "  # noqa: S608
                           "ON CONFLICT (id) DO NOTHING", [GENESIS])
            cursor.execute(f"UPDATE {table} SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")  # noqa: S608
            row = cursor.fetchone()
    return row[0], row[1]


def _post(*, kind: str, worker: PointsAccount, worker_amount: int, system: PointsAccount,
          memo: str = "", user: User | None = None, action: str = "", source_ref: str = "",
          reverses: LedgerTransaction | None = None, actor: User | None = None,
          release_held: int = 0) -> LedgerTransaction:
    """Write one balanced transaction between a worker's account (already locked by the caller
    in this database transaction) and a system account: the worker's side `worker_amount`,
    the system's side its negation. `release_held` points of the worker's hold are released in
    the same UPDATE (posting a hold). Caller owns the atomic block.

    Order (the database's guards want it so): the chain head is locked, the entries are
    written, then the balances move to the entries' `balance_after` (a trigger refuses a
    balance that is not its account's newest entry's), then the head moves to this hash."""
    if not connection.in_atomic_block:
        raise LedgerError("postings must run inside transaction.atomic")
    lines = [(worker, worker_amount), (system, -worker_amount)]
    if sum(amount for _a, amount in lines) != 0 or any(amount == 0 for _a, amount in lines):
        raise LedgerError(f"unbalanced or empty posting: {lines}")
    new_balance = worker.balance + worker_amount
    new_held = worker.held - release_held
    if new_held < 0 or new_balance < new_held:
        raise InsufficientPoints(worker.balance - worker.held, -worker_amount)
    memo, source_ref = memo[:128], source_ref[:96]
    seq, prev_hash = _chain_next()
    accounts = PointsAccount._meta.db_table
    with connection.cursor() as cursor:
        # Under the head's lock no other posting moves a system balance: this read is current.
        cursor.execute(f"SELECT balance FROM {accounts} WHERE id = %s", [system.pk])  # noqa: S608
        system_balance = cursor.fetchone()[0] - worker_amount
    entries = [(worker.pk, worker_amount, new_balance), (system.pk, -worker_amount, system_balance)]
    digest = tx_hash(prev_hash=prev_hash, seq=seq, kind=kind, points=worker_amount,
                     user_id=user.pk if user else None, action=action, source_ref=source_ref,
                     reverses_id=reverses.pk if reverses else None,
                     actor_id=actor.pk if actor else None, memo=memo, entries=entries)
    tx = LedgerTransaction.objects.create(
        kind=kind, memo=memo, user=user, action=action, points=worker_amount,
        source_ref=source_ref, reverses=reverses, actor=actor, seq=seq, prev_hash=prev_hash,
        hash=digest)
    Entry.objects.bulk_create([Entry(transaction=tx, account_id=a, amount=amount,
                                     balance_after=after) for a, amount, after in entries])
    PointsAccount.objects.filter(pk=worker.pk).update(balance=new_balance, held=new_held)
    worker.balance, worker.held = new_balance, new_held
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {accounts} SET balance = %s WHERE id = %s",  # noqa: S608
                       [system_balance, system.pk])
        cursor.execute(f"UPDATE {LedgerHead._meta.db_table} SET hash = %s WHERE id = 1",  # noqa: S608
                       [digest])
    return tx


def _tx_out(tx: LedgerTransaction, worker: PointsAccount) -> dict[str, Any]:
    return {"transaction_id": tx.pk, "kind": tx.kind, "action": tx.action, "points": tx.points,
            "balance": worker.balance, "available": worker.balance - worker.held,
            "created_at": tx.created_at.isoformat()}


# --- earning ----------------------------------------------------------------------------------

def _earned(user: User, action: str, since: datetime) -> int:
    total = LedgerTransaction.objects.filter(
        user=user, action=action, created_at__gte=since,
        kind__in=[LedgerTransaction.Kind.EARN, LedgerTransaction.Kind.REVERSAL],
    ).aggregate(total=Sum("points"))["total"]
    return total or 0


def points_award(*, user: User, action: str, idempotency_key: str, source_ref: str = "",
                 actor: User | None = None, request: HttpRequest | None = None
                 ) -> dict[str, Any]:
    """Award the points the published rule for `action` gives, within its per-day and
    per-month caps (counted in Shanghai time, net of reversals). For other apps to call when a
    worker finishes a shift, an errand, a valid report; `idempotency_key` should name that
    event (e.g. "volunteering.signup:42") so a retried call awards nothing twice."""
    body = {"user": user.pk, "action": action, "source_ref": source_ref}

    def work() -> dict[str, Any]:
        rule = EarningRule.objects.filter(action=action, is_active=True).first()
        if rule is None:
            raise InvalidInput(_("没有这项积分规则。"), code="unknown_action", field="action")
        if not user.is_active:
            raise NotFound()
        worker = _locked_worker(user)  # serialises this worker's awards: caps stay exact
        local = timezone.now().astimezone(LOCAL)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        grant = rule.points
        if rule.daily_cap is not None:
            grant = min(grant, rule.daily_cap - _earned(user, action, day))
        if rule.monthly_cap is not None:
            grant = min(grant, rule.monthly_cap - _earned(user, action, day.replace(day=1)))
        if grant <= 0:
            raise Conflict(_("已达到该项积分的每日或每月上限。"), code="cap_reached")
        tx = _post(kind=LedgerTransaction.Kind.EARN, worker=worker, worker_amount=grant,
                   system=issuance_account(rule.source), memo=rule.name_zh, user=user,
                   action=action, source_ref=source_ref, actor=actor)
        audit_record("points.award", actor=actor, obj=tx, request=request,
                     detail={"user": user.pk, "action": action, "points": grant,
                             "capped": grant < rule.points})
        return _tx_out(tx, worker)

    response, _replayed = idempotent(scope="points.award", owner_id=user.pk,
                                     key=idempotency_key, body=body, work=work)
    return response


REASON_MAX = 100


def points_reverse(*, actor: User | None, transaction_id: int, reason: str,
                   idempotency_key: str, request: HttpRequest | None = None) -> dict[str, Any]:
    """Correct a transaction by posting its mirror image (冲正). A transaction is reversed at
    most once (a unique column says so); reversing an award the worker has already spent is
    refused rather than leaving them below zero. The reason goes whole into the memo (never
    cut): REASON_MAX leaves room for the "冲正 #id：" prefix in the memo's 128 characters."""
    reason = clean_text(reason, max_length=REASON_MAX, field="reason")
    body = {"transaction": transaction_id, "reason": reason}
    # A missing transaction is refused before the key is claimed: nothing to remember.
    original = LedgerTransaction.objects.filter(pk=transaction_id).first()
    if original is None or original.kind == LedgerTransaction.Kind.REVERSAL:
        raise NotFound()

    def work() -> dict[str, Any]:
        lines = list(original.entries.select_related("account"))
        worker_line = next(e for e in lines if e.account.kind == PointsAccount.Kind.WORKER)
        system_line = next(e for e in lines if e.account.kind != PointsAccount.Kind.WORKER)
        worker = PointsAccount.objects.select_for_update().get(pk=worker_line.account_id)
        if LedgerTransaction.objects.filter(reverses=original).exists():
            raise Conflict(_("该笔流水已冲正。"), code="already_reversed")
        try:
            with transaction.atomic():
                tx = _post(kind=LedgerTransaction.Kind.REVERSAL, worker=worker,
                           worker_amount=-worker_line.amount, system=system_line.account,
                           memo=reversal_memo(original.pk, reason), user=original.user,
                           action=original.action, source_ref=f"reversal:{original.pk}",
                           reverses=original, actor=actor)
        except IntegrityError:  # a concurrent reversal of the same transaction won
            raise Conflict(_("该笔流水已冲正。"), code="already_reversed") from None
        audit_record("points.reverse", actor=actor, obj=tx, request=request,
                     detail={"reverses": original.pk, "reason": reason})
        return _tx_out(tx, worker)

    response, _replayed = idempotent(scope="points.reverse", owner_id=actor.pk if actor else 0,
                                     key=idempotency_key, body=body, work=work)
    return response


# --- holds ------------------------------------------------------------------------------------

def hold_place(*, user: User, amount: int, payee_code: str, expires_at: datetime,
               memo: str = "") -> Hold:
    """Reserve `amount` of the worker's available points for a pending redemption. Runs
    inside the caller's transaction (which supplies the idempotency)."""
    if amount <= 0:
        raise LedgerError("a hold must be positive")
    worker = _locked_worker(user)
    if worker.balance - worker.held < amount:
        raise InsufficientPoints(worker.balance - worker.held, amount)
    PointsAccount.objects.filter(pk=worker.pk).update(held=worker.held + amount)
    worker.held += amount
    return Hold.objects.create(account=worker, amount=amount, payee_code=payee_code,
                               expires_at=expires_at, memo=memo[:128])


def hold_post(*, hold_id: int, actor: User | None = None, source_ref: str = "") -> LedgerTransaction:
    """Move a held amount to its payee (the merchant's settlement account). Exactly once: the
    conditional UPDATE on status='active' lets one caller through; a hold already posted,
    released or expired raises. Runs inside the caller's transaction."""
    hold = Hold.objects.get(pk=hold_id)
    # Every change of a hold's status takes its worker's account lock first, so under this
    # lock the status read below cannot change; the conditional UPDATE is the second guard.
    worker = PointsAccount.objects.select_for_update().get(pk=hold.account_id)
    inactive = Conflict(_("该笔积分冻结已失效。"), code="hold_inactive")
    if Hold.objects.filter(pk=hold_id).values_list("status", flat=True).get() != \
            Hold.Status.ACTIVE:
        raise inactive
    payee = PointsAccount.objects.get(code=hold.payee_code)
    tx = _post(kind=LedgerTransaction.Kind.SPEND, worker=worker, worker_amount=-hold.amount,
               system=payee, memo=hold.memo, user=worker.user, source_ref=source_ref,
               actor=actor, release_held=hold.amount)
    if not Hold.objects.filter(pk=hold_id, status=Hold.Status.ACTIVE).update(
            status=Hold.Status.POSTED, settled_at=timezone.now(), transaction=tx):
        raise inactive
    return tx


def hold_release(*, hold_id: int, expired: bool = False) -> bool:
    """Give the held points back (a cancelled code, or an expired one). Exactly once, like
    hold_post; returns whether this call released it."""
    with transaction.atomic():
        hold = Hold.objects.filter(pk=hold_id).values("account_id", "amount").first()
        if hold is None:
            return False
        worker = PointsAccount.objects.select_for_update().get(pk=hold["account_id"])
        status = Hold.Status.EXPIRED if expired else Hold.Status.RELEASED
        changed = Hold.objects.filter(pk=hold_id, status=Hold.Status.ACTIVE).update(
            status=status, settled_at=timezone.now())
        if changed:
            PointsAccount.objects.filter(pk=worker.pk).update(held=worker.held - hold["amount"])
            audit_record("points.hold_release", object_type="points.hold", object_id=hold_id,
                         detail={"amount": hold["amount"], "expired": expired})
    return bool(changed)


def hold_expire_due(*, now: datetime | None = None, grace: timedelta = timedelta(0)) -> int:
    """Release every active hold past its expiry; returns how many this call released."""
    now = now or timezone.now()
    due = Hold.objects.filter(status=Hold.Status.ACTIVE, expires_at__lte=now - grace) \
        .values_list("pk", flat=True).order_by("pk")
    return sum(hold_release(hold_id=pk, expired=True) for pk in list(due[:10_000]))


# --- rules ------------------------------------------------------------------------------------

def earning_rule_save(*, actor: User, rule: EarningRule, request: HttpRequest | None = None,
                      **fields: Any) -> EarningRule:
    for key, value in fields.items():
        setattr(rule, key, value)
    if not rule.points or rule.points <= 0:
        raise InvalidInput(_("积分须为正数。"), field="points")
    created = rule.pk is None
    with transaction.atomic():
        rule.save()
        audit_record("points.rule_create" if created else "points.rule_update", actor=actor,
                     obj=rule, request=request,
                     detail={k: str(v) for k, v in fields.items()})
    return rule
