"""End to end, in a real Chromium at 360 px: a worker signs in with an SMS code and sees their
area's service card."""

import re

import pytest

from tests.conftest import screenshot
from tests.factories import build_area_tree, make_worker
from warmstation.outreach.models import OutboxMessage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_worker_signs_in_with_code_and_sees_area_contacts(live_server, phone):
    tree = build_area_tree()
    make_worker([tree["ylj"]], mobile="13912340001")
    page = phone

    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name=re.compile("小哥登录")).click()
    page.get_by_label("手机号").fill("13912340001")
    page.get_by_role("button", name="获取验证码").click()
    page.get_by_text("验证码已发送").wait_for()

    body = OutboxMessage.objects.filter(recipient="13912340001").latest("created_at").body
    code = re.search(r"\d{6}", body).group(0)
    page.get_by_label("验证码").fill(code)
    page.get_by_role("button", name="登录").click()

    card = page.locator("article.service-card[data-area='YLJ']")
    card.wait_for()
    text = card.inner_text()
    # The community's own office, its street's hotline and police, nothing from 西潞.
    assert "伊林郡社区居委会" in text
    assert "拱辰小哥专属热线" in text and "010-69300001" in text
    assert "拱辰派出所" in text
    assert "西潞" not in text
    assert card.get_by_role("link", name="010-69300001").get_attribute("href") == "tel:010-69300001"
    # Nothing overflows the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "worker-home-360.png")
