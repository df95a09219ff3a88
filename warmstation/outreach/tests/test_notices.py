"""Notices and groups: who gets a notice (a group, an area, everyone), the inbox with unread
counts and read receipts, scheduling, joining by the QR code, SMS with a daily cap, the pages
and the worker's API."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from tests.factories import as_level, make_user, make_worker, signed_in
from warmstation.accounts.models import AuthLevel, ConsentRecord, Role
from warmstation.core.errors import InvalidInput
from warmstation.outreach import selectors, services
from warmstation.outreach.models import Notice, NoticeReceipt, OutboxMessage

# tasks: again through the Redis task backend and a real worker process (tests/brokered.py)
pytestmark = [pytest.mark.django_db, pytest.mark.tasks]


@pytest.fixture
def w(tree):
    admin = as_level(make_user(Role.AREA_ADMIN, tree["gc"], totp=True), AuthLevel.MFA)
    district = as_level(make_user(Role.DISTRICT_ADMIN, tree["district"], totp=True),
                        AuthLevel.MFA)
    group = services.group_create(actor=admin, area=tree["ylj"], name="伊林郡小哥群",
                                  patch="东片")
    members = [make_worker([tree["ylj"]]) for _ in range(3)]
    for m in members:
        services.member_add(actor=admin, group=group, user=m)
    outsider = make_worker([tree["sz"]])
    return {**tree, "admin": admin, "district": district, "group": group, "members": members,
            "outsider": outsider}


def _notice(w, **kwargs):
    fields = {"actor": w["admin"], "kind": "tip", "audience": "group", "group": w["group"],
              "title": "明天降温", "body": "驿站备有热水。"}
    return services.notice_create(**{**fields, **kwargs})


def test_a_group_notice_reaches_its_members_inboxes_only(w):
    notice = _notice(w)
    assert notice.status == Notice.Status.PUBLISHED
    assert set(notice.receipts.values_list("user_id", flat=True)) == {m.pk for m in w["members"]}
    assert selectors.unread_count(w["members"][0]) == 1
    assert selectors.unread_count(w["outsider"]) == 0


def test_an_area_notice_reaches_workers_of_the_area_and_its_groups(w):
    elsewhere = make_worker([w["sz"]])
    notice = _notice(w, audience="area", area=w["gc"], group=None)
    got = set(notice.receipts.values_list("user_id", flat=True))
    assert {m.pk for m in w["members"]} <= got
    assert elsewhere.pk not in got and w["outsider"].pk not in got


def test_only_the_district_sends_to_everyone(w):
    with pytest.raises(InvalidInput):
        _notice(w, audience="all", group=None)
    notice = _notice(w, actor=w["district"], audience="all", group=None)
    assert w["outsider"].pk in set(notice.receipts.values_list("user_id", flat=True))


def test_opening_a_notice_is_its_read_receipt(w):
    notice = _notice(w)
    reader = w["members"][0]
    client = signed_in(reader, AuthLevel.CODE)
    home = client.get("/").content.decode()  # the launcher's 通知 tile carries the count
    assert re.search(r'task-notices-inbox".*?class="badge">.*?1</span>', home, re.S)
    response = client.get(f"/notices/{notice.pk}/")
    assert response.status_code == 200 and "驿站备有热水" in response.content.decode()
    receipt = NoticeReceipt.objects.get(notice=notice, user=reader)
    assert receipt.read_at is not None
    assert selectors.unread_count(reader) == 0
    # the status page counts it
    status = signed_in(w["admin"], AuthLevel.MFA).get(f"/notices/desk/{notice.pk}/")
    assert 'data-read="1"' in status.content.decode()


def test_a_scheduled_notice_waits_for_its_time(w):
    at = timezone.now() + timedelta(hours=2)
    notice = _notice(w, publish_at=at)
    assert notice.status == Notice.Status.SCHEDULED and notice.receipts.count() == 0
    assert services.notice_publish_due(now=at - timedelta(minutes=1)) == 0
    assert services.notice_publish_due(now=at + timedelta(seconds=1)) == 1
    assert services.notice_publish_due(now=at + timedelta(minutes=1)) == 0  # once
    notice.refresh_from_db()
    assert notice.status == Notice.Status.PUBLISHED and notice.receipts.count() == 3


def test_a_cancelled_notice_is_never_published(w):
    at = timezone.now() + timedelta(hours=2)
    notice = _notice(w, publish_at=at)
    services.notice_cancel(actor=w["admin"], notice=notice)
    assert services.notice_publish_due(now=at + timedelta(seconds=1)) == 0


def test_joining_by_the_qr_code(w):
    newcomer = make_worker([w["ylj"]])
    client = signed_in(newcomer, AuthLevel.CODE)
    page = client.get(f"/notices/join/{w['group'].join_token}/")
    assert page.status_code == 200 and "伊林郡小哥群" in page.content.decode()
    assert client.post(f"/notices/join/{w['group'].join_token}/").status_code == 302
    assert client.post(f"/notices/join/{w['group'].join_token}/").status_code == 302  # again
    assert w["group"].members.filter(user=newcomer).count() == 1
    assert client.get("/notices/join/not-a-token/").status_code == 404
    # the admin's group page shows the QR code (a normal QR, SVG) and the address it holds
    admin = signed_in(w["admin"], AuthLevel.MFA)
    svg = admin.get(f"/notices/desk/groups/{w['group'].pk}/qr.svg")
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    page = admin.get(f"/notices/desk/groups/{w['group'].pk}/").content.decode()
    assert f"/notices/join/{w['group'].join_token}/" in page


def test_sms_goes_to_members_with_a_daily_cap_and_respects_a_withdrawal(w, settings):
    services.channel_create(actor=w["admin"], group=w["group"], kind="sms", name="短信")
    ConsentRecord.objects.create(user=w["members"][2], purpose="notices", granted=False)
    with override_settings(NOTICE_SMS_DAILY_CAP=2):
        for i in range(3):
            _notice(w, title=f"通知{i}")
    sms = OutboxMessage.objects.filter(channel="sms", purpose="notice")
    by_person = {m.mobile: sms.filter(recipient=m.mobile).count() for m in w["members"]}
    assert by_person[w["members"][0].mobile] == 2  # the cap
    assert by_person[w["members"][2].mobile] == 0  # withdrew
    assert all(m.body.startswith("【暖心驿站】") for m in sms)
    # every notice is in the inbox regardless
    assert NoticeReceipt.objects.filter(user=w["members"][0]).count() == 3


def test_a_long_sms_says_where_the_rest_is(w):
    services.channel_create(actor=w["admin"], group=w["group"], kind="sms", name="短信")
    notice = _notice(w, body="很长的政策说明。" * 100)
    text = OutboxMessage.objects.filter(channel="sms").first().body
    assert len(text) <= 300 and text.endswith(f"/notices/{notice.pk}/") and "全文" in text


def test_the_worker_api_lists_counts_and_marks_read(w):
    from warmstation.accounts.services import api_token_issue

    notice = _notice(w)
    reader = w["members"][0]
    token = api_token_issue(user=reader, auth_level=AuthLevel.CODE)
    from django.test import Client

    client = Client(headers={"Authorization": f"Bearer {token}"})
    page = client.get("/api/v1/notices/inbox").json()
    assert page["count"] == 1 and page["items"][0]["title"] == "明天降温"
    assert page["items"][0]["read_at"] is None
    assert client.get("/api/v1/notices/inbox/unread").json() == {"unread": 1}
    assert client.post(f"/api/v1/notices/inbox/{notice.pk}/read").status_code == 200
    assert client.get("/api/v1/notices/inbox/unread").json() == {"unread": 0}
    groups = client.get("/api/v1/notices/groups").json()
    assert groups["items"][0]["name"] == "伊林郡小哥群"


def test_the_compose_page_keeps_what_was_typed_when_refused(w):
    client = signed_in(w["admin"], AuthLevel.MFA)
    response = client.post("/notices/desk/new/", {"kind": "tip", "audience": "group",
                                                  "group": "", "title": "标题保留",
                                                  "body": "内容保留"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "标题保留" in html and "内容保留" in html and "请选择群组" in html


def test_english_pages(w):
    client = signed_in(w["members"][0], AuthLevel.CODE)
    client.cookies["django_language"] = "en"
    _notice(w)
    html = client.get("/notices/", headers={"Accept-Language": "en"}).content.decode()
    assert "Notices" in html and "1 unread" in html
