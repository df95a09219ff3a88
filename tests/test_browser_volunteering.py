"""End to end in a real Chromium: a worker on a 360 px phone signs up for a shift, scans the
place's QR code to check in and out; the organiser confirms at the desk; the points arrive."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tests.conftest import PHONE, page_as, screenshot
from tests.factories import as_level, build_area_tree, make_user, make_worker, signed_in
from warmstation.accounts.models import AuthLevel, Role
from warmstation.points.models import LedgerTransaction
from warmstation.points.tests.factories import make_rule
from warmstation.volunteering.models import Shift, Signup
from warmstation.volunteering.tests.factories import PLACE, make_shift, make_task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _phone_at_the_place(browser, live_server, user):
    """A 360 px phone signed in as `user`, whose position is the task's place."""
    client = signed_in(user, user.auth_level)
    context = browser.new_context(locale="zh-CN", geolocation={"latitude": PLACE[0],
                                                               "longitude": PLACE[1]},
                                  permissions=["geolocation"], **PHONE)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                          "url": live_server.url}])
    return context.new_page()


def test_sign_up_check_in_check_out_confirm_points(live_server, browser):
    tree = build_area_tree()
    make_rule("volunteer_shift", 20, daily_cap=40)
    organiser = as_level(make_user(Role.ORGANISER, tree["gc"]), AuthLevel.PASSWORD)
    worker = as_level(make_worker([tree["ylj"]]), AuthLevel.CODE)
    task = make_task(tree["ylj"], organiser=organiser, title="社区检查岗值守")
    shift = make_shift(task, starts_at=timezone.now() + timedelta(minutes=40), hours=3,
                       capacity=2)

    page = _phone_at_the_place(browser, live_server, worker)
    # From the worker home's launcher: tile, task, sign up — three taps.
    page.goto(f"{live_server.url}/")
    page.locator("a.task-volunteering-list").click()
    page.get_by_role("link", name="社区检查岗值守").click()
    page.get_by_role("button", name="报名").click()
    page.get_by_text("报名成功").wait_for()
    page.goto(f"{live_server.url}/")
    assert page.locator("a.task-volunteering-list .badge").inner_text().endswith("1")
    page.go_back()
    screenshot(page, "volunteer-task-360.png")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # Time passes: the shift started 50 minutes ago (the worker signed up before it).
    now = timezone.now()
    Shift.objects.filter(pk=shift.pk).update(starts_at=now - timedelta(minutes=50),
                                             ends_at=now + timedelta(hours=2))
    # The worker scans the QR code posted at the place: it opens the check-in page.
    page.goto(f"{live_server.url}/volunteer/check/{task.checkin_token}/")
    page.get_by_role("button", name="确认签到").click()
    page.get_by_text("签到成功").wait_for()
    screenshot(page, "volunteer-check-in-360.png")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    signup = Signup.objects.get(worker=worker)
    assert signup.check_in_method == "qr"
    # ...and served 45 minutes before scanning out.
    Signup.objects.filter(pk=signup.pk).update(checked_in_at=now - timedelta(minutes=45))
    page.goto(f"{live_server.url}/volunteer/check/{task.checkin_token}/")
    page.get_by_role("button", name="确认签退").click()
    page.get_by_text("签退成功").wait_for()
    assert "45 分钟" in page.inner_text("main")

    desk = page_as(browser, live_server, organiser)
    desk.goto(f"{live_server.url}/volunteer/organise/shifts/{shift.pk}/")
    row = desk.locator(f"tr[data-signup='{signup.pk}']")
    row.get_by_role("button", name="确认工时").click()
    desk.get_by_text("工时已确认").wait_for()
    screenshot(desk, "volunteer-roster-desk.png")

    assert LedgerTransaction.objects.filter(user=worker, action="volunteer_shift",
                                            points=20).count() == 1
    page.goto(f"{live_server.url}/volunteer/mine/")
    text = page.inner_text("main")
    assert "已确认" in text and "+20" in text and re.search(r"积分\s*20", text)
    screenshot(page, "volunteer-mine-360.png")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
