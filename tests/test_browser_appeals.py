"""End to end, in a real Chromium: a worker raises a need on a 360 px phone (a policy answer is
suggested while typing), the district dispatches it, the department accepts and answers it, and
the worker rates it — all through the pages."""

import re

import pytest

from tests.conftest import page_as, screenshot
from tests.factories import build_area_tree, make_appeal_setup
from warmstation.appeals.models import Appeal, PolicyAnswer
from warmstation.appeals.policy import policy_answer_save

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_need_from_worker_to_department_answer_to_rating(live_server, browser):
    tree = build_area_tree()
    s = make_appeal_setup(tree)
    policy_answer_save(actor=None, entry=PolicyAnswer(), topic="social_insurance",
                       question="社保断缴了怎么补缴？", answer="企业欠缴的可向社保稽核部门投诉要求补缴。")

    # The worker raises a need on the phone; the policy Q&A answers while they type.
    phone = page_as(browser, live_server, s["worker"], phone=True)
    phone.goto(f"{live_server.url}/appeals/")
    phone.get_by_role("link", name=re.compile("提诉求")).first.click()
    phone.get_by_label("类别").select_option("social_insurance")
    phone.get_by_label("标题").fill("社保断缴怎么补")
    phone.get_by_test_id("suggestions").wait_for()
    assert "社保断缴了怎么补缴" in phone.get_by_test_id("suggestions").inner_text()
    phone.get_by_label("具体情况").fill("换了站点以后社保断缴三个月。")
    phone.get_by_role("button", name="提交").click()
    phone.get_by_test_id("status").wait_for()
    assert phone.get_by_test_id("status").inner_text() == "已受理"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    appeal = Appeal.objects.get()

    # The district dispatches it; the routing rule has chosen 区人力社保局.
    desk = page_as(browser, live_server, s["district"])
    desk.goto(f"{live_server.url}/appeals/{appeal.pk}/")
    desk.locator("form.action-dispatch").get_by_role("button", name="派单").click()
    desk.get_by_test_id("status").wait_for()
    assert desk.get_by_test_id("status").inner_text() == "已派单"

    # The department finds it in its inbox, accepts and answers.
    dept = page_as(browser, live_server, s["rsj_staff"])
    dept.goto(f"{live_server.url}/appeals/inbox/")
    dept.get_by_role("link", name="社保断缴怎么补").click()
    dept.locator("form.action-accept").get_by_role("button").click()
    dept.locator("form.action-answer textarea").fill("可以灵活就业人员身份补缴，已电话告知。")
    dept.locator("form.action-answer").get_by_role("button", name="答复").click()
    dept.get_by_test_id("answer").wait_for()

    # The worker reads the answer and rates it.
    phone.reload()
    assert "已电话告知" in phone.get_by_test_id("answer").inner_text()
    rate = phone.locator("form.action-rate")
    rate.get_by_label("已解决").check()
    rate.get_by_label("满意", exact=True).check()
    rate.get_by_role("button", name="评价").click()
    phone.get_by_test_id("status").wait_for()
    assert phone.get_by_test_id("status").inner_text() == "已解决"
    timeline = phone.get_by_test_id("timeline").inner_text()
    for step in ("提交诉求", "派单", "签收", "答复", "评价"):
        assert step in timeline
    appeal.refresh_from_db()
    assert (appeal.status, appeal.resolved, appeal.satisfaction) == ("resolved", True,
                                                                     "satisfied")
    screenshot(phone, "worker-appeal-360.png")
