"""Needs through the API and the pages: anonymous, wrong role, wrong area, allowed; scoping of
lists (a department sees only what is routed to it, an area admin their area, a worker their
own); the export."""

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from tests.factories import signed_in
from warmstation.appeals import services
from warmstation.core.models import AuditEvent

NEED = {"category": "social_insurance", "area_code": "YLJ", "title": "社保断缴怎么补",
        "body": "换站点后断缴三个月，怎么补缴？"}


def client(s, who):
    if who == "anonymous":
        return Client()
    user = s[who]
    return signed_in(user, user.auth_level)


def post(c, url, data):
    return c.post(url, data, content_type="application/json")


@pytest.mark.parametrize("who, status", [
    ("anonymous", 401), ("rsj_staff", 403), ("worker", 201),
])
def test_raising_a_need(s, who, status):
    response = post(client(s, who), "/api/v1/appeals", NEED)
    assert response.status_code == status, response.content
    if status == 201:
        body = response.json()
        assert body["status"] == "received" and body["timeline"][0]["action"] == "create"
        assert body["submitter_mobile"] == s["worker"].mobile
    else:
        assert response["Content-Type"] == "application/problem+json"


def test_recording_for_a_worker_and_meeting(s):
    ok = post(client(s, "gc_admin"), "/api/v1/appeals",
              {**NEED, "worker_mobile": s["worker"].mobile})
    assert ok.status_code == 201 and ok.json()["submitter_mobile"] == s["worker"].mobile
    assert post(client(s, "xl_admin"), "/api/v1/appeals",
                {**NEED, "worker_mobile": s["worker"].mobile}).status_code == 404
    meeting = post(client(s, "district"), "/api/v1/appeals/meetings", {
        "title": "快递行业座谈会", "held_on": "2026-10-20", "area_code": "110111",
        "needs": [{"category": "traffic_parking", "title": "限行时段通行难", "body": "早晚高峰限行"},
                  {"category": "housing", "title": "网点选址难", "body": "找不到用房"}]})
    assert meeting.status_code == 201 and len(meeting.json()["appeal_ids"]) == 2
    assert post(client(s, "worker"), "/api/v1/appeals/meetings",
                {"title": "x", "held_on": "2026-10-20", "area_code": "110111",
                 "needs": [{"category": "housing", "title": "t", "body": "b"}]}
                ).status_code == 403


def test_lists_are_scoped(s):
    mine = services.appeal_create(actor=s["worker"], category=s["cats"]["social_insurance"],
                                  area=s["ylj"], title="拱辰的", body="b")
    theirs = services.appeal_create(actor=s["other_worker"], area=s["sz"],
                                    category=s["cats"]["traffic_parking"], title="西潞的",
                                    body="b")
    services.appeal_transition(actor=s["district"], appeal_id=mine.pk, action="dispatch")
    services.appeal_transition(actor=s["district"], appeal_id=theirs.pk, action="dispatch",
                               department=s["cgzx"])
    seen = {who: {a["id"] for a in client(s, who).get("/api/v1/appeals").json()["items"]}
            for who in ("worker", "other_worker", "rsj_staff", "cgzx_staff", "gc_admin",
                        "xl_admin", "district")}
    assert seen == {
        "worker": {mine.pk}, "other_worker": {theirs.pk},
        "rsj_staff": {mine.pk}, "cgzx_staff": {theirs.pk},
        "gc_admin": {mine.pk}, "xl_admin": {theirs.pk}, "district": {mine.pk, theirs.pk}}
    for who in ("other_worker", "cgzx_staff", "xl_admin"):
        response = client(s, who).get(f"/api/v1/appeals/{mine.pk}")
        assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_workflow_through_the_api(s):
    created = post(client(s, "worker"), "/api/v1/appeals", NEED).json()
    url = f"/api/v1/appeals/{created['id']}/actions"
    bad = post(client(s, "district"), url, {"action": "close"})
    assert bad.status_code == 409 and "不能" in bad.json()["detail"]["zh"]
    assert post(client(s, "worker"), url, {"action": "dispatch"}).status_code == 403
    assert post(client(s, "district"), url, {"action": "dispatch"}).json()["department"] == "rsj"
    staff = client(s, "rsj_staff")
    assert post(staff, url, {"action": "accept"}).status_code == 200
    answered = post(staff, url, {"action": "answer", "note": "可以个人身份补缴。"}).json()
    assert answered["status"] == "answered" and answered["followup_due"]
    rated = post(client(s, "worker"), url, {"action": "rate", "resolved": True,
                                            "satisfaction": "satisfied"}).json()
    assert rated["status"] == "resolved" and rated["actions"] == []


def test_bulk_dispatch_reports_each_case(s):
    ids = [services.appeal_create(actor=s["worker"], category=s["cats"]["housing"],
                                  area=s["ylj"], title=f"t{i}", body="b").pk for i in range(3)]
    services.appeal_transition(actor=s["district"], appeal_id=ids[0], action="dispatch")
    result = post(client(s, "district"), "/api/v1/appeals/bulk",
                  {"ids": ids, "action": "dispatch"}).json()
    assert result["done"] == ids[1:] and [f["id"] for f in result["failed"]] == [ids[0]]


def test_policy_search_in_chinese(s):
    from warmstation.appeals.models import PolicyAnswer
    from warmstation.appeals.policy import policy_answer_save

    for q, a in [("社保断缴了怎么补缴？", "企业欠缴的可投诉要求补缴。"),
                 ("被拖欠工资怎么办？", "申请劳动仲裁。")]:
        policy_answer_save(actor=None, entry=PolicyAnswer(), topic="legal", question=q, answer=a)
    found = client(s, "worker").get("/api/v1/appeals/policy", {"q": "我的社保断了三个月"}).json()
    assert found["items"][0]["question"] == "社保断缴了怎么补缴？"
    page = client(s, "worker").get("/appeals/suggest/", {"title": "老板拖欠工资"})
    assert "被拖欠工资怎么办" in page.content.decode()


@pytest.mark.parametrize("who, status", [("worker", 403), ("rsj_staff", 200),
                                         ("district", 200)])
def test_board_roles(s, who, status):
    assert client(s, who).get("/api/v1/appeals/board").status_code == status
    assert client(s, who).get("/appeals/board/").status_code == status


def test_pages_and_export_are_scoped_and_audited(s):
    services.appeal_create(actor=s["worker"], category=s["cats"]["housing"], area=s["ylj"],
                           title="拱辰住宿", body="b")
    services.appeal_create(actor=s["other_worker"], category=s["cats"]["housing"],
                           area=s["sz"], title="西潞住宿", body="b")
    assert "拱辰住宿" in client(s, "worker").get("/appeals/").content.decode()
    inbox = client(s, "gc_admin").get("/appeals/inbox/").content.decode()
    assert "拱辰住宿" in inbox and "西潞住宿" not in inbox
    response = client(s, "gc_admin").get("/appeals/export.xlsx")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert [r[1] for r in rows[1:]] == ["拱辰住宿"]
    assert AuditEvent.objects.filter(action="export", actor=s["gc_admin"]).exists()
    worker_rows = list(load_workbook(io.BytesIO(
        client(s, "other_worker").get("/appeals/export.xlsx").content)).active.iter_rows(
        values_only=True))
    assert [r[1] for r in worker_rows[1:]] == ["西潞住宿"]


def test_page_workflow_and_detail_404(s):
    c = client(s, "worker")
    response = c.post("/appeals/new/", {"category": "housing", "area": "YLJ", "title": "想租宿舍",
                                        "body": "离站点近的"})
    assert response.status_code == 302
    appeal_id = int(response["Location"].strip("/").split("/")[-1])
    assert "想租宿舍" in c.get(f"/appeals/{appeal_id}/").content.decode()
    assert client(s, "other_worker").get(f"/appeals/{appeal_id}/").status_code == 404
    d = client(s, "district")
    assert d.post(f"/appeals/{appeal_id}/act/", {"action": "dispatch"}).status_code == 302
    page = client(s, "rsj_staff").get(f"/appeals/{appeal_id}/").content.decode()
    assert "签收" in page and "派单" in page


def test_a_routing_rule_without_a_department_is_refused(s):
    """`department` is required: an empty one is a 422, not a rule without a department (which
    the database refuses: a 500)."""
    c = client(s, "district")
    rule = {"category": "housing", "area_code": None, "department": ""}
    response = c.put("/api/v1/appeals/routing-rules", rule, content_type="application/json")
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "invalid_input"


@pytest.mark.parametrize("held_on, message", [
    ("9999-12-31", "日期须在 2000-01-01 至 2100-12-31 之间"),
    ("0001-01-01", "日期须在 2000-01-01 至 2100-12-31 之间"),
    ("2026-13-01", "请输入正确的日期"),
])
def test_meeting_page_bounds_the_date_like_the_api(s, held_on, message):
    from warmstation.appeals.models import Appeal
    before = Appeal.objects.count()
    response = client(s, "district").post("/appeals/meeting/", {
        "title": "快递行业座谈会", "held_on": held_on, "area": "110111",
        "title_0": "限行时段通行难", "body_0": "早晚高峰限行", "category_0": "traffic_parking"})
    html = response.content.decode()
    assert response.status_code == 422 and message in html
    assert held_on in html  # the form keeps what was typed
    assert Appeal.objects.count() == before
