"""The counter under real concurrency (PostgreSQL, threads with their own connections)."""

import pytest
from django.db import connection

from tests.factories import make_merchant, make_offer, make_user, make_worker
from warmstation.accounts.models import AuthLevel, Role
from warmstation.benefits import services
from warmstation.benefits.models import Redemption
from warmstation.points.models import LedgerTransaction
from warmstation.points.selectors import ledger_breaches, wallet_of
from warmstation.points.tests.factories import fund
from warmstation.points.tests.test_concurrency import run_concurrently

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency: PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_fifty_concurrent_redemptions_of_one_code_exactly_one_succeeds(tree, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    owner = make_user(Role.MERCHANT, tree["xl"])
    owner.auth_level = AuthLevel.PASSWORD
    merchant = make_merchant(tree["xl"], staff=owner)
    worker = make_worker([tree["sz"]])
    fund(worker, 100)
    code = services.redemption_code_issue(
        user=worker, offer=make_offer(merchant, kind="points", points=30), idempotency_key="c")

    results = run_concurrently(50, lambda i: services.redemption_redeem(
        actor=owner, merchant=merchant, idempotency_key=f"scan-{i}",
        code=code["digits"] if i % 2 else code["qr_payload"]))
    ok = [r for r in results if r[0] == "ok"]
    assert len(ok) == 1, results
    assert {r[1] for r in results if r[0] == "error"} == {"code_invalid"}
    assert Redemption.objects.get().status == "redeemed"
    assert LedgerTransaction.objects.filter(kind="spend").count() == 1
    assert wallet_of(worker)["balance"] == 70
    assert ledger_breaches() == []


def _redeem_in_child(path, owner_id, merchant_id, code, key, go):
    """A counter client in its own process (fork): waits for `go`, then redeems."""
    from django.db import connections

    connections.close_all()  # never share the parent's socket
    go.wait(30)
    from warmstation.accounts.models import User
    from warmstation.benefits.models import Merchant

    owner = User.objects.get(pk=owner_id)
    owner.auth_level = AuthLevel.PASSWORD
    merchant = Merchant.objects.get(pk=merchant_id)
    redeem = services.redemption_redeem if path == "sql" else services._redeem_orm
    if path == "sql":
        redeem(actor=owner, merchant=merchant, code=code, idempotency_key=key)
    else:
        redeem(owner, merchant, code, key, None)


def _backends(query_like, **conditions):
    where = " AND ".join(f"{k} = %s" for k in conditions)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else frozen for the transaction
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE query LIKE %s AND pid <> "
                       f"pg_backend_pid() {'AND ' + where if where else ''}",
                       [query_like, *conditions.values()])
        return [r[0] for r in cursor.fetchall()]


@pytest.mark.parametrize("path", ["sql", "orm"])
def test_a_client_killed_mid_redemption_leaves_all_or_nothing_and_a_ledger_that_verifies(
        tree, settings, path):
    """The client process is SIGKILLed while its redemption waits, half done, for the chain
    head (held here): the code claimed, the worker's row locked. Whatever the server then does
    with the orphaned transaction, it is whole or absent, the ledger verifies, and the retry
    with the same key redeems exactly once."""
    import multiprocessing
    import os
    import signal
    import time

    from django.db import connections, transaction

    from warmstation.points.selectors import ledger_verify

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    owner = make_user(Role.MERCHANT, tree["xl"])
    owner.auth_level = AuthLevel.PASSWORD
    merchant = make_merchant(tree["xl"], staff=owner)
    worker = make_worker([tree["sz"]])
    fund(worker, 100)
    code = services.redemption_code_issue(
        user=worker, offer=make_offer(merchant, kind="points", points=30), idempotency_key="c")
    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    go = ctx.Event()
    child = ctx.Process(target=_redeem_in_child, args=(path, owner.pk, merchant.pk,
                                                       code["digits"], "scan-1", go))
    child.start()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT seq FROM points_ledgerhead WHERE id = 1 FOR UPDATE")
        go.set()
        like = "%benefits_redeem%" if path == "sql" else "%points_ledgerhead%"
        for _ in range(200):  # until the child waits on the head's lock
            if _backends(like, wait_event_type="Lock"):
                break
            time.sleep(0.05)
        else:
            pytest.fail("the child never reached the chain head")
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        time.sleep(0.2)
    for _ in range(200):  # the orphaned backend finishes or aborts, then goes
        if not _backends(like):
            break
        time.sleep(0.05)
    redeemed = Redemption.objects.get().status == "redeemed"
    spends = LedgerTransaction.objects.filter(kind="spend").count()
    assert spends == (1 if redeemed else 0)
    assert wallet_of(worker)["balance"] == (70 if redeemed else 100)
    assert ledger_breaches() == []
    assert ledger_verify(full=True).breaches == []
    out = services.redemption_redeem(actor=owner, merchant=merchant, code=code["digits"],
                                     idempotency_key="scan-1")  # the counter's retry
    assert out["status"] == "redeemed"
    assert LedgerTransaction.objects.filter(kind="spend").count() == 1
    assert wallet_of(worker)["balance"] == 70
    assert ledger_breaches() == []
