"""The ledger: awards within caps, idempotency, reversals, holds exactly once, and the database
refusing what the services would never do."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from tests.factories import make_user, make_worker
from warmstation.accounts.models import Role
from warmstation.core.errors import ApplicationError
from warmstation.core.models import AuditEvent
from warmstation.points import services
from warmstation.points.idempotency import KeyReused, idempotency_purge_due
from warmstation.points.models import (
    Entry,
    Hold,
    IdempotencyKey,
    LedgerTransaction,
    PointsAccount,
)
from warmstation.points.selectors import ledger_breaches, wallet_of
from warmstation.points.services import InsufficientPoints
from warmstation.points.tests.factories import fund, guards_off, make_rule


@pytest.fixture
def worker(tree):
    return make_worker([tree["sz"]])


def _merchant_account(n=1):
    return services.system_account_open(code=f"merchant:{n}", kind="settlement")


def test_an_award_follows_the_published_rule_and_balances(worker):
    make_rule("volunteer_shift", 10)
    out = services.points_award(user=worker, action="volunteer_shift", idempotency_key="k1",
                                source_ref="volunteering.signup:1")
    assert out["points"] == 10 and out["balance"] == 10
    tx = LedgerTransaction.objects.get(pk=out["transaction_id"])
    assert sorted(e.amount for e in tx.entries.all()) == [-10, 10]
    assert PointsAccount.objects.get(code="issuance:volunteering").balance == -10
    assert AuditEvent.objects.filter(action="points.award", object_id=str(tx.pk)).exists()
    assert ledger_breaches() == []


def test_caps_per_day_and_month_are_kept_and_partial_awards_fill_them(worker):
    make_rule("street_report", 4, source="street_report", daily_cap=10, monthly_cap=50)
    got = [services.points_award(user=worker, action="street_report", idempotency_key=f"r{i}")
           ["points"] for i in range(3)]
    assert got == [4, 4, 2]  # the third is cut to what the day has left
    with pytest.raises(ApplicationError) as exc:
        services.points_award(user=worker, action="street_report", idempotency_key="r3")
    assert exc.value.code == "cap_reached" and exc.value.status == 409
    assert wallet_of(worker)["balance"] == 10


def test_the_same_key_replays_and_a_different_body_is_refused(worker):
    make_rule("errand", 5, source="errand")
    first = services.points_award(user=worker, action="errand", idempotency_key="same")
    again = services.points_award(user=worker, action="errand", idempotency_key="same")
    assert first == again
    assert LedgerTransaction.objects.count() == 1
    with pytest.raises(KeyReused):
        services.points_award(user=worker, action="errand", idempotency_key="same",
                              source_ref="something else")


def test_a_refusal_is_remembered_under_its_key(worker):
    make_rule("errand", 5, source="errand", daily_cap=5)
    services.points_award(user=worker, action="errand", idempotency_key="a")
    for _ in range(2):
        with pytest.raises(ApplicationError) as exc:
            services.points_award(user=worker, action="errand", idempotency_key="b")
        assert exc.value.code == "cap_reached"


def test_a_reversal_mirrors_once_and_gives_the_cap_back(worker):
    make_rule("errand", 5, source="errand", daily_cap=5)
    admin = make_user(Role.DISTRICT_ADMIN, worker.worker_profile.areas.first())
    out = services.points_award(user=worker, action="errand", idempotency_key="a")
    rev = services.points_reverse(actor=admin, transaction_id=out["transaction_id"],
                                  reason="重复登记", idempotency_key="rev1")
    assert rev["points"] == -5 and rev["balance"] == 0
    with pytest.raises(ApplicationError) as exc:
        services.points_reverse(actor=admin, transaction_id=out["transaction_id"],
                                reason="again", idempotency_key="rev2")
    assert exc.value.code == "already_reversed"
    # The cap counts net of reversals: the worker may earn today's 5 again.
    assert services.points_award(user=worker, action="errand", idempotency_key="c")["points"] == 5
    assert ledger_breaches() == []


def test_reversing_an_award_already_spent_is_refused(worker):
    admin = make_user(Role.DISTRICT_ADMIN, worker.worker_profile.areas.first())
    award = fund(worker, 30)
    _merchant_account()
    with transaction.atomic():
        hold = services.hold_place(user=worker, amount=20, payee_code="merchant:1",
                                   expires_at=timezone.now() + timedelta(minutes=5))
        services.hold_post(hold_id=hold.pk)
    with pytest.raises(InsufficientPoints):
        services.points_reverse(actor=admin, transaction_id=award["transaction_id"],
                                reason="x", idempotency_key="r")
    assert wallet_of(worker)["balance"] == 10


def test_a_hold_reserves_then_posts_exactly_once(worker):
    fund(worker, 100)
    merchant = _merchant_account()
    with transaction.atomic():
        hold = services.hold_place(user=worker, amount=30, payee_code="merchant:1",
                                   expires_at=timezone.now() + timedelta(minutes=5))
    assert wallet_of(worker) | {"account": None} == {"account": None, "balance": 100,
                                                     "held": 30, "available": 70}
    with transaction.atomic():
        services.hold_post(hold_id=hold.pk)
    with pytest.raises(ApplicationError), transaction.atomic():
        services.hold_post(hold_id=hold.pk)
    assert services.hold_release(hold_id=hold.pk) is False
    merchant.refresh_from_db()
    assert merchant.balance == 30
    assert wallet_of(worker)["balance"] == 70 and wallet_of(worker)["held"] == 0
    assert ledger_breaches() == []


def test_holds_cannot_exceed_what_is_available(worker):
    fund(worker, 100)
    _merchant_account()
    later = timezone.now() + timedelta(minutes=5)
    for _ in range(3):
        with transaction.atomic():
            services.hold_place(user=worker, amount=30, payee_code="merchant:1", expires_at=later)
    with pytest.raises(InsufficientPoints), transaction.atomic():
        services.hold_place(user=worker, amount=30, payee_code="merchant:1", expires_at=later)


def test_expired_holds_are_released_once(worker):
    fund(worker, 50)
    _merchant_account()
    with transaction.atomic():
        hold = services.hold_place(user=worker, amount=20, payee_code="merchant:1",
                                   expires_at=timezone.now() - timedelta(seconds=1))
    assert services.hold_expire_due() == 1
    assert services.hold_expire_due() == 0
    hold.refresh_from_db()
    assert hold.status == Hold.Status.EXPIRED
    assert wallet_of(worker)["held"] == 0
    out = StringIO()
    call_command("run_periodic", only=["points_holds"], stdout=out)
    call_command("ledger_verify", stdout=out)
    assert "ledger ok" in out.getvalue()


def test_the_database_refuses_to_rewrite_an_entry(worker):
    fund(worker, 10)
    entry = Entry.objects.first()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
        c.execute("UPDATE points_entry SET amount = 1000 WHERE id = %s", [entry.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
        c.execute("UPDATE points_ledgertransaction SET points = 1000")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
        c.execute("DELETE FROM points_entry WHERE id = %s", [entry.pk])
    assert Entry.objects.get(pk=entry.pk).amount == entry.amount


def test_the_database_refuses_a_negative_worker_balance(worker):
    fund(worker, 10)
    account = PointsAccount.objects.get(user=worker)
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsAccount.objects.filter(pk=account.pk).update(balance=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        PointsAccount.objects.filter(pk=account.pk).update(held=11)
    # System accounts may be negative: issuance is, by design.
    assert PointsAccount.objects.get(code="issuance:other").balance == -10


def test_ledger_verify_finds_a_breach_and_exits_non_zero(worker):
    fund(worker, 10)
    account = PointsAccount.objects.get(user=worker)
    with guards_off():  # the database refuses this balance; a console session without it
        PointsAccount.objects.filter(pk=account.pk).update(balance=9)
    with pytest.raises(SystemExit) as exc:
        call_command("ledger_verify", stdout=StringIO(), stderr=StringIO())
    assert exc.value.code == 1
    assert any("balance 9 != entries 10" in b for b in ledger_breaches())


def test_idempotency_keys_are_kept_past_the_retry_window_then_purged(worker, settings):
    settings.POINTS_IDEMPOTENCY_RETENTION_DAYS = 7
    make_rule("errand", 5, source="errand")
    first = services.points_award(user=worker, action="errand", idempotency_key="old")
    services.points_award(user=worker, action="errand", idempotency_key="new")
    IdempotencyKey.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(days=8))
    IdempotencyKey.objects.filter(key="new").update(
        created_at=timezone.now() - timedelta(days=6))
    assert idempotency_purge_due() == 1
    assert idempotency_purge_due() == 0
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    # Within its retention a key still replays; past it the same key is a new request.
    again = services.points_award(user=worker, action="errand", idempotency_key="old")
    assert again["transaction_id"] != first["transaction_id"]
    assert ledger_breaches() == []
