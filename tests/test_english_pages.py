"""English mode is English: each page rendered in English may show Chinese only inside the
names and addresses of places and people (and what people typed: a need's title and text, a
reversal's reason), and
the 中文 switch. Anything else in CJK — a label, a unit, a date, a status — fails, with where."""

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from tests.factories import (
    make_appeal_setup,
    make_merchant,
    make_offer,
    make_station,
    make_user,
    signed_in,
)
from warmstation.accounts.models import AuthLevel, Role
from warmstation.appeals import services as appeal_services
from warmstation.points.services import (
    hold_place,
    hold_post,
    points_reverse,
    system_account_open,
)
from warmstation.points.tests.factories import fund
from warmstation.stations.models import Amenity

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+")


@pytest.fixture
def world(tree):
    tree["ylj"].center_lat, tree["ylj"].center_lng = 39.7480, 116.1400
    tree["ylj"].save()
    s = make_appeal_setup(tree)
    Amenity.objects.create(code="charging", name_zh="充电", name_en="Charging", order=0)
    station = make_station(tree["ylj"], 39.7482, 116.1400, name="伊林郡驿站", is_24h=True,
                           amenities=["charging"], steward=s["steward"])
    owner = make_user(Role.MERCHANT, tree["ylj"])
    merchant = make_merchant(tree["ylj"], 39.7485, 116.1405, name="拱辰爱心餐馆", staff=owner)
    make_offer(merchant, title="爱心套餐")
    fund(s["worker"], 100)
    # A wrong award and a meal paid in points, both reversed by staff: the wallet shows each
    # reversal in English around the reason typed (the stored memos stay Chinese).
    wrong = fund(s["worker"], 20)
    points_reverse(actor=None, transaction_id=wrong["transaction_id"], reason="重复发放，予以冲正",
                   idempotency_key="english-pages-reversal-1")
    system_account_open(code=merchant.settlement_code, kind="settlement", name=merchant.name)
    with transaction.atomic():
        hold = hold_place(user=s["worker"], amount=10, payee_code=merchant.settlement_code,
                          expires_at=timezone.now() + timedelta(minutes=5),
                          memo=f"{merchant.name}·爱心套餐")
        spend = hold_post(hold_id=hold.pk)
    points_reverse(actor=None, transaction_id=spend.pk, reason="商户退单",
                   idempotency_key="english-pages-reversal-2")
    case = appeal_services.appeal_create(actor=s["worker"], category=s["cats"]["housing"],
                                         area=tree["ylj"], title="想找短租房", body="附近有没有？")
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import as_level
    from warmstation.dashboard.importing_services import import_batch_check, import_batch_create

    # A report with a bad row of every kind of cell problem, for the report page in English.
    data = ("手机号,姓名,工作类型,工作区域\n13800000051,张三,courier,YLJ\n12345,李四,骑手,MARS\n"
            "13800000051,张三,courier,YLJ\n").encode()
    batch = import_batch_create(actor=as_level(s["gc_admin"]), kind="workers",
                                upload=SimpleUploadedFile("w.csv", data), filename="w.csv")
    import_batch_check(batch_id=batch.pk)  # its task (enqueued on a commit)
    return {"s": s, "tree": tree, "station": station, "merchant": merchant, "owner": owner,
            "case": case, "batch": batch}


def _allowed() -> set[str]:
    """Names and addresses of places and people, and what people wrote, as stored."""
    from warmstation.accounts.models import Brand, User
    from warmstation.appeals.models import Appeal, Department
    from warmstation.areas.models import Area, AreaContact
    from warmstation.benefits.models import Merchant, Offer
    from warmstation.points.labels import reversal_reason
    from warmstation.points.models import LedgerTransaction
    from warmstation.stations.models import Station

    values: set[str] = {"中文", "简体中文"}
    for model, fields in ((Area, ["name_zh"]), (AreaContact, ["name", "address", "hours"]),
                          (Station, ["name", "address"]), (Merchant, ["name", "address",
                                                                      "contact_name"]),
                          (Offer, ["title"]), (User, ["real_name"]), (Brand, ["name_zh"]),
                          (Department, ["name_zh"]), (Appeal, ["title", "body"])):
        for row in model.objects.values_list(*fields):
            values.update(v for v in row if v)
    values.update(reversal_reason(tx) for tx in LedgerTransaction.objects.filter(
        kind=LedgerTransaction.Kind.REVERSAL))  # the reason staff typed, not the words around it
    return values


def _chinese_left(html: str) -> list[str]:
    html = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    for value in sorted(_allowed(), key=len, reverse=True):
        html = html.replace(value, " ")
    return sorted(set(CJK.findall(html)))


PAGES = [
    ("anonymous", "/"), ("anonymous", "/login/"), ("anonymous", "/stations/"),
    ("worker", "/"), ("worker", "/stations/?open=1"), ("worker", "/stations/{station}/"),
    ("worker", "/wallet/"), ("worker", "/appeals/"), ("worker", "/appeals/new/"),
    ("worker", "/appeals/{case}/"), ("worker", "/me/"), ("worker", "/register/"),
    ("worker", "/appeals/policy/"),
    ("merchant", "/merchant/{merchant}/"), ("steward", "/steward/{station}/"),
    ("department", "/appeals/inbox/"), ("area_admin", "/areas/GC/"),
    ("area_admin", "/workers/"), ("area_admin", "/appeals/board/"),
    ("area_admin", "/district/data/"), ("area_admin", "/district/data/batches/{batch}/"),
    ("area_admin", "/district/"), ("area_admin", "/district/?grain=week"),
    ("area_admin", "/district/map/"), ("area_admin", "/district/coverage/"),
]


@pytest.mark.parametrize("who,path", PAGES)
def test_english_pages_hold_no_chinese_outside_names(world, who, path):
    users = {"worker": (world["s"]["worker"], AuthLevel.CODE),
             "merchant": (world["owner"], AuthLevel.PASSWORD),
             "steward": (world["s"]["steward"], AuthLevel.PASSWORD),
             "department": (world["s"]["rsj_staff"], AuthLevel.PASSWORD),
             "area_admin": (world["s"]["gc_admin"], AuthLevel.MFA)}
    client = Client() if who == "anonymous" else signed_in(*users[who])
    client.cookies["django_language"] = "en"
    url = path.format(station=world["station"].pk, case=world["case"].pk,
                      merchant=world["merchant"].pk, batch=world["batch"].pk)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, url
    left = _chinese_left(response.content.decode())
    assert not left, f"{who} {url}: {left}"


def test_english_wallet_says_what_each_reversal_reverses_and_why(world):
    client = signed_in(world["s"]["worker"], AuthLevel.CODE)
    client.cookies["django_language"] = "en"
    html = client.get("/wallet/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert html.count("Reversal of #") == 2
    assert "重复发放，予以冲正" in html and "商户退单" in html


def test_the_statement_api_labels_each_line_in_the_requests_language(world):
    from warmstation.accounts.services import api_token_issue

    token = api_token_issue(user=world["s"]["worker"], auth_level=AuthLevel.CODE)
    client = Client()

    def labels(language: str) -> list[dict]:
        response = client.get("/api/v1/points/me/entries", HTTP_AUTHORIZATION=f"Bearer {token}",
                              HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        return response.json()["items"]

    english, chinese = labels("en"), labels("zh-hans")
    reversals = [e for e in english if e["kind"] == "reversal"]
    assert len(reversals) == 2 and all(e["label"].startswith("Reversal of #") for e in reversals)
    assert all(e["memo"].startswith("冲正 #") for e in reversals)  # as stored
    assert [e["label"] for e in chinese if e["kind"] == "reversal"] == \
        [e["memo"] for e in chinese if e["kind"] == "reversal"]
