"""Joining the union: an application needs its own consent (recorded as a history), the union
of the area reviews it, approval enrols with a member number and a card; on-site batches
report every row — enrolled, already a member, or refused with its reason."""

import io
import json
from datetime import date

import pytest

from tests.factories import as_level, make_station, make_user, make_worker, signed_in
from warmstation.accounts.models import AuthLevel, Role
from warmstation.core.errors import Conflict, InvalidInput
from warmstation.union import services
from warmstation.union.models import Member, MembershipApplication, MembershipConsent
from warmstation.union.roster import roster_from_file, roster_from_text
from warmstation.union.services import BatchRow

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(tree):
    union = as_level(make_user(Role.UNION_STAFF, tree["gc"]), AuthLevel.PASSWORD)
    union_xl = as_level(make_user(Role.UNION_STAFF, tree["xl"]), AuthLevel.PASSWORD)
    steward = as_level(make_user(Role.STEWARD, tree["ylj"]), AuthLevel.PASSWORD)
    station = make_station(tree["ylj"], 39.74, 116.14, steward=steward, name="伊林郡驿站")
    worker = as_level(make_worker([tree["ylj"]]), AuthLevel.CODE)
    return {**tree, "union": union, "union_xl": union_xl, "steward": steward,
            "station": station, "worker": worker}


def _apply(w, **kw):
    return services.membership_apply(user=w["worker"], area=kw.pop("area", w["ylj"]),
                                     employer="顺丰速运", job_type="courier",
                                     consent=kw.pop("consent", True), **kw)


def test_an_application_needs_its_own_consent(w):
    with pytest.raises(InvalidInput) as refused:
        _apply(w, consent=False)
    assert refused.value.field == "consent"
    assert MembershipApplication.objects.count() == 0
    application = _apply(w)
    consent = MembershipConsent.objects.get()
    assert consent.granted and consent.user == w["worker"] and application.consent == consent
    with pytest.raises(Conflict) as twice:
        _apply(w)
    assert twice.value.code == "application_pending"


def test_review_enrols_with_a_member_number(w):
    application = _apply(w)
    services.membership_decide(actor=w["union"], application=application, approve=True)
    member = Member.objects.get()
    assert member.number == f"FSGH{member.pk:08d}" and member.user == w["worker"]
    assert member.area == w["ylj"] and member.source == "application"
    with pytest.raises(Conflict):
        services.membership_decide(actor=w["union"], application=application, approve=True)
    with pytest.raises(Conflict) as again:
        _apply(w)
    assert again.value.code == "already_member"


def test_a_rejection_says_why_and_the_worker_may_apply_again(w):
    application = _apply(w)
    with pytest.raises(InvalidInput):
        services.membership_decide(actor=w["union"], application=application, approve=False)
    services.membership_decide(actor=w["union"], application=application, approve=False,
                               note="请补充工作单位")
    assert MembershipApplication.objects.get().status == "rejected"
    _apply(w)


def test_withdrawing_records_the_consent_withdrawn(w):
    application = _apply(w)
    services.membership_withdraw(user=w["worker"], application=application)
    assert list(MembershipConsent.objects.order_by("id").values_list("granted", flat=True)) == \
        [True, False]


def test_a_batch_reports_every_row_enrols_the_good_ones(w):
    already = make_worker([w["ylj"]], mobile="13900000001")
    services.membership_decide(actor=w["union"], approve=True, application=services.
                               membership_apply(user=already, area=w["ylj"], employer="申通",
                                                job_type="courier", consent=True))
    rows = roster_from_text("\n".join([
        "张三,13900000011,申通快递",
        "李四 13900000012",
        "",                          # a blank line is not a row
        "王五，1390000001",            # a mobile one digit short
        "赵六,13900000011",           # the same mobile as row 1
        "钱七,13900000001",           # already a member
        ",13900000013",              # no name
        "孙八\t１３９００００００１４",  # full-width digits, a tab
    ]))
    batch = services.batch_enrol(actor=w["steward"], title="窦店镇集中入会", held_on=date(2026, 11, 20),
                                 area=w["ylj"], station=w["station"], partner="北京银行",
                                 rows=rows, consent_confirmed=True)
    results = {r["row"]: r["result"] for r in batch.report}
    assert results == {1: "enrolled", 2: "enrolled", 4: "refused", 5: "refused", 6: "member",
                       7: "refused", 8: "enrolled"}
    assert batch.rows_total == 7 and batch.rows_enrolled == 3 and batch.rows_refused == 3
    duplicate = next(r for r in batch.report if r["row"] == 5)
    assert "1" in duplicate["message_zh"] and "row 1" in duplicate["message_en"]
    assert all("****" in r["mobile"] for r in batch.report if r["row"] != 7)
    enrolled = Member.objects.filter(batch=batch)
    assert enrolled.count() == 3 and all(m.number for m in enrolled)
    assert set(enrolled.values_list("mobile", flat=True)) == {"13900000011", "13900000012",
                                                               "13900000014"}
    assert MembershipConsent.objects.filter(member__batch=batch, method="on_site").count() == 3


def test_a_batch_needs_the_consent_confirmed_and_rows(w):
    with pytest.raises(InvalidInput) as no_consent:
        services.batch_enrol(actor=w["steward"], title="入会", held_on=date(2026, 11, 20),
                             area=w["ylj"], rows=[BatchRow(1, "张三", "13900000011")],
                             consent_confirmed=False)
    assert no_consent.value.field == "consent"
    with pytest.raises(InvalidInput):
        services.batch_enrol(actor=w["steward"], title="入会", held_on=date(2026, 11, 20),
                             area=w["ylj"], rows=[], consent_confirmed=True)
    assert Member.objects.count() == 0


def test_a_spreadsheet_is_read_row_by_row(w):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["序号", "姓名", "手机号", "工作单位"])
    ws.append([1, "张三", 13900000021, "申通快递"])
    ws.append([2, "李四", "139-0000-0022", ""])
    ws.append([None, None, None, None])
    ws.append([3, "王五", "abc", "申通快递"])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    rows = roster_from_file(buf, "名单.xlsx")
    assert [(r.row, r.name, r.mobile) for r in rows] == [
        (2, "张三", "13900000021"), (3, "李四", "139-0000-0022"), (5, "王五", "abc")]
    csv_rows = roster_from_file(io.BytesIO("姓名,手机号\n张三,13900000031\n".encode("gbk")),
                                "名单.csv")
    assert [(r.row, r.name) for r in csv_rows] == [(2, "张三")]
    with pytest.raises(InvalidInput):
        roster_from_file(io.BytesIO(b"PK\x03\x04broken"), "x.xlsx")


def test_pages_apply_review_card_and_batch(w):
    worker = signed_in(w["worker"], AuthLevel.CODE)
    refused = worker.post("/union/", {"area": "YLJ", "employer": "顺丰速运",
                                      "job_type": "courier"})
    assert refused.status_code == 422 and 'value="顺丰速运"' in refused.content.decode()
    assert worker.post("/union/", {"area": "YLJ", "employer": "顺丰速运", "job_type": "courier",
                                   "consent": "on"}).status_code == 302
    application = MembershipApplication.objects.get()
    union = signed_in(w["union"], AuthLevel.PASSWORD)
    desk = union.get("/union/desk/").content.decode()
    assert f"application-{application.pk}" in desk
    far = signed_in(w["union_xl"], AuthLevel.PASSWORD)
    assert f"application-{application.pk}" not in far.get("/union/desk/").content.decode()
    assert far.post(f"/union/desk/applications/{application.pk}/",
                    {"action": "approve"}).status_code == 404
    assert union.post(f"/union/desk/applications/{application.pk}/",
                      {"action": "approve"}).status_code == 302
    card = worker.get("/union/card/")
    assert card.status_code == 200 and Member.objects.get().number in card.content.decode()
    steward = signed_in(w["steward"], AuthLevel.PASSWORD)
    made = steward.post("/union/batches/new/", {
        "title": "集中入会", "held_on": "2026-11-20", "place": f"s{w['station'].pk}",
        "partner": "北京银行", "roster": "张三,13900000041\n王五,123", "consent": "on"})
    assert made.status_code == 302, made.content.decode()[:500]
    report = steward.get(made["Location"]).content.decode()
    assert "result-enrolled" in report and "result-refused" in report
    xlsx = steward.get(made["Location"] + "?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_api_apply_decide_figures(w):
    worker = signed_in(w["worker"], AuthLevel.CODE)
    made = worker.post("/api/v1/union/applications", json.dumps({
        "area_code": "YLJ", "employer": "顺丰速运", "job_type": "courier", "consent": True}),
        content_type="application/json")
    assert made.status_code == 201, made.content
    union = signed_in(w["union"], AuthLevel.PASSWORD)
    decided = union.post(f"/api/v1/union/applications/{made.json()['id']}/decision",
                         json.dumps({"approve": True}), content_type="application/json")
    assert decided.status_code == 200 and decided.json()["member_number"].startswith("FSGH")
    assert "****" in decided.json()["mobile"]
    me = worker.get("/api/v1/union/me").json()
    assert me["member"]["number"] == decided.json()["member_number"]
    figures = union.get("/api/v1/union/figures").json()
    assert figures["members"] == 1 and figures["by_area"] == [
        {"code": "GC", "name": "拱辰街道", "members": 1}]
    assert signed_in(w["union_xl"], AuthLevel.PASSWORD).get(
        "/api/v1/union/figures").json()["members"] == 0
    batch = signed_in(w["steward"], AuthLevel.PASSWORD).post(
        "/api/v1/union/batches", json.dumps({
            "title": "集中入会", "held_on": "2026-11-20", "station_id": w["station"].pk,
            "consent_confirmed": True,
            "rows": [{"name": "张三", "mobile": "13900000051"}, {"name": "", "mobile": "x"}]}),
        content_type="application/json")
    assert batch.status_code == 201, batch.content
    assert [r["result"] for r in batch.json()["report"]] == ["enrolled", "refused"]
    by_station = union.get("/api/v1/union/figures").json()["by_station"]
    assert {"station_id": w["station"].pk, "name": "伊林郡驿站", "members": 1} in by_station
