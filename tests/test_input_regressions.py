"""Each input that once gave a 500 (issue 8, found by hand and by tests/test_input_contract.py),
now refused with 422 problem+json in the API or a message on the page, and nothing written."""

import json
import re

import pytest
from django.test import Client

from tests.factories import (
    build_area_tree,
    make_appeal_setup,
    make_merchant,
    make_offer,
    make_station,
    make_user,
    make_worker,
    signed_in,
)
from warmstation.accounts.models import AuthLevel, Role
from warmstation.accounts.services import api_token_issue
from warmstation.appeals import services as appeal_services
from warmstation.appeals.models import Appeal, PolicyAnswer
from warmstation.areas.models import AreaContact
from warmstation.benefits.models import Merchant, Offer
from warmstation.core.errors import InvalidInput
from warmstation.points.models import LedgerTransaction
from warmstation.stations.models import Station

pytestmark = pytest.mark.django_db

BIG = 2**63  # one past the largest bigint
HUGE = "名" * 100_000


@pytest.fixture
def w(db):
    tree = build_area_tree()
    people = make_appeal_setup(tree)
    admin = people["district"]
    merchant = make_merchant(tree["gc"])
    token = api_token_issue(user=admin, auth_level=AuthLevel.MFA)
    return {
        "tree": tree, "people": people, "admin": admin, "merchant": merchant,
        "offer": make_offer(merchant), "worker": make_worker([tree["ylj"]]),
        "station": make_station(tree["ylj"], 39.72, 116.11),
        "api": Client(headers={"authorization": f"Bearer {token}"}),
    }


def problem_422(response) -> dict:
    assert response.status_code == 422, response.content[:400]
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert re.search(r"[\u4e00-\u9fff]", body["detail"]["zh"]), body
    assert re.search(r"[A-Za-z]", body["detail"]["en"]), body
    return body


def post(client, url, data, **headers):
    return client.post(url, data, content_type="application/json", headers=headers)


# --- days, months, ids -------------------------------------------------------------------------

@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1999-12-31", "2101-01-01"])
def test_redemptions_and_settlement_refuse_a_day_out_of_range(w, day):
    problem_422(w["api"].get("/api/v1/benefits/redemptions", {"day": day}))
    problem_422(w["api"].get(f"/api/v1/benefits/merchants/{w['merchant'].pk}/settlement",
                             {"day": day}))


def test_a_day_in_range_is_still_answered(w):
    assert w["api"].get("/api/v1/benefits/redemptions", {"day": "2026-12-01"}).status_code == 200
    assert w["api"].get(f"/api/v1/benefits/merchants/{w['merchant'].pk}/settlement",
                        {"day": "2000-01-01"}).status_code == 200


@pytest.mark.parametrize("month", ["0001-01-01", "9999-12-01"])
def test_the_board_refuses_a_month_out_of_range(w, month):
    problem_422(w["api"].get("/api/v1/appeals/board", {"month": month}))


@pytest.mark.parametrize("month", ["0001-01", "9999-12", "2000-01", "abc"])
def test_the_board_page_says_so_and_shows_this_month(w, month):
    page = signed_in(w["admin"]).get("/appeals/board/", {"month": month})
    assert page.status_code == 200
    if month in ("0001-01", "9999-12"):
        assert "2000-01-01" in page.content.decode()


def test_an_id_beyond_bigint_is_refused(w):
    problem_422(w["api"].get("/api/v1/benefits/redemptions", {"merchant_id": str(BIG)}))
    problem_422(w["api"].get(f"/api/v1/benefits/merchants/{BIG}"))
    problem_422(w["api"].get("/api/v1/benefits/merchants/0"))
    problem_422(post(w["api"], "/api/v1/benefits/redemptions",
                     {"merchant_id": BIG, "code": "123456"}, **{"Idempotency-Key": "k1"}))


def test_a_page_url_with_an_id_beyond_bigint_is_not_found(w):
    client = signed_in(w["admin"])
    for url in (f"/merchant/offers/{BIG}/", f"/appeals/{BIG}/", f"/steward/{BIG}/",
                f"/merchant/offers/{10**30}/"):
        assert client.get(url).status_code == 404, url


# --- offers: points, prices, times ---------------------------------------------------------------

@pytest.mark.parametrize("bad", [
    {"points": BIG}, {"points": 1e30}, {"points": -5}, {"points": 0},
    {"serve_from": 12345}, {"serve_from": "25:00"}, {"price": 1e30}, {"price": -1},
])
def test_an_offer_with_numbers_out_of_range_is_refused(w, bad):
    offer = {"kind": "points", "title": "免费理发", "points": 30, **bad}
    if "price" in bad:
        offer = {"kind": "meal", "title": "套餐", "price": 12, **bad}
    url = f"/api/v1/benefits/merchants/{w['merchant'].pk}/offers"
    problem_422(post(w["api"], url, offer))
    problem_422(w["api"].patch(f"/api/v1/benefits/offers/{w['offer'].pk}", bad,
                               content_type="application/json"))
    assert Offer.objects.count() == 1


def test_the_offer_page_refuses_points_beyond_the_column(w):
    points = make_offer(w["merchant"], kind="points", title="理发")
    page = signed_in(w["admin"]).post(f"/merchant/offers/{points.pk}/",
                                      {"title": "理发", "points": str(10**30)})
    assert 400 <= page.status_code < 500
    points.refresh_from_db()
    assert points.points == 30


# --- text: NUL and control characters, lengths --------------------------------------------------

def test_nul_is_refused_in_every_text_the_api_writes(w):
    api, m = w["api"], w["merchant"]
    contact = AreaContact.objects.filter(area=w["tree"]["gc"]).first()
    cases = [
        ("POST", "/api/v1/areas/GC/contacts", {"kind": "hotline", "name": "热线\x00", "phone": "1"}),
        ("PATCH", f"/api/v1/areas/contacts/{contact.pk}", {"name": "热线\x00"}),
        ("PATCH", f"/api/v1/areas/contacts/{contact.pk}", {"address": "路\x00"}),
        ("POST", "/api/v1/benefits/merchants",
         {"name": "店\x00", "kind": "restaurant", "area_code": "GC", "address": "路", "lat": 39.7,
          "lng": 116.1, "opens": "07:00", "closes": "21:00"}),
        ("POST", f"/api/v1/benefits/merchants/{m.pk}/offers",
         {"kind": "meal", "title": "套餐\x00", "price": 12}),
        ("PATCH", f"/api/v1/benefits/offers/{w['offer'].pk}", {"description": "好吃\x00"}),
        ("POST", "/api/v1/appeals", {"category": "housing", "area_code": "YLJ",
                                     "title": "标题\x00", "body": "内容"}),
        ("POST", "/api/v1/appeals", {"category": "housing", "area_code": "YLJ",
                                     "title": "标题", "body": "内容\x00"}),
        ("POST", f"/api/v1/stations/{w['station'].pk}/status",
         {"temporarily_closed": True, "note": "装修\x00"}),
        ("POST", "/api/v1/appeals/policy", {"topic": "legal", "question": "问\x00",
                                            "answer": "答"}),
        ("POST", "/api/v1/appeals/policy", {"topic": "legal", "question": "问",
                                            "answer": "答\x00"}),
        ("POST", "/api/v1/points/awards",
         {"worker_id": w["worker"].worker_profile.pk, "action": "volunteer_hour",
          "source_ref": "shift:1\x00"}),
    ]
    for method, url, body in cases:
        response = api.generic(method, url, json.dumps(body),
                                    content_type="application/json",
                                    headers={"Idempotency-Key": "nul-1"})
        problem_422(response)
    assert not any("\x00" in c.name + c.address for c in AreaContact.objects.all())
    assert not Merchant.objects.filter(name__contains="店").exists()
    assert not Appeal.objects.exists()
    assert not PolicyAnswer.objects.exists()
    assert not LedgerTransaction.objects.exists()
    assert not Station.objects.get().closed_note


def test_a_single_line_field_refuses_a_newline_and_a_multi_line_one_keeps_it(w):
    base = {"category": "housing", "area_code": "YLJ", "title": "标题", "body": "内容"}
    problem_422(post(w["api"], "/api/v1/appeals", {**base, "title": "一\n二"}))
    client = signed_in(w["people"]["worker"], AuthLevel.CODE)
    client.post("/api/v1/appeals", {**base, "body": "第一行\n第二行\t缩进"},
                content_type="application/json")
    assert Appeal.objects.get().body == "第一行\n第二行\t缩进"


def test_a_100_kb_merchant_name_is_refused(w):
    body = problem_422(post(w["api"], "/api/v1/benefits/merchants", {
        "name": HUGE, "kind": "restaurant", "area_code": "GC", "address": "路", "lat": 39.7,
        "lng": 116.1, "opens": "07:00", "closes": "21:00"}))
    assert body["errors"][0]["field"].endswith("name")
    assert Merchant.objects.count() == 1


def test_a_100_kb_reversal_reason_is_refused_not_cut(w):
    response = post(w["api"], "/api/v1/points/transactions/1/reverse", {"reason": HUGE},
                    **{"Idempotency-Key": "rev-1"})
    problem_422(response)
    # and the service refuses it too, whoever calls it
    from warmstation.points.services import points_reverse

    with pytest.raises(InvalidInput):
        points_reverse(actor=w["admin"], transaction_id=1, reason=HUGE, idempotency_key="rev-2")


def test_no_path_stores_nul_or_an_overlong_text(w):
    """The pre_save guard (core/inputs.model_value_check): a service called from anywhere."""
    with pytest.raises(InvalidInput) as caught:
        appeal_services.appeal_create(
            actor=w["people"]["worker"], category=w["people"]["cats"]["housing"],
            area=w["tree"]["ylj"], title="=HYPERLINK\x00", body="内容",
            submitter=w["people"]["worker"])
    assert caught.value.field == "title"
    merchant = w["merchant"]
    merchant.name = HUGE
    with pytest.raises(InvalidInput):
        merchant.save()
    offer = w["offer"]
    offer.points = BIG
    with pytest.raises(InvalidInput):
        offer.save()
    assert not Appeal.objects.exists()
    # and the needs export everyone in scope downloads keeps working
    export = signed_in(w["admin"]).get("/appeals/export.xlsx")
    assert export.status_code == 200


# --- pages -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["热线\x00", "热线\x1b[31m", "热线\u2028", "一\n二"])
def test_a_page_form_refuses_control_characters_with_a_message(w, value):
    admin = make_user(Role.AREA_ADMIN, w["tree"]["gc"])
    client = signed_in(admin)
    before = AreaContact.objects.count()
    page = client.post("/areas/GC/", {"kind": "hotline", "name": value, "phone": "12345"})
    assert page.status_code == 422
    assert "控制字符" in page.content.decode()
    english = signed_in(admin)
    english.cookies["django_language"] = "en"
    assert "control characters" in english.post(
        "/areas/GC/", {"kind": "hotline", "name": value, "phone": "1"}).content.decode()
    assert AreaContact.objects.count() == before


def test_a_page_query_with_nul_is_refused_not_crashed(w):
    client = signed_in(w["admin"])
    assert client.get("/appeals/policy/", {"q": "社保\x00"}).status_code == 422
    assert client.get("/audit/", {"actor": "\x00"}).status_code == 422


def test_a_page_form_keeps_newlines_in_a_case_body(w):
    client = signed_in(w["people"]["worker"], AuthLevel.CODE)
    client.post("/appeals/new/", {"category": "housing", "area": "YLJ", "title": "住宿",
                                  "body": "第一行\r\n第二行"})
    assert Appeal.objects.get().body.replace("\r\n", "\n") == "第一行\n第二行"


def test_an_overlong_page_field_is_refused_by_the_column_limit(w):
    admin = make_user(Role.AREA_ADMIN, w["tree"]["gc"])
    page = signed_in(admin).post("/areas/GC/", {"kind": "hotline", "name": "长" * 129,
                                                "phone": "1"})
    assert 400 <= page.status_code < 500
    assert "128" in page.content.decode()
    assert not AreaContact.objects.filter(name__startswith="长").exists()


# --- instants ------------------------------------------------------------------------------------

@pytest.mark.parametrize("moment", ["4988-07-24T22:51:54.043015-16:06", "0001-01-01T00:00:00Z",
                                    "9999-12-31T23:59:59+14:00"])
def test_hsds_refuses_an_instant_the_database_cannot_hold(db, moment):
    # found by tests/test_openapi_contract.py on PostgreSQL: "time zone displacement out of range"
    for url in ("/hsds/services", "/hsds/service_at_locations"):
        problem_422(Client().get(url, {"modified_after": moment}))


def test_hsds_reads_an_instant_without_a_zone_as_local_time(db):
    assert Client().get("/hsds/services", {"modified_after": "2026-01-01T08:00:00"}
                        ).status_code == 200
    # an odd offset is converted to UTC before it reaches the database
    assert Client().get("/hsds/services", {"modified_after": "2026-01-01T00:00:00-16:06"}
                        ).status_code == 200


# --- found by tests/test_page_input_contract.py ------------------------------------------------

def test_register_with_an_id_beyond_bigint_or_a_superscript_digit_is_not_a_500(w):
    client = signed_in(make_user(), AuthLevel.CODE)
    for bad in ("9" * 25, "²", "١٢٣"):
        page = client.post("/register/", {"real_name": "张三", "job_type": "courier",
                                          "brand": bad, "areas": [bad], "accept_terms": "on"})
        assert page.status_code < 500, bad


def test_a_case_action_with_odd_digits_is_not_a_500(w):
    appeal = appeal_services.appeal_create(
        actor=w["people"]["worker"], category=w["people"]["cats"]["housing"],
        area=w["tree"]["ylj"], title="住宿难", body="找不到", submitter=w["people"]["worker"])
    client = signed_in(w["admin"])
    for bad in ("²", "9" * 25):
        assert client.post(f"/appeals/{appeal.pk}/act/", {
            "action": "merge", "into": bad, "policy_answer": bad}).status_code < 500
        assert client.post("/appeals/inbox/", {"ids": [bad], "action": "accept"}
                           ).status_code < 500
        assert client.get("/appeals/inbox/", {"department": bad}).status_code < 500


@pytest.mark.parametrize("day", ["2024-02-30", "0001-01-01", "9999-12-31", "2024-13-01"])
def test_the_audit_search_says_a_date_is_wrong_instead_of_a_500(w, day):
    page = signed_in(w["admin"]).get("/audit/", {"since": day, "until": day})
    assert page.status_code == 200
    assert "日期" in page.content.decode()
