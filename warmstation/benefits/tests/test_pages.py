"""Pages: the wallet, the code screen, the counter, the partners list, each behind its role."""

import re

import pytest
from django.test import Client

from tests.factories import make_merchant, make_offer, make_user, make_worker, signed_in
from warmstation.accounts.models import AuthLevel, Role
from warmstation.benefits.models import Redemption
from warmstation.points.tests.factories import fund


@pytest.fixture
def world(tree):
    owner = make_user(Role.MERCHANT, tree["xl"])
    merchant = make_merchant(tree["xl"], 39.7207, 116.1101, name="西潞爱心餐馆", staff=owner)
    worker = make_worker([tree["sz"]])
    fund(worker, 50)
    return {"owner": owner, "merchant": merchant, "worker": worker,
            "offer": make_offer(merchant, title="爱心盒饭")}


def test_worker_wallet_code_and_counter(world, tree):
    tree["sz"].center_lat, tree["sz"].center_lng = 39.7210, 116.1100
    tree["sz"].save()
    worker = signed_in(world["worker"], AuthLevel.CODE)
    page = worker.get("/wallet/").content.decode()
    assert "西潞爱心餐馆" in page and "爱心盒饭" in page and ">50<" in page
    r = worker.post(f"/wallet/offers/{world['offer'].pk}/code/", {"key": "k"})
    assert r.status_code == 302
    screen = worker.get(r["Location"]).content.decode()
    digits = re.search(r'data-testid="digits">(\d{3}) (\d{3})<', screen)
    assert digits and "<svg" in screen
    counter = signed_in(world["owner"], AuthLevel.PASSWORD)
    assert counter.get("/merchant/").status_code == 302
    done = counter.post(f"/merchant/{world['merchant'].pk}/",
                        {"code": "".join(digits.groups()), "key": "v"}).content.decode()
    assert "核销成功" in done
    assert Redemption.objects.get().status == "redeemed"
    assert "已核销" in worker.get(r["Location"], HTTP_HX_REQUEST="true").content.decode()


@pytest.mark.parametrize("path, who, status", [
    ("/wallet/", "anonymous", 302), ("/merchant/", "worker", 403),
    ("/partners/", "owner", 403), ("/partners/", "xl_admin", 200),
])
def test_pages_are_behind_their_roles(world, tree, path, who, status):
    people = {"worker": (world["worker"], AuthLevel.CODE),
              "owner": (world["owner"], AuthLevel.PASSWORD),
              "xl_admin": (make_user(Role.AREA_ADMIN, tree["xl"]), AuthLevel.MFA)}
    client = Client() if who == "anonymous" else signed_in(*people[who])
    assert client.get(path).status_code == status


def test_another_merchants_counter_looks_missing(world, tree):
    other = make_user(Role.MERCHANT, tree["xl"])
    make_merchant(tree["xl"], staff=other)
    client = signed_in(other, AuthLevel.PASSWORD)
    assert client.get(f"/merchant/{world['merchant'].pk}/").status_code == 404
    assert client.get(f"/merchant/offers/{world['offer'].pk}/").status_code == 404


def test_the_wallet_s_distance_unit_follows_the_language(world, tree):
    tree["sz"].center_lat, tree["sz"].center_lng = 39.7210, 116.1100
    tree["sz"].save()
    worker = signed_in(world["worker"], AuthLevel.CODE)
    assert re.search(r"\d+ 米", worker.get("/wallet/").content.decode())
    english = worker.get("/wallet/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert re.search(r"\d+ m · ", english) and not re.search(r"\d+ 米", english)
