"""Real concurrency on PostgreSQL: threads, each with its own connection."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from tests.factories import make_worker
from warmstation.core.errors import ApplicationError
from warmstation.points import services
from warmstation.points.models import LedgerTransaction, PointsAccount
from warmstation.points.selectors import ledger_breaches, wallet_of
from warmstation.points.tests.factories import fund, make_rule

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency: PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def run_concurrently(n, fn):
    barrier = threading.Barrier(n)
    results = [None] * n

    def target(i):
        try:
            barrier.wait()
            results[i] = ("ok", fn(i))
        except ApplicationError as exc:
            results[i] = ("error", exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_ten_concurrent_30_point_spends_on_100_at_most_three_succeed(tree):
    worker = make_worker([tree["sz"]])
    fund(worker, 100)
    services.system_account_open(code="merchant:1", kind="settlement")

    def spend(i):
        with transaction.atomic():
            hold = services.hold_place(user=worker, amount=30, payee_code="merchant:1",
                                       expires_at=timezone.now() + timedelta(minutes=5))
            return services.hold_post(hold_id=hold.pk).pk

    results = run_concurrently(10, spend)
    ok = [r for r in results if r[0] == "ok"]
    assert len(ok) == 3
    assert {r[1] for r in results if r[0] == "error"} == {"insufficient_points"}
    assert wallet_of(worker)["balance"] == 10
    assert PointsAccount.objects.get(user=worker).balance >= 0
    assert ledger_breaches() == []


def test_the_same_key_ten_times_at_once_makes_one_transaction(tree):
    worker = make_worker([tree["sz"]])
    make_rule("shift", 10)

    results = run_concurrently(10, lambda i: services.points_award(
        user=worker, action="shift", idempotency_key="once"))
    assert all(r[0] == "ok" for r in results)
    assert len({repr(r[1]) for r in results}) == 1  # identical responses
    assert LedgerTransaction.objects.count() == 1
    assert wallet_of(worker)["balance"] == 10
    assert ledger_breaches() == []
