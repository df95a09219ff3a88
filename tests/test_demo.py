"""The demo data loads, loads again without change, and every demo sign-in lands on a page that
shows its own scope and nothing wider."""

import re

import pyotp
import pytest
from django.core.management import call_command
from django.test import Client

from tests.factories import once_per_module
from warmstation.accounts.models import RoleGrant, User, WorkerProfile
from warmstation.appeals.models import Department
from warmstation.areas.models import Area, AreaContact
from warmstation.demo.data import DEMO_ACCOUNTS, DEMO_PASSWORD
from warmstation.demo.seed import seed_demo
from warmstation.outreach.models import Group, GroupMember, Notice, OutboxMessage


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with once_per_module(django_db_blocker):
        yield seed_demo(workers=40)


@pytest.fixture
def demo(seeded, db):
    return seeded


def _counts():
    return [m.objects.count() for m in (Area, AreaContact, User, RoleGrant, WorkerProfile,
                                         Department, Group, GroupMember, Notice)]


def test_seed_is_idempotent(demo):
    before = _counts()
    again = seed_demo(workers=40)
    assert again["workers_created"] == 0
    assert _counts() == before


def test_seed_has_the_documents_places(demo):
    names = set(Area.objects.values_list("name_zh", flat=True))
    for name in ("西潞街道", "拱辰街道", "长阳镇", "燕山地区", "窦店镇", "城关街道", "阎村镇",
                 "伊林郡社区"):
        assert name in names
    depts = set(Department.objects.values_list("name_zh", flat=True))
    assert {"区住建委", "区人力社保局", "区总工会", "团区委", "区妇联", "区委改革办"} <= depts
    assert Area.objects.get(code="110111-YLJ").parent.name_zh == "拱辰街道"


def test_seed_command_prints_the_sign_ins(db, capsys):
    call_command("seed_demo", workers=3, history=False)
    out = capsys.readouterr().out
    for mobile, *_ in DEMO_ACCOUNTS:
        assert mobile in out


def _sign_in(client, mobile, role, totp):
    if role in ("worker", "resident"):
        client.post("/login/", {"mobile": mobile, "action": "send"})
        body = OutboxMessage.objects.filter(recipient=mobile).latest("created_at").body
        code = re.search(r"\d{6}", body).group(0)
        return client.post("/login/", {"mobile": mobile, "code": code, "action": "verify"})
    response = client.post("/staff/login/", {"mobile": mobile, "password": DEMO_PASSWORD})
    if totp:
        assert response["Location"].startswith("/staff/mfa/")
        response = client.post("/staff/mfa/", {"code": pyotp.TOTP(totp).now()})
    return response


# What each demo role's home must show, and what it must not.
EXPECT = {
    "worker": (["伊林郡社区", "拱辰"], ["小哥名册", "审计日志"]),
    "steward": (["服务管家", "伊林郡社区"], ["小哥名册", "审计日志"]),
    "merchant": (["合作商户", "西潞街道"], ["小哥名册", "审计日志"]),
    "department": (["部门工作人员", "区人力社保局"], ["小哥名册", "审计日志"]),
    "area_admin": (["街乡/社区管理员", "拱辰街道", "小哥名册"], ["审计日志", "长阳镇"]),
    "district_admin": (["区级管理员", "审计日志", "小哥名册"], []),
    "resident": (["居民"], ["小哥名册", "审计日志"]),
}


@pytest.mark.parametrize("account", DEMO_ACCOUNTS, ids=[a[2] for a in DEMO_ACCOUNTS])
def test_each_demo_sign_in_lands_on_its_scope(demo, account):
    mobile, _name, role, _area, _dept, totp = account
    client = Client()
    response = _sign_in(client, mobile, role, totp)
    assert response.status_code == 302, response.content.decode()[:500]
    page = client.get("/").content.decode()
    shown, hidden = EXPECT[role]
    for text in shown:
        assert text in page, (role, text)
    for text in hidden:
        assert text not in page, (role, text)


def test_area_admin_roster_shows_only_their_area(demo):
    client = Client()
    _sign_in(client, "13800000005", "area_admin", DEMO_ACCOUNTS[4][5])
    page = client.get("/workers/").content.decode()
    gongchen = WorkerProfile.objects.filter(areas__path__contains="/110111011000/").distinct()
    assert f"共 {gongchen.count()} 人" in page
    assert "****" in page  # masked mobiles
    outside = WorkerProfile.objects.exclude(pk__in=gongchen).first()
    assert client.post(f"/workers/{outside.pk}/reveal/").status_code == 404
    inside = gongchen.first()
    reveal = client.post(f"/workers/{inside.pk}/reveal/", headers={"HX-Request": "true"})
    assert inside.user.mobile in reveal.content.decode()


def test_every_demo_grant_went_through_the_audited_service(demo):
    from warmstation.core.models import AuditEvent

    grants = AuditEvent.objects.filter(action="role.grant")
    assert grants.count() == RoleGrant.objects.count()
    seed_demo(workers=40)
    assert grants.count() == RoleGrant.objects.count()


def test_demo_contact_groups_and_notices(demo):
    """Groups with members, one channel of each kind pointing nowhere off the machine, notices
    sent and scheduled (warmstation/demo/outreach.py)."""
    from warmstation.outreach.models import DeliveryChannel

    assert Group.objects.count() >= 4 and Group.objects.filter(name="“行走的哨兵”志愿服务队").exists()
    assert all(g.members.exists() for g in Group.objects.all())
    assert set(DeliveryChannel.objects.values_list("kind", flat=True)) == {"wecom", "dingtalk",
                                                                          "sms"}
    for channel in DeliveryChannel.objects.exclude(kind="sms"):
        assert channel.webhook_url.startswith("http://127.0.0.1:9/")  # nowhere, locally
    assert set(Notice.objects.values_list("status", flat=True)) == {"published", "scheduled"}
    sent = Notice.objects.get(title="随手拍：看到问题拍下来")
    assert sent.recipient_count >= 1 and sent.messages.filter(channel="wecom").exists()
