"""End to end in two real Chromium windows: a worker shows a points code on their phone, the
merchant types it at the counter, and the worker's screen turns to 已核销."""

import re
import time

import pytest

from tests.conftest import page_as, screenshot
from tests.factories import (
    build_area_tree,
    make_merchant,
    make_offer,
    make_user,
    make_worker,
)
from warmstation.accounts.models import AuthLevel, Role
from warmstation.points.selectors import wallet_of
from warmstation.points.tests.factories import fund

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_worker_shows_a_code_and_the_merchant_redeems_it(live_server, browser):
    tree = build_area_tree()
    tree["sz"].center_lat, tree["sz"].center_lng = 39.7210, 116.1100
    tree["sz"].save()
    worker = make_worker([tree["sz"]], mobile="13912340101")
    owner = make_user(Role.MERCHANT, tree["xl"], mobile="13912340102")
    merchant = make_merchant(tree["xl"], 39.7207, 116.1101, name="燕山公共浴池", kind="bathhouse",
                             staff=owner)
    make_offer(merchant, kind="points", title="洗浴一次", points=30)
    fund(worker, 100)

    worker.auth_level, owner.auth_level = AuthLevel.CODE, AuthLevel.PASSWORD
    page = page_as(browser, live_server, worker, phone=True)
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name=re.compile("积分钱包")).click()
    page.get_by_role("button", name="出示核销码").click()
    digits = page.get_by_test_id("digits").inner_text().replace(" ", "")
    assert re.fullmatch(r"\d{6}", digits)
    assert page.locator(".qr svg").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "worker-code-360.png")

    desk = page_as(browser, live_server, owner)
    desk.goto(f"{live_server.url}/merchant/")
    desk.get_by_label(re.compile("核销码")).fill(digits)
    desk.get_by_role("button", name="核销").click()
    desk.get_by_text(re.compile("核销成功")).wait_for()

    page.get_by_text("已核销，谢谢！").wait_for(timeout=10_000)
    for _ in range(20):
        if wallet_of(worker)["balance"] == 70:
            break
        time.sleep(0.1)
    assert wallet_of(worker) | {"account": None} == {"account": None, "balance": 70, "held": 0,
                                                     "available": 70}
    page.context.close()
    desk.context.close()
