"""Random sequences of earn / hold / redeem / release / expire / reverse keep every invariant
of the ledger (hypothesis state machine; each example rolls back)."""

import itertools
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tests.factories import make_user, make_worker
from warmstation.accounts.models import Role
from warmstation.areas.models import Area
from warmstation.core.errors import ApplicationError
from warmstation.points import services
from warmstation.points.models import Hold, LedgerTransaction, PointsAccount
from warmstation.points.selectors import ledger_breaches
from warmstation.points.tests.factories import make_rule

_keys = itertools.count()


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        area = Area.objects.get(code="SZ")
        self.workers = [make_worker([area]) for _ in range(2)]
        self.admin = make_user(Role.DISTRICT_ADMIN, Area.objects.get(code="110111"))
        make_rule("shift", 10, daily_cap=40)
        make_rule("report", 3, source="street_report")
        services.system_account_open(code="merchant:m", kind="settlement")
        self.expected = {w.pk: 0 for w in self.workers}

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    @rule(w=st.integers(0, 1), action=st.sampled_from(["shift", "report"]),
          replay=st.booleans())
    def earn(self, w, action, replay):
        key = f"e{next(_keys)}"
        try:
            out = services.points_award(user=self.workers[w], action=action, idempotency_key=key)
        except ApplicationError as exc:
            assert exc.code == "cap_reached"
            return
        self.expected[self.workers[w].pk] += out["points"]
        if replay:
            assert services.points_award(user=self.workers[w], action=action,
                                         idempotency_key=key) == out

    @rule(w=st.integers(0, 1), amount=st.integers(1, 60), past=st.booleans())
    def hold(self, w, amount, past):
        delta = timedelta(minutes=-1 if past else 5)
        try:
            with transaction.atomic():
                services.hold_place(user=self.workers[w], amount=amount, payee_code="merchant:m",
                                    expires_at=timezone.now() + delta)
        except services.InsufficientPoints:
            pass

    @precondition(lambda self: Hold.objects.filter(status="active").exists())
    @rule(data=st.data())
    def redeem(self, data):
        hold = data.draw(st.sampled_from(list(Hold.objects.filter(status="active")
                                              .select_related("account"))))
        with transaction.atomic():
            services.hold_post(hold_id=hold.pk)
        self.expected[hold.account.user_id] -= hold.amount

    @precondition(lambda self: Hold.objects.filter(status="active").exists())
    @rule(data=st.data())
    def release(self, data):
        hold = data.draw(st.sampled_from(list(Hold.objects.filter(status="active"))))
        assert services.hold_release(hold_id=hold.pk) is True
        assert services.hold_release(hold_id=hold.pk) is False

    @rule()
    def expire(self):
        services.hold_expire_due()

    @precondition(lambda self: LedgerTransaction.objects.filter(
        reversed_by=None).exclude(kind="reversal").exists())
    @rule(data=st.data())
    def reverse(self, data):
        tx = data.draw(st.sampled_from(list(LedgerTransaction.objects.filter(reversed_by=None)
                                            .exclude(kind="reversal"))))
        try:
            out = services.points_reverse(actor=self.admin, transaction_id=tx.pk, reason="test",
                                          idempotency_key=f"r{next(_keys)}")
        except services.InsufficientPoints:
            return
        self.expected[tx.user_id] += out["points"]

    @invariant()
    def books_balance(self):
        assert ledger_breaches() == []
        for w in self.workers:
            account = PointsAccount.objects.filter(user=w).first()
            assert (account.balance if account else 0) == self.expected[w.pk]


@pytest.mark.django_db
def test_random_sequences_keep_every_invariant(tree):
    machine = LedgerMachine
    machine.TestCase.settings = settings(max_examples=25, stateful_step_count=20, deadline=None,
                                         suppress_health_check=list(HealthCheck))
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(machine, settings=machine.TestCase.settings)
