"""End to end in Chromium on a 360 px phone: a worker books the family flat for three nights
and sees them taken on the calendar; a second worker asks for overlapping nights and is told
which ones are taken, then books from the check-out day on."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import page_as, screenshot
from tests.factories import build_area_tree, make_worker
from warmstation.accounts.models import AuthLevel
from warmstation.housing.models import Booking
from warmstation.housing.tests.factories import make_flat

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _d(n):
    return (timezone.localdate() + timedelta(days=n)).isoformat()


def test_a_worker_books_the_flat_and_the_next_one_sees_the_taken_nights(live_server, browser):
    tree = build_area_tree()
    flat = make_flat(tree["gc"], name="长阳镇小哥爱心公寓")
    first = make_worker([tree["ylj"]], mobile="13912340201")
    second = make_worker([tree["ylj"]], mobile="13912340202")
    first.auth_level = second.auth_level = AuthLevel.CODE

    page = page_as(browser, live_server, first, phone=True)
    page.goto(f"{live_server.url}/housing/")
    page.get_by_text("冰箱").first.wait_for()
    page.get_by_role("link", name="查看空房并预订").click()
    page.get_by_label("入住日期").fill(_d(3))
    page.get_by_label("退房日期").fill(_d(6))
    page.get_by_label("姓名 1").fill("王芳")
    page.locator("select[name=relation_0]").select_option("spouse")
    page.get_by_role("button", name=re.compile("提交预订")).click()
    page.get_by_text(re.compile("预订成功")).wait_for()
    assert Booking.objects.filter(worker=first, status="booked").count() == 1
    page.goto(f"{live_server.url}/housing/flats/{flat.pk}/")
    for n in (3, 4, 5):
        assert "taken" in page.locator(f"td[data-night='{_d(n)}']").get_attribute("class")
    assert "free" in page.locator(f"td[data-night='{_d(6)}']").get_attribute("class")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "housing-flat-360.png")

    other = page_as(browser, live_server, second, phone=True)
    other.goto(f"{live_server.url}/housing/flats/{flat.pk}/")
    other.get_by_label("入住日期").fill(_d(5))
    other.get_by_label("退房日期").fill(_d(8))
    other.get_by_label("姓名 1").fill("李母")
    other.locator("select[name=relation_0]").select_option("parent")
    other.get_by_role("button", name=re.compile("提交预订")).click()
    other.get_by_role("alert").filter(has_text=_d(5)).wait_for()
    assert other.locator(".taken-list").inner_text().count(_d(5)) == 1
    assert other.get_by_label("姓名 1").input_value() == "李母"  # what was typed is kept
    screenshot(other, "housing-refused-360.png")
    other.get_by_label("入住日期").fill(_d(6))  # from the first family's check-out day
    other.get_by_role("button", name=re.compile("提交预订")).click()
    other.get_by_text(re.compile("预订成功")).wait_for()
    assert Booking.objects.filter(status="booked").count() == 2
    page.context.close()
    other.context.close()
