"""End to end, in a real Chromium: a worker at 360 px snaps a photo where a problem is already
reported, the same-problem prompt shows it, "me too"; the command centre accepts on the desktop;
points land in both wallets. Then a report made offline is sent once the network is back, and
only once."""

import pytest
from django.conf import settings

from tests.conftest import DESK, PHONE, screenshot
from tests.factories import signed_in
from warmstation.points.models import LedgerTransaction
from warmstation.reports.models import Follower, Problem
from warmstation.reports.tests.factories import YLJ, file_report, jpeg, make_report_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _context(browser, live_server, user, *, phone: bool):
    client = signed_in(user, user.auth_level)
    extra = {"geolocation": {"latitude": YLJ[0] + 0.0002, "longitude": YLJ[1]},
             "permissions": ["geolocation"]} if phone else {}
    context = browser.new_context(locale="zh-CN", **(PHONE if phone else DESK), **extra)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                          "url": live_server.url}])
    return context


def _points(user) -> int:
    return sum(LedgerTransaction.objects.filter(user=user).values_list("points", flat=True))


def test_snap_same_problem_prompt_accept_points(live_server, browser, tree, tmp_path):
    w = make_report_world(tree)
    existing = file_report(w, "worker2")
    photo = tmp_path / "snap.jpg"
    photo.write_bytes(jpeg((1200, 900), color="brown"))

    phone_ctx = _context(browser, live_server, w["worker"], phone=True)
    page = phone_ctx.new_page()
    page.goto(f"{live_server.url}/reports/new/")
    page.get_by_test_id("photo-input").set_input_files(str(photo))
    page.locator("#photo-previews figcaption", has_text="✓").wait_for()
    page.locator("#locate").click()
    page.locator("#loc-status", has_text="已定位").wait_for()
    page.locator("#category").select_option("exposed_garbage")
    prompt = page.get_by_test_id("same-problem")
    prompt.wait_for()
    assert prompt.locator("img").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "reports-same-problem-360.png")
    page.get_by_test_id(f"same-{existing.pk}").click()
    page.get_by_test_id("status").wait_for()
    assert Problem.objects.count() == 1
    assert Follower.objects.get(problem=existing, user=w["worker"]).kind == "confirmer"

    desk_ctx = _context(browser, live_server, w["cc"], phone=False)
    desk = desk_ctx.new_page()
    desk.goto(f"{live_server.url}/reports/queue/")
    desk.locator(f"input[name=ids][value='{existing.pk}']").check()
    screenshot(desk, "reports-queue.png")
    desk.get_by_test_id("bulk-submit").click()
    desk.get_by_text("完成 1 条").wait_for()
    assert Problem.objects.get(pk=existing.pk).status == "accepted"
    assert _points(w["worker2"]) == 5 and _points(w["worker"]) == 2

    page.goto(f"{live_server.url}/reports/{existing.pk}/")
    assert "已立案" in page.get_by_test_id("status").inner_text()
    phone_ctx.close()
    desk_ctx.close()


def test_a_report_made_offline_is_sent_once_when_the_network_is_back(live_server, browser, tree,
                                                                     tmp_path):
    w = make_report_world(tree)
    photo = tmp_path / "snap.jpg"
    photo.write_bytes(jpeg((900, 1200), color="olive"))
    ctx = _context(browser, live_server, w["worker"], phone=True)
    page = ctx.new_page()
    page.goto(f"{live_server.url}/reports/new/")
    page.locator("#locate").click()
    page.locator("#loc-status", has_text="已定位").wait_for()
    page.locator("#category").select_option("piled_materials")
    ctx.set_offline(True)
    page.get_by_test_id("photo-input").set_input_files(str(photo))
    page.locator("#photo-previews figcaption").wait_for()
    page.wait_for_timeout(500)  # the shrunk copy for the queue is made in the background
    page.get_by_test_id("submit").click()
    page.get_by_text("网络不通，已保存在手机上").wait_for()
    queued = page.evaluate("JSON.parse(localStorage.getItem('ws.reports.queue'))")
    assert len(queued) == 1 and len(queued[0]["photos"]) == 1, str(queued)[:300]
    assert Problem.objects.count() == 0
    ctx.set_offline(False)
    # (polled from here: the page's CSP forbids the string-evaluating wait_for_function)
    for _ in range(150):
        if page.evaluate("JSON.parse(localStorage.getItem('ws.reports.queue') || '[]')"
                         ".length") == 0:
            break
        page.wait_for_timeout(100)
    assert Problem.objects.count() == 1
    # the page opened again resends nothing
    page.goto(f"{live_server.url}/reports/new/")
    page.wait_for_timeout(500)
    problem = Problem.objects.get()
    assert problem.photos.count() == 1 and problem.category.code == "piled_materials"
    ctx.close()
