"""A worker's data across every app: the copy holds their needs (with timelines), redemptions,
the whole points statement, loans and station visits; closing the account leaves no name or
mobile of theirs anywhere in the database — every text column of every table is read — while
ledger balances and case counts stay as they were."""

import json
import re

import pytest
from django.db import connection
from django.test import Client

from tests.factories import (
    BrandFactory,
    as_level,
    make_appeal_setup,
    make_merchant,
    make_offer,
    make_station,
    make_user,
    signed_in,
)
from warmstation.accounts import services as accounts
from warmstation.accounts.models import AuthLevel, Role, User
from warmstation.appeals import services as appeals
from warmstation.appeals.models import Appeal, AppealEvent
from warmstation.benefits import services as benefits
from warmstation.benefits.models import Redemption
from warmstation.core.masking import mask_mobile, mask_name
from warmstation.core.models import AuditEvent
from warmstation.outreach.models import OutboxMessage
from warmstation.points.models import Entry, LedgerTransaction, PointsAccount
from warmstation.points.tests.factories import fund
from warmstation.stations import services as stations
from warmstation.stations.models import Loan, ServiceItem, ServiceRecord

NAME = "欧阳明辉"
MOBILE = "13912345678"


def _code_sent_to(mobile: str) -> str:
    body = (OutboxMessage.objects.filter(recipient=mobile, purpose="sign_in_code")
            .order_by("-created_at", "-id").first().body)
    return re.search(r"(?<!\d)(\d{6})(?!\d)", body).group(1)


@pytest.fixture
def world(tree):
    s = make_appeal_setup(tree)
    # Signs up the real way: a code to the number (audited before any account exists).
    accounts.sms_code_request(mobile=MOBILE)
    accounts.sms_code_request(mobile="13800009999")  # someone else, for contrast
    user = accounts.sms_code_verify(mobile=MOBILE, code=_code_sent_to(MOBILE))
    user.auth_level = AuthLevel.CODE
    accounts.worker_register(user=user, real_name=NAME, job_type="courier",
                             brand=BrandFactory(), areas=[tree["ylj"]], accept_terms=True)
    worker = as_level(User.objects.get(pk=user.pk), AuthLevel.CODE)

    # A need, answered, in which the worker typed their own number and staff wrote their name.
    need = appeals.appeal_create(actor=worker, category=s["cats"]["housing"], area=tree["ylj"],
                                 title=f"{NAME}想租宿舍", body=f"请回电 {MOBILE}，谢谢。")
    for actor, action, note in ((s["district"], "dispatch", ""), (s["rsj_staff"], "accept", ""),
                                (s["rsj_staff"], "answer", f"已电话联系{NAME}（{mask_mobile(MOBILE)}）。")):
        appeals.appeal_transition(actor=actor, appeal_id=need.pk, action=action, note=note)

    # Points, and a points meal redeemed at a counter.
    fund(worker, 80)
    owner = as_level(make_user(Role.MERCHANT, tree["xl"]), AuthLevel.PASSWORD)
    merchant = make_merchant(tree["xl"], staff=owner)
    offer = make_offer(merchant, kind="points", points=30, title="积分套餐")
    code = benefits.redemption_code_issue(user=worker, offer=offer, idempotency_key="p1")
    benefits.redemption_redeem(actor=owner, merchant=merchant, code=code["digits"],
                               idempotency_key="r1")

    # An umbrella lent and returned, a check-in, a service the steward wrote down by name.
    steward = as_level(make_user(Role.STEWARD, tree["ylj"]), AuthLevel.PASSWORD)
    station = make_station(tree["ylj"], 39.748, 116.14, steward=steward, stock={"umbrella": 3})
    loan = stations.loan_create(actor=steward, station=station, item_code="umbrella",
                                worker=worker)
    stations.loan_return(actor=steward, loan=loan)
    station.refresh_from_db()
    stations.station_check_in(worker=worker, token=station.checkin_token)
    ServiceItem.objects.create(code="charge_phone", name_zh="手机充电")
    stations.service_record_create(actor=steward, station=station, service_code="charge_phone",
                                   worker=worker, note=f"给{NAME}的电动车充电")

    # The district office looks the worker up in the audit log, by name and by number.
    admin = signed_in(s["district"])
    assert admin.get("/audit/", {"actor": NAME}).status_code == 200
    assert admin.get("/audit/", {"actor": MOBILE}).status_code == 200
    return {**s, "worker": worker, "station": station, "merchant": merchant, "admin": admin}


def test_the_copy_holds_every_apps_data_in_the_download_and_the_api(world):
    worker = world["worker"]
    client = signed_in(worker, AuthLevel.CODE)
    download = client.get("/me/export.json")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    api = client.get("/api/v1/me/export")
    assert api.status_code == 200
    for data in (json.loads(download.content), api.json()):
        assert data["account"] == {**data["account"], "mobile": MOBILE, "real_name": NAME}
        [need] = data["needs"]
        assert need["title"] == f"{NAME}想租宿舍" and need["status"] == "answered"
        assert [e["action"] for e in need["timeline"]] == ["create", "dispatch", "accept",
                                                          "answer"]
        assert need["timeline"][0]["by_me"] and not need["timeline"][1]["by_me"]
        assert NAME in need["timeline"][-1]["note"]
        [redemption] = data["redemptions"]
        assert redemption["title"] == "积分套餐" and redemption["status"] == "redeemed"
        statement = data["points"]["statement"]
        assert len(statement) == Entry.objects.filter(account__user=worker).count() == 2
        assert [e["points"] for e in statement] == [80, -30]
        assert data["points"]["balance"] == 50
        [loan] = data["loans"]
        assert loan["item"] == "umbrella" and loan["returned_at"]
        assert sorted(v["kind"] for v in data["station_visits"]) == ["check_in", "service"]
        assert {m["purpose"] for m in data["messages"]} >= {"sign_in_code"}
        assert all(m["body"] == "" for m in data["messages"] if m["purpose"] == "sign_in_code")
        actions = {a["action"] for a in data["activity"]}
        # The lines from before the account existed (the code asked for) are theirs too.
        assert {"auth.sms_code", "auth.login", "appeal.create", "station.check_in"} <= actions
        assert data["consents"] and data["worker_profile"]["areas"][0]["code"] == "YLJ"


def _needles() -> list[str]:
    plain = [NAME, mask_name(NAME), MOBILE, mask_mobile(MOBILE), MOBILE[-8:]]
    # JSON columns on SQLite keep non-ASCII escaped (\u6b27...): look for that form too.
    return plain + [json.dumps(n)[1:-1] for n in plain if not n.isascii()]


def _everything_in_the_database() -> list[tuple[str, str, str]]:
    """(table, column, value) for every text-like value of every table."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [c.name for c in connection.introspection.get_table_description(cursor,
                                                                                        table)]
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, memoryview | bytes):
                        value = bytes(value).decode("utf-8", "ignore")
                    elif isinstance(value, dict | list):
                        value = json.dumps(value, ensure_ascii=False)
                    if isinstance(value, str):
                        found.append((table, column, value))
    return found


def _figures():
    return {
        "balances": dict(PointsAccount.objects.values_list("code", "balance")),
        "cases": Appeal.objects.count(), "steps": AppealEvent.objects.count(),
        "entries": Entry.objects.count(), "transactions": LedgerTransaction.objects.count(),
        "redemptions": Redemption.objects.count(), "loans": Loan.objects.count(),
        "visits": ServiceRecord.objects.count(),
    }


def test_closing_leaves_no_name_or_mobile_anywhere_and_keeps_every_record(world):
    worker = world["worker"]
    needles = _needles()
    hits = [(t, c) for t, c, v in _everything_in_the_database() if any(n in v for n in needles)]
    assert ("core_auditsubject", "label") in hits  # the scan does find the person before
    before, audit_lines = _figures(), AuditEvent.objects.count()

    client = signed_in(worker, AuthLevel.CODE)
    response = client.post("/me/close/", {"confirm": "注销"})
    assert response.status_code == 302

    leftovers = [(t, c, v[:80]) for t, c, v in _everything_in_the_database()
                 if any(n in v for n in needles)]
    assert leftovers == []
    assert _figures() == before
    assert AuditEvent.objects.count() == audit_lines + 1  # the close itself; none removed
    # The audit page still lists the person's lines, now about nobody nameable.
    page = world["admin"].get("/audit/", {"object_type": "appeals.appeal"}).content.decode()
    assert "已注销" in page and MOBILE[-4:] not in page
    # The other number's subject is untouched.
    assert AuditEvent.objects.filter(subject__label=mask_mobile("13800009999")).exists()


def test_closed_submitters_case_shows_nobody(world):
    accounts.account_close(user=world["worker"])
    appeal = Appeal.objects.get(submitter=world["worker"])
    page = world["admin"].get(f"/appeals/{appeal.pk}/").content.decode()
    assert "已注销" in page and NAME not in page


def test_a_search_of_the_audit_log_does_not_write_the_name_down(world):
    searches = AuditEvent.objects.filter(action="audit.search")
    assert searches.count() == 2
    for event in searches:
        assert set(event.detail["actor"]) == {"length", "hmac"}
        assert NAME not in json.dumps(event.detail, ensure_ascii=False)
        assert MOBILE not in json.dumps(event.detail)
    by_name, by_number = searches.order_by("id")
    assert by_name.detail["actor"]["length"] == len(NAME)
    assert by_name.detail["actor"]["hmac"] != by_number.detail["actor"]["hmac"]


def test_the_audit_search_still_finds_the_person(world):
    page = world["admin"].get("/audit/", {"actor": NAME}).content.decode()
    assert "appeal.create" in page and mask_mobile(MOBILE) in page
    # Lines from before the account existed are found by the number (a keyed lookup).
    page = world["admin"].get("/audit/", {"actor": MOBILE, "action": "auth.sms_code"})
    assert mask_mobile(MOBILE) in page.content.decode()
    assert mask_mobile("13800009999") not in page.content.decode()


def test_anonymous_export_and_close_are_refused(db):
    assert Client().get("/api/v1/me/export").status_code == 401
    assert Client().post("/api/v1/me/close").status_code == 401


def test_the_copy_is_not_cut_short(world):
    """The copy used to stop at 100 sign-in codes and 1,000 audit lines: now every one is in."""
    from datetime import timedelta

    from django.utils import timezone

    from warmstation.accounts.models import SmsCode

    worker = world["worker"]
    soon = timezone.now() + timedelta(minutes=5)
    SmsCode.objects.bulk_create(SmsCode(mobile=MOBILE, code_hash="x", expires_at=soon)
                                for _ in range(150))
    AuditEvent.objects.bulk_create(AuditEvent(actor=worker, action="test.visit")
                                   for _ in range(1200))
    data = accounts.worker_data_export(user=worker)
    assert len(data["sign_in_codes"]) == SmsCode.objects.filter(mobile=MOBILE).count() > 150
    visits = [a for a in data["activity"] if a["action"] == "test.visit"]
    assert len(visits) == 1200
