"""The API: anonymous, wrong role, wrong merchant or area, allowed."""

import pytest
from django.test import Client

from tests.factories import make_merchant, make_offer, make_user, make_worker, signed_in
from warmstation.accounts.models import AuthLevel, Role
from warmstation.benefits.models import Redemption
from warmstation.points.tests.factories import fund, make_rule


@pytest.fixture
def world(tree):
    owner = make_user(Role.MERCHANT, tree["xl"])
    other_owner = make_user(Role.MERCHANT, tree["xl"])
    merchant = make_merchant(tree["xl"], staff=owner)
    make_merchant(tree["xl"], staff=other_owner)
    worker = make_worker([tree["sz"]])
    fund(worker, 100)
    offer = make_offer(merchant, kind="points", points=30)
    return {"owner": owner, "other_owner": other_owner, "merchant": merchant, "worker": worker,
            "offer": offer, "gc_admin": make_user(Role.AREA_ADMIN, tree["gc"]),
            "xl_admin": make_user(Role.AREA_ADMIN, tree["xl"]),
            "district": make_user(Role.DISTRICT_ADMIN, tree["district"])}


def test_worker_gets_a_code_and_the_counter_redeems_it(world):
    worker = signed_in(world["worker"], AuthLevel.CODE)
    r = worker.post(f"/api/v1/benefits/offers/{world['offer'].pk}/codes",
                    HTTP_IDEMPOTENCY_KEY="k1")
    assert r.status_code == 201, r.content
    code = r.json()
    assert worker.get("/api/v1/points/me").json() == {"balance": 100, "held": 30, "available": 70}
    body = {"merchant_id": world["merchant"].pk, "code": code["digits"]}

    assert Client().post("/api/v1/benefits/redemptions", body, content_type="application/json",
                         HTTP_IDEMPOTENCY_KEY="v").status_code == 401
    assert worker.post("/api/v1/benefits/redemptions", body, content_type="application/json",
                       HTTP_IDEMPOTENCY_KEY="v").status_code == 403
    other = signed_in(world["other_owner"], AuthLevel.PASSWORD)
    assert other.post("/api/v1/benefits/redemptions", body, content_type="application/json",
                      HTTP_IDEMPOTENCY_KEY="v").status_code == 404  # not their counter
    owner = signed_in(world["owner"], AuthLevel.PASSWORD)
    first = owner.post("/api/v1/benefits/redemptions", body, content_type="application/json",
                       HTTP_IDEMPOTENCY_KEY="v")
    again = owner.post("/api/v1/benefits/redemptions", body, content_type="application/json",
                       HTTP_IDEMPOTENCY_KEY="v")
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    reused = owner.post("/api/v1/benefits/redemptions", {**body, "code": "000000"},
                        content_type="application/json", HTTP_IDEMPOTENCY_KEY="v")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert worker.get("/api/v1/points/me").json()["balance"] == 70
    # Each merchant sees only its own redemptions.
    assert len(owner.get("/api/v1/benefits/redemptions").json()["items"]) == 1
    assert other.get("/api/v1/benefits/redemptions").json()["items"] == []
    assert Redemption.objects.get().status == "redeemed"


def test_a_missing_idempotency_key_is_a_422(world):
    worker = signed_in(world["worker"], AuthLevel.CODE)
    r = worker.post(f"/api/v1/benefits/offers/{world['offer'].pk}/codes")
    assert r.status_code == 422


@pytest.mark.parametrize("who, status", [
    ("anonymous", 401), ("worker", 403), ("xl_admin", 403), ("district", 200),
])
def test_awards_are_for_the_district(world, who, status):
    make_rule("shift", 10)
    client = Client() if who == "anonymous" else signed_in(world[who], AuthLevel.MFA if who != "worker" else AuthLevel.CODE)
    r = client.post("/api/v1/points/awards",
                    {"worker_id": world["worker"].worker_profile.pk, "action": "shift"},
                    content_type="application/json", HTTP_IDEMPOTENCY_KEY="a1")
    assert r.status_code == status, r.content
    if status == 200:
        assert r.json()["balance"] == 110


@pytest.mark.parametrize("who, status", [
    ("worker", 403), ("other_owner", 404), ("gc_admin", 404), ("owner", 200), ("xl_admin", 200),
])
def test_editing_an_offer(world, who, status):
    level = {"worker": AuthLevel.CODE, "owner": AuthLevel.PASSWORD,
             "other_owner": AuthLevel.PASSWORD}.get(who, AuthLevel.MFA)
    r = signed_in(world[who], level).patch(f"/api/v1/benefits/offers/{world['offer'].pk}",
                                           {"points": 25}, content_type="application/json")
    assert r.status_code == status, r.content


def test_the_statement_explains_the_balance(world):
    worker = signed_in(world["worker"], AuthLevel.CODE)
    items = worker.get("/api/v1/points/me/entries").json()["items"]
    assert [(e["amount"], e["balance_after"]) for e in items] == [(100, 100)]
