"""The counter in a real Chromium at desk size, one test per outcome: each answer — redeemed,
wrong, used, expired, another shop's, outside serving hours — appears at once, large, in colour
and words, replacing the previous result; a redemption updates today's settlement in place."""

import re
from datetime import time, timedelta

import pytest
from django.utils import timezone

from tests.conftest import page_as, screenshot
from tests.factories import build_area_tree, make_merchant, make_offer, make_user, make_worker
from warmstation.accounts.models import AuthLevel, Role
from warmstation.benefits import services
from warmstation.benefits.models import Offer, Redemption

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
GREEN, RED = "rgb(35, 112, 50)", "rgb(201, 42, 42)"  # --ok and --bad borders


def _world():
    tree = build_area_tree()
    owner = make_user(Role.MERCHANT, tree["xl"], mobile="13912340301")
    owner.auth_level = AuthLevel.PASSWORD
    merchant = make_merchant(tree["xl"], name="西潞爱心餐馆", staff=owner)
    worker = make_worker([tree["sz"]])
    offer = make_offer(merchant, title="爱心套餐", price="15.00", normal_price="20.00")
    code = services.redemption_code_issue(user=worker, offer=offer, idempotency_key="c")
    return tree, owner, merchant, worker, offer, code


def _type(desk, code: str):
    desk.get_by_label(re.compile("核销码")).fill(code)
    desk.get_by_role("button", name="核销").click()


def _outcome(desk, kind: str):
    box = desk.locator(f"#outcome[data-outcome='{kind}']")
    box.wait_for(timeout=10_000)
    assert desk.locator("#outcome").count() == 1  # one answer, never the last one's too
    return box


def _refused(desk, kind: str, words: str):
    box = _outcome(desk, kind)
    assert re.search(words, box.inner_text()), box.inner_text()
    assert "不能核销" in box.inner_text()
    assert box.evaluate("e => getComputedStyle(e).borderTopColor") == RED
    assert box.evaluate("e => parseFloat(getComputedStyle(e.querySelector('.outcome-word')).fontSize)") >= 24


@pytest.fixture
def counter(live_server, browser):
    tree, owner, merchant, worker, offer, code = _world()
    desk = page_as(browser, live_server, owner)
    desk.goto(f"{live_server.url}/merchant/{merchant.pk}/")
    yield desk, tree, merchant, worker, offer, code
    desk.context.close()


def test_redeemed_is_green_and_the_settlement_follows(counter):
    desk, _tree, _merchant, _worker, _offer, code = counter
    assert "爱心套餐 0 份，收款 ¥0.00，让利 ¥0.00" in desk.locator("#settlement").inner_text()
    _type(desk, code["digits"])
    box = _outcome(desk, "redeemed")
    assert "核销成功" in box.inner_text() and "¥15.00" in box.inner_text()
    assert box.evaluate("e => getComputedStyle(e).borderTopColor") == GREEN
    assert "爱心套餐 1 份，收款 ¥15.00，让利 ¥5.00" in desk.locator("#settlement").inner_text()
    assert desk.get_by_label(re.compile("核销码")).input_value() == ""  # ready for the next
    screenshot(desk, "counter-redeemed.png")


def test_a_wrong_code_replaces_the_previous_green(counter):
    desk, _tree, _merchant, _worker, _offer, code = counter
    _type(desk, code["digits"])
    _outcome(desk, "redeemed")
    _type(desk, "000000")
    _refused(desk, "code_invalid", "核销码不对")
    assert desk.locator("[data-outcome='redeemed']").count() == 0
    screenshot(desk, "counter-wrong.png")


def test_a_used_code_says_when_it_was_used(counter):
    desk, _tree, _merchant, _worker, _offer, code = counter
    _type(desk, code["digits"])
    _outcome(desk, "redeemed")
    _type(desk, code["digits"])
    _refused(desk, "code_used", r"已经用过（\d\d-\d\d \d\d:\d\d 核销）")


def test_an_expired_code(counter):
    desk, _tree, _merchant, _worker, _offer, code = counter
    Redemption.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    _type(desk, code["digits"])
    _refused(desk, "code_expired", "已过期")


def test_another_shop_s_code(counter):
    desk, tree, _merchant, worker, _offer, _code = counter
    elsewhere = make_merchant(tree["xl"], name="别家餐馆")
    theirs = services.redemption_code_issue(user=worker, offer=make_offer(elsewhere),
                                            idempotency_key="other")
    _type(desk, theirs["digits"])
    _refused(desk, "code_other_merchant", "其他商户")


def test_outside_serving_hours(counter):
    desk, _tree, _merchant, _worker, offer, code = counter
    hour = (timezone.localtime().hour + 3) % 24
    Offer.objects.filter(pk=offer.pk).update(serve_from=time(hour),
                                             serve_until=time((hour + 1) % 24))
    _type(desk, code["digits"])
    _refused(desk, "not_served_now", f"不在供应时间：该套餐 {hour:02d}:00–{(hour + 1) % 24:02d}:00 供应")
    screenshot(desk, "counter-not-served.png")
