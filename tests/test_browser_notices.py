"""End to end, in a real Chromium: an area admin composes a notice to a group on the desk page,
and a member reads it on a 360 px phone — the launcher's 通知 tile shows one unread, the inbox
lists it, opening it is the read receipt the admin then sees on the notice's status page."""

import re

import pytest

from tests.conftest import page_as, screenshot
from tests.factories import as_level, build_area_tree, make_user, make_worker
from warmstation.accounts.models import AuthLevel, Role
from warmstation.outreach import services
from warmstation.outreach.models import Notice, NoticeReceipt

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_composes_a_notice_and_a_worker_reads_it(live_server, browser):
    tree = build_area_tree()
    admin = as_level(make_user(Role.AREA_ADMIN, tree["gc"], totp=True), AuthLevel.MFA)
    worker = as_level(make_worker([tree["ylj"]]), AuthLevel.CODE)
    group = services.group_create(actor=admin, area=tree["ylj"], name="伊林郡小哥群")
    services.member_add(actor=admin, group=group, user=worker)

    desk = page_as(browser, live_server, admin)
    desk.goto(f"{live_server.url}/notices/desk/")
    desk.get_by_role("link", name="写通知").click()
    desk.get_by_label("类型").select_option("service")
    desk.get_by_label("发送对象").select_option("group")
    desk.get_by_label("群组（发给一个群组时）").select_option(str(group.pk))
    desk.get_by_label("标题").fill("今晚驿站供应热姜茶")
    desk.get_by_label("内容").fill("伊林郡暖心驿站今晚 18:00–22:00 供应热姜茶，欢迎歇脚。")
    desk.get_by_role("button", name="发布").click()
    desk.get_by_text("通知已发布").wait_for()
    notice = Notice.objects.get()
    assert notice.status == Notice.Status.PUBLISHED and notice.recipient_count == 1

    phone = page_as(browser, live_server, worker, phone=True)
    phone.goto(f"{live_server.url}/")
    tile = phone.locator("a.task-notices-inbox")
    assert re.search(r"通知\s*待办\s*1", tile.inner_text())
    tile.click()
    phone.get_by_role("link", name="今晚驿站供应热姜茶").click()
    phone.get_by_text("供应热姜茶，欢迎歇脚").wait_for()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(phone, "worker-notice-360.png")
    assert NoticeReceipt.objects.get(notice=notice, user=worker).read_at is not None

    desk.goto(f"{live_server.url}/notices/desk/{notice.pk}/")
    assert desk.locator("[data-read]").get_attribute("data-read") == "1"
    screenshot(desk, "admin-notice-status.png")
