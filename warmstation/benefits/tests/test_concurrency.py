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
