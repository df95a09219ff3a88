"""The hash chain, the database's refusals on both databases, tampering named by
`ledger_verify`, and incremental verification from a signed checkpoint."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from tests.factories import make_worker
from warmstation.points import services
from warmstation.points.chain import GENESIS, checkpoint_signature, tx_hash
from warmstation.points.models import (
    Entry,
    LedgerCheckpoint,
    LedgerHead,
    LedgerTransaction,
    PointsAccount,
)
from warmstation.points.selectors import (
    ledger_breaches,
    ledger_checkpoint_write,
    ledger_verify,
)
from warmstation.points.tests.factories import fund, guards_off


@pytest.fixture
def ledger(tree):
    """Two workers, five transactions: awards, a spend at a merchant, an award after it."""
    a, b = make_worker([tree["sz"]]), make_worker([tree["sz"]])
    fund(a, 50)
    fund(b, 20)
    services.system_account_open(code="merchant:1", kind="settlement")
    with transaction.atomic():
        hold = services.hold_place(user=a, amount=30, payee_code="merchant:1",
                                   expires_at=timezone.now() + timedelta(minutes=5))
        services.hold_post(hold_id=hold.pk)
    fund(a, 7)
    fund(b, 3)
    return {"a": a, "b": b}


def _sql(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_each_transaction_hashes_its_entries_and_the_previous_hash(ledger):
    prev = GENESIS
    txs = list(LedgerTransaction.objects.order_by("seq"))
    assert [t.seq for t in txs] == [1, 2, 3, 4, 5]
    for tx in txs:
        entries = list(tx.entries.values_list("account_id", "amount", "balance_after"))
        assert tx.prev_hash == prev
        assert tx.hash == tx_hash(prev_hash=prev, seq=tx.seq, kind=tx.kind, points=tx.points,
                                  user_id=tx.user_id, action=tx.action,
                                  source_ref=tx.source_ref, reverses_id=tx.reverses_id,
                                  actor_id=tx.actor_id, memo=tx.memo, entries=entries)
        prev = tx.hash
    head = LedgerHead.objects.get()
    assert (head.seq, head.hash) == (5, prev)
    assert ledger_breaches() == []


def test_the_database_refuses_deletes_balance_patches_and_a_head_moved_back(ledger):
    tx = LedgerTransaction.objects.get(seq=3)
    for sql in ("DELETE FROM points_entry WHERE transaction_id = %s",
                "DELETE FROM points_ledgertransaction WHERE id = %s"):
        with pytest.raises(DatabaseError), transaction.atomic():
            _sql(sql, [tx.pk])
    account = PointsAccount.objects.get(user=ledger["a"])
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsAccount.objects.filter(pk=account.pk).update(balance=account.balance + 30)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerHead.objects.filter(pk=1).update(seq=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerHead.objects.filter(pk=1).update(hash="f" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        _sql("DELETE FROM points_ledgerhead")
    # `held` is not guarded (holds move it without an entry).
    PointsAccount.objects.filter(pk=account.pk).update(held=0)
    assert ledger_breaches() == []


def _remove_spend_and_patch_balances():
    """Delete one whole transaction (its entries and its row) and patch the two stored
    balances to what the remaining entries say — the edit that used to pass unnoticed."""
    tx = LedgerTransaction.objects.get(kind="spend")
    entries = list(tx.entries.all())
    with guards_off():
        _sql("UPDATE points_hold SET status = 'released', transaction_id = NULL "
             "WHERE transaction_id = %s", [tx.pk])
        _sql("DELETE FROM points_entry WHERE transaction_id = %s", [tx.pk])
        _sql("DELETE FROM points_ledgertransaction WHERE id = %s", [tx.pk])
        for e in entries:
            # Keep balance = sum of entries, and every later balance_after, consistent.
            _sql("UPDATE points_pointsaccount SET balance = balance - %s WHERE id = %s",
                 [e.amount, e.account_id])
            _sql("UPDATE points_entry SET balance_after = balance_after - %s "
                 "WHERE account_id = %s AND id > %s", [e.amount, e.account_id, e.pk])
    return tx


def test_removing_a_transaction_and_patching_the_balances_is_named(ledger):
    tx = _remove_spend_and_patch_balances()
    breaches = ledger_breaches()
    assert any(f"seq {tx.seq + 1} follows {tx.seq - 1}" in b for b in breaches), breaches
    assert any("chained to a hash that is not its predecessor's" in b for b in breaches)
    # Rewriting later balance_after changed those transactions' hashes too.
    assert any("its hash does not match" in b for b in breaches)
    err = StringIO()
    with pytest.raises(SystemExit):
        call_command("ledger_verify", "--full", stdout=StringIO(), stderr=err)
    assert "BREACH" in err.getvalue()


def test_removing_the_last_transaction_is_named_by_the_head(ledger):
    last = LedgerTransaction.objects.get(seq=5)
    lines = list(last.entries.all())
    with guards_off():
        _sql("DELETE FROM points_entry WHERE transaction_id = %s", [last.pk])
        _sql("DELETE FROM points_ledgertransaction WHERE id = %s", [last.pk])
        for e in lines:
            _sql("UPDATE points_pointsaccount SET balance = balance - %s WHERE id = %s",
                 [e.amount, e.account_id])
    assert any("head names seq 5, the last transaction is seq 4" in b
               for b in ledger_breaches())


def test_an_incremental_run_walks_only_what_came_after_the_checkpoint(ledger):
    full = ledger_verify(full=True)
    assert full.breaches == [] and full.transactions == 5
    cp = ledger_checkpoint_write(full, full=True)
    assert cp.seq == 5
    fund(ledger["a"], 4)
    fund(ledger["b"], 6)
    since = ledger_verify()
    assert since.breaches == [] and since.checkpoint == cp
    assert since.transactions == 2 and since.last_seq == 7
    out = StringIO()
    call_command("ledger_verify", stdout=out)
    assert "ledger ok" in out.getvalue() and "since checkpoint" in out.getvalue()
    assert LedgerCheckpoint.objects.order_by("-id").first().seq == 7


def _checkpoint_at(seq):
    """A checkpoint signed at `seq`, as a clean run then would have written it."""
    tx = LedgerTransaction.objects.get(seq=seq)
    last_entry = Entry.objects.filter(transaction__seq__lte=seq).order_by("-id").first().pk
    now = timezone.now()
    return LedgerCheckpoint.objects.create(
        seq=seq, hash=tx.hash, entry_id=last_entry, full=True, created_at=now,
        signature=checkpoint_signature(seq=seq, hash=tx.hash, entry_id=last_entry, full=True,
                                       created_at=now))


def test_an_incremental_run_names_tampering_after_its_checkpoint(ledger):
    _checkpoint_at(2)  # the spend (seq 3) came after it
    assert ledger_verify().breaches == []
    _remove_spend_and_patch_balances()
    breaches = ledger_verify().breaches
    assert any("seq 4 follows 2" in b for b in breaches), breaches
    assert any("chained to a hash that is not its predecessor's" in b for b in breaches)


def test_an_incremental_run_names_a_checkpointed_transaction_changed(ledger):
    cp = _checkpoint_at(4)
    with guards_off():
        _sql("UPDATE points_ledgertransaction SET memo = 'edited' WHERE seq = 4")
    breaches = ledger_verify().breaches
    assert any(f"seq {cp.seq}): its hash does not match" in b for b in breaches), breaches


def test_a_forged_checkpoint_is_named(ledger):
    cp = ledger_checkpoint_write(ledger_verify(full=True), full=True)
    LedgerCheckpoint.objects.filter(pk=cp.pk).update(seq=2)  # moved without the key
    breaches = ledger_verify().breaches
    assert breaches and "signature does not verify" in breaches[0]
    assert ledger_verify(full=True).breaches == []  # a full run stays available
