"""Codes at the counter: issue, redeem once, points held then moved, expiry, and the nearby
search of partners."""

from datetime import time, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import make_merchant, make_offer, make_user, make_worker
from warmstation.accounts.models import AuthLevel, Role
from warmstation.benefits import services
from warmstation.benefits.models import Redemption
from warmstation.benefits.selectors import merchant_nearby, settlement_daily
from warmstation.core import geo
from warmstation.core.errors import ApplicationError
from warmstation.core.models import AuditEvent
from warmstation.points import services as points_services
from warmstation.points.models import LedgerTransaction, PointsAccount
from warmstation.points.selectors import ledger_breaches, wallet_of
from warmstation.points.tests.factories import fund


@pytest.fixture
def shop(tree):
    owner = make_user(Role.MERCHANT, tree["xl"])
    owner.auth_level = AuthLevel.PASSWORD
    merchant = make_merchant(tree["xl"], staff=owner)
    return merchant, owner


def test_a_meal_code_is_redeemed_once_and_recorded(tree, shop):
    merchant, owner = shop
    worker = make_worker([tree["sz"]])
    offer = make_offer(merchant)
    code = services.redemption_code_issue(user=worker, offer=offer, idempotency_key="c1")
    assert len(code["digits"]) == 6 and code["qr_payload"].startswith("WS37:")
    r = Redemption.objects.get(pk=code["redemption_id"])
    assert code["digits"] not in (r.digits_hash, r.token_hash)  # only hashes stored
    out = services.redemption_redeem(actor=owner, merchant=merchant, code=code["digits"],
                                     idempotency_key="v1")
    assert out["status"] == "redeemed" and out["price"] == "12.00"
    # The same request again replays; a new request with the same code is refused.
    assert services.redemption_redeem(actor=owner, merchant=merchant, code=code["digits"],
                                      idempotency_key="v1") == out
    with pytest.raises(ApplicationError) as exc:
        services.redemption_redeem(actor=owner, merchant=merchant, code=code["qr_payload"],
                                   idempotency_key="v2")
    assert exc.value.code == "code_used"
    day = timezone.localdate()
    s = settlement_daily(merchant=merchant, day=day)
    assert s["meals"] == 1 and s["discount_given"] == 8.0


def test_a_code_is_only_good_at_its_own_merchant(tree, shop):
    merchant, _owner = shop
    other_owner = make_user(Role.MERCHANT, tree["xl"])
    other = make_merchant(tree["xl"], staff=other_owner)
    code = services.redemption_code_issue(user=make_worker([tree["sz"]]),
                                          offer=make_offer(merchant), idempotency_key="c")
    with pytest.raises(ApplicationError):
        services.redemption_redeem(actor=other_owner, merchant=other, code=code["digits"],
                                   idempotency_key="x")


def test_a_points_code_holds_then_moves_the_points(tree, shop):
    merchant, owner = shop
    worker = make_worker([tree["sz"]])
    fund(worker, 100)
    offer = make_offer(merchant, kind="points", title="理发一次", points=40)
    code = services.redemption_code_issue(user=worker, offer=offer, idempotency_key="c1")
    assert wallet_of(worker)["available"] == 60 and wallet_of(worker)["balance"] == 100
    # A retried issue shows the same code again and holds nothing more.
    assert services.redemption_code_issue(user=worker, offer=offer,
                                          idempotency_key="c1")["digits"] == code["digits"]
    assert wallet_of(worker)["held"] == 40
    services.redemption_redeem(actor=owner, merchant=merchant, code=code["qr_payload"],
                               idempotency_key="v1")
    assert wallet_of(worker) | {"account": None} == {"account": None, "balance": 60, "held": 0,
                                                     "available": 60}
    assert PointsAccount.objects.get(code=merchant.settlement_code).balance == 40
    assert ledger_breaches() == []


def test_not_enough_points_means_no_code(tree, shop):
    merchant, _ = shop
    worker = make_worker([tree["sz"]])
    fund(worker, 10)
    with pytest.raises(ApplicationError) as exc:
        services.redemption_code_issue(user=worker, offer=make_offer(merchant, kind="points"),
                                       idempotency_key="c")
    assert exc.value.code == "insufficient_points"
    assert not Redemption.objects.exists()


def test_an_expired_code_cannot_be_redeemed_and_its_points_come_back(tree, shop):
    merchant, owner = shop
    worker = make_worker([tree["sz"]])
    fund(worker, 50)
    code = services.redemption_code_issue(user=worker, idempotency_key="c",
                                          offer=make_offer(merchant, kind="points", points=30))
    Redemption.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ApplicationError) as exc:
        services.redemption_redeem(actor=owner, merchant=merchant, code=code["digits"],
                                   idempotency_key="v")
    assert exc.value.code == "code_expired"
    call_command("run_periodic", only=["redemptions"], stdout=StringIO())
    assert services.redemption_expire_due() == 0
    assert Redemption.objects.get().status == "expired"
    assert wallet_of(worker)["available"] == 50
    assert ledger_breaches() == []


def test_a_new_code_for_the_same_offer_cancels_the_old_one(tree, shop):
    merchant, _ = shop
    worker = make_worker([tree["sz"]])
    fund(worker, 50)
    offer = make_offer(merchant, kind="points", points=30)
    services.redemption_code_issue(user=worker, offer=offer, idempotency_key="a")
    services.redemption_code_issue(user=worker, offer=offer, idempotency_key="b")
    assert sorted(Redemption.objects.values_list("status", flat=True)) == ["cancelled", "issued"]
    assert wallet_of(worker)["held"] == 30


def test_eligibility_and_serving_hours(tree, shop):
    merchant, _ = shop
    worker = make_worker([tree["sz"]])  # a courier
    with pytest.raises(ApplicationError) as exc:
        services.redemption_code_issue(user=worker, idempotency_key="a",
                                       offer=make_offer(merchant, eligibility="ride_hailing"))
    assert exc.value.code == "not_eligible"
    now = timezone.localtime().time()
    closed = make_offer(merchant, serve_from=time((now.hour + 2) % 24),
                        serve_until=time((now.hour + 3) % 24))
    with pytest.raises(ApplicationError) as exc:
        services.redemption_code_issue(user=worker, offer=closed, idempotency_key="b")
    assert exc.value.code == "not_served_now"


def test_wrong_codes_are_rate_limited(tree, shop):
    merchant, owner = shop
    for i in range(services.VERIFY_FAILURES_PER_10_MIN):
        with pytest.raises(ApplicationError):
            services.redemption_redeem(actor=owner, merchant=merchant, code=f"{i:06d}",
                                       idempotency_key=f"k{i}")
    with pytest.raises(ApplicationError) as exc:
        services.redemption_redeem(actor=owner, merchant=merchant, code="123456",
                                   idempotency_key="last")
    assert exc.value.status == 429


def test_nearby_is_exact_nearest_first_and_matches_brute_force(tree):
    import random

    rng = random.Random(4)
    centre = (39.7207, 116.1101)
    merchants = [make_merchant(tree["xl"], centre[0] + rng.uniform(-0.05, 0.05),
                               centre[1] + rng.uniform(-0.05, 0.05)) for _ in range(25)]
    make_offer(merchants[0])
    got = merchant_nearby(lat=centre[0], lng=centre[1], radius_m=3000, at=timezone.now(),
                          limit=100)
    expected = sorted((geo.distance_m(*centre, m.lat, m.lng), m.pk) for m in merchants
                      if geo.distance_m(*centre, m.lat, m.lng) <= 3000)
    assert [g["id"] for g in got] == [pk for _d, pk in expected]
    assert all(g["kind"] == "meal" and g["open_now"] for g in got)
    assert set(got[0]) >= {"id", "kind", "name", "merchant_kind", "address", "lat", "lng",
                           "distance_m", "open_now", "phone", "offers"}


def test_nearby_respects_open_now(tree):
    now = timezone.localtime()
    make_merchant(tree["xl"], opens=time((now.hour + 2) % 24), closes=time((now.hour + 3) % 24))
    assert merchant_nearby(lat=39.7207, lng=116.1101, radius_m=500, open_now=True,
                           at=timezone.now(), limit=5) == []
    assert len(merchant_nearby(lat=39.7207, lng=116.1101, radius_m=500, open_now=False,
                               at=timezone.now(), limit=5)) == 1




@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL function")
def test_on_postgresql_a_points_redemption_is_one_call_of_the_database_function(tree, shop):
    merchant, owner = shop
    worker = make_worker([tree["sz"]])
    fund(worker, 50)
    code = services.redemption_code_issue(
        user=worker, offer=make_offer(merchant, kind="points", points=20), idempotency_key="c")
    with CaptureQueriesContext(connection) as ctx:
        out = services.redemption_redeem(actor=owner, merchant=merchant, code=code["digits"],
                                         idempotency_key="v")
    calls = [q["sql"] for q in ctx.captured_queries if "benefits_redeem" in q["sql"]]
    # One lookup (is it a live code of this shop, served now? else the Python path words the
    # refusal), then the call, in a savepoint here.
    assert len(calls) == 1 and len(ctx.captured_queries) <= 4
    assert out["points"] == 20 and out["transaction_id"]
    assert services.redemption_redeem(actor=owner, merchant=merchant, code=code["digits"],
                                      idempotency_key="v") == out
    assert wallet_of(worker)["balance"] == 30
    tx = LedgerTransaction.objects.get(pk=out["transaction_id"])
    assert tx.source_ref == f"benefits.redemption:{out['redemption_id']}" and tx.actor == owner
    assert AuditEvent.objects.filter(action="redemption.redeem",
                                     object_id=str(out["redemption_id"])).exists()
    assert ledger_breaches() == []  # the hash the function wrote recomputes in Python


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the inline statements: SQLite")
def test_on_sqlite_a_points_redemption_is_the_functions_statements_in_one_transaction(
        tree, shop):
    # Given a points code, when the counter redeems it, then the statements are the database
    # function's (no ORM query after the lookup), the ledger verifies, and a retry replays.
    merchant, owner = shop
    worker = make_worker([tree["sz"]])
    fund(worker, 50)
    code = services.redemption_code_issue(
        user=worker, offer=make_offer(merchant, kind="points", points=20), idempotency_key="c")
    with CaptureQueriesContext(connection) as ctx:
        out = services.redemption_redeem(actor=owner, merchant=merchant, code=code["digits"],
                                         idempotency_key="v")
    sqls = [q["sql"] for q in ctx.captured_queries
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    claim = next(i for i, sql in enumerate(sqls) if "ON CONFLICT" in sql)
    # The lookup, then the function's 16 statements (the ORM path sent 20 and more).
    assert claim == 1 and len(sqls) == 17
    assert not any(f'"{app}_' in sql for sql in sqls[1:] for app in ("benefits", "points", "core"))
    assert out["points"] == 20 and out["transaction_id"] and out["price"] is None
    assert services.redemption_redeem(actor=owner, merchant=merchant, code=code["digits"],
                                      idempotency_key="v") == out
    assert wallet_of(worker)["balance"] == 30
    tx = LedgerTransaction.objects.get(pk=out["transaction_id"])
    assert tx.source_ref == f"benefits.redemption:{out['redemption_id']}" and tx.actor == owner
    assert Redemption.objects.get(pk=out["redemption_id"]).hold.status == "posted"
    assert AuditEvent.objects.filter(action="redemption.redeem",
                                     object_id=str(out["redemption_id"])).exists()
    assert ledger_breaches() == []


def test_a_hold_gone_inactive_is_refused_and_remembered_writing_nothing_else(tree, shop):
    """The function hands this case to the Python path (on PostgreSQL), which refuses it as
    before: the code stays issued, no points move, and the refusal replays."""
    merchant, owner = shop
    worker = make_worker([tree["sz"]])
    fund(worker, 50)
    code = services.redemption_code_issue(
        user=worker, offer=make_offer(merchant, kind="points", points=20), idempotency_key="c")
    hold = Redemption.objects.get(pk=code["redemption_id"]).hold
    points_services.hold_release(hold_id=hold.pk)  # released behind the code's back
    for _ in range(2):
        with pytest.raises(ApplicationError) as exc:
            services.redemption_redeem(actor=owner, merchant=merchant, code=code["digits"],
                                       idempotency_key="v")
        assert exc.value.code == "hold_inactive"
    assert Redemption.objects.get(pk=code["redemption_id"]).status == "issued"
    assert not LedgerTransaction.objects.filter(kind="spend").exists()
    assert wallet_of(worker)["balance"] == 50 and ledger_breaches() == []
