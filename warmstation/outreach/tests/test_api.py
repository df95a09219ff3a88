"""The admins' notices API: groups, members, channels (keys write-only), composing and
scheduling, delivery per channel and recipient, the retry of a dead letter — each scoped by the
admin's areas, each write audited, each refusal problem+json."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import as_level, make_user, make_worker
from warmstation.accounts.models import AuthLevel, Role
from warmstation.accounts.services import api_token_issue
from warmstation.core.models import AuditEvent
from warmstation.outreach.models import OutboxMessage

pytestmark = pytest.mark.django_db
BASE = "/api/v1/notices/manage"
KEY = "wecom-secret-key-7f3a9c"


def _client(user) -> Client:
    token = api_token_issue(user=user, auth_level=AuthLevel.MFA)
    return Client(headers={"Authorization": f"Bearer {token}"})


def _send(client: Client, method: str, url: str, body: dict | None = None):
    return client.generic(method, url, json.dumps(body or {}), content_type="application/json")


@pytest.fixture
def w(tree):
    admin = as_level(make_user(Role.AREA_ADMIN, tree["gc"], totp=True), AuthLevel.MFA)
    other = as_level(make_user(Role.AREA_ADMIN, tree["xl"], totp=True), AuthLevel.MFA)
    workers = [make_worker([tree["ylj"]]) for _ in range(3)]
    return {
        **tree,
        "admin": admin,
        "other": other,
        "workers": workers,
        "api": _client(admin),
        "api_other": _client(other),
    }


def _group_with_members(w) -> dict:
    api = w["api"]
    group = _send(
        api, "POST", f"{BASE}/groups", {"area_code": "YLJ", "name": "伊林郡小哥群", "patch": "东片"}
    )
    assert group.status_code == 201, group.content
    gid = group.json()["id"]
    for worker in w["workers"]:
        added = _send(api, "POST", f"{BASE}/groups/{gid}/members", {"mobile": worker.mobile})
        assert added.status_code == 201, added.content
    return group.json()


def test_a_group_with_members_and_channels_and_the_key_is_never_shown(w):
    api = w["api"]
    group = _group_with_members(w)
    gid = group["id"]
    members = api.get(f"{BASE}/groups/{gid}/members").json()
    assert members["count"] == 3
    assert all("****" in m["mobile"] for m in members["items"])  # masked
    url = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}"
    robot = _send(
        api,
        "POST",
        f"{BASE}/groups/{gid}/channels",
        {"kind": "wecom", "name": "小哥企业微信群", "webhook_url": url},
    )
    assert robot.status_code == 201
    assert robot.json()["key_hint"] == f"…{KEY[-4:]}"
    ding = _send(
        api,
        "POST",
        f"{BASE}/groups/{gid}/channels",
        {
            "kind": "dingtalk",
            "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=tok123456789",
            "secret": "SECdingtalk-signing-secret",
        },
    )
    assert ding.json()["has_secret"] is True
    assert _send(api, "POST", f"{BASE}/groups/{gid}/channels", {"kind": "sms"}).status_code == 201
    again = _send(api, "POST", f"{BASE}/groups/{gid}/channels", {"kind": "sms"})
    assert again.status_code == 409 and again["Content-Type"] == "application/problem+json"
    bad = _send(
        api,
        "POST",
        f"{BASE}/groups/{gid}/channels",
        {"kind": "wecom", "webhook_url": "https://example.org/hook"},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "webhook_url"
    patched = _send(
        api,
        "PATCH",
        f"{BASE}/channels/{robot.json()['id']}",
        {"webhook_url": url.replace(KEY, KEY + "-new9")},
    )
    assert patched.status_code == 200 and patched.json()["key_hint"] == "…new9"
    detail = api.get(f"{BASE}/groups/{gid}")
    listed = api.get(f"{BASE}/groups")
    seen = b"".join(r.content for r in (robot, ding, patched, detail, listed))
    assert KEY.encode() not in seen and b"SECdingtalk" not in seen and b"tok1234" not in seen
    assert len(detail.json()["channels"]) == 3
    renamed = _send(
        api, "PATCH", f"{BASE}/groups/{gid}", {"name": "伊林郡骑手群", "is_active": False}
    )
    assert renamed.json()["name"] == "伊林郡骑手群" and renamed.json()["is_active"] is False
    actions = set(AuditEvent.objects.filter(actor=w["admin"]).values_list("action", flat=True))
    assert {
        "outreach.group_create",
        "outreach.member_add",
        "outreach.channel_create",
        "outreach.channel_update",
        "outreach.group_update",
    } <= actions
    # Another street's admin: the group looks missing, everywhere.
    assert w["api_other"].get(f"{BASE}/groups/{gid}").status_code == 404
    assert w["api_other"].get(f"{BASE}/groups").json()["count"] == 0
    member_id = members["items"][0]["id"]
    assert _send(w["api_other"], "DELETE", f"{BASE}/members/{member_id}").status_code == 404
    assert _send(api, "DELETE", f"{BASE}/members/{member_id}").status_code == 204


def test_compose_now_then_follow_delivery_per_channel_and_recipient(
    w, django_capture_on_commit_callbacks
):
    api = w["api"]
    gid = _group_with_members(w)["id"]
    _send(api, "POST", f"{BASE}/groups/{gid}/channels", {"kind": "sms"})
    with django_capture_on_commit_callbacks(execute=True):
        sent = _send(
            api,
            "POST",
            f"{BASE}/notices",
            {
                "kind": "tip",
                "audience": "group",
                "group_id": gid,
                "title": "明天降温",
                "body": "驿站备有热水和姜茶。",
            },
        )
    assert sent.status_code == 201, sent.content
    notice = sent.json()
    assert notice["status"] == "published" and notice["recipient_count"] == 3
    assert notice["unread"] == 3 and notice["channels"][0]["kind"] == "sms"
    # Once committed, the immediate task backend of the tests delivered them (console SMS).
    detail = api.get(f"{BASE}/notices/{notice['id']}").json()
    assert detail["channels"][0]["sent"] == 3
    deliveries = api.get(f"{BASE}/notices/{notice['id']}/deliveries").json()
    assert deliveries["count"] == 3
    assert {d["status"] for d in deliveries["items"]} == {"sent"}
    assert all("****" in d["recipient"] for d in deliveries["items"])
    assert not any(wk.mobile.encode() in json.dumps(deliveries).encode() for wk in w["workers"])
    receipts = api.get(f"{BASE}/notices/{notice['id']}/receipts?read=false").json()
    assert receipts["count"] == 3
    listed = api.get(f"{BASE}/notices?status=published").json()
    assert [n["id"] for n in listed["items"]] == [notice["id"]]
    assert w["api_other"].get(f"{BASE}/notices/{notice['id']}/deliveries").status_code == 404
    # Someone else's group: the input is wrong (422), and nothing is written.
    refused = _send(
        w["api_other"],
        "POST",
        f"{BASE}/notices",
        {"kind": "tip", "audience": "group", "group_id": gid, "title": "x", "body": "y"},
    )
    assert refused.status_code == 422 and refused.json()["field"] == "group_id"


def test_schedule_then_cancel_and_a_second_cancel_is_a_conflict(w):
    api = w["api"]
    gid = _group_with_members(w)["id"]
    when = (timezone.now() + timedelta(days=1)).isoformat()
    scheduled = _send(
        api,
        "POST",
        f"{BASE}/notices",
        {
            "kind": "volunteer",
            "audience": "area",
            "area_code": "GC",
            "title": "周末志愿招募",
            "body": "拱辰街道周六志愿服务。",
            "publish_at": when,
        },
    )
    assert scheduled.status_code == 201, scheduled.content
    nid = scheduled.json()["id"]
    assert scheduled.json()["status"] == "scheduled" and scheduled.json()["recipient_count"] == 0
    past = _send(
        api,
        "POST",
        f"{BASE}/notices",
        {
            "kind": "tip",
            "audience": "group",
            "group_id": gid,
            "title": "x",
            "body": "y",
            "publish_at": "2020-01-01T08:00:00+08:00",
        },
    )
    assert past.status_code == 422 and past.json()["field"] == "publish_at"
    cancelled = _send(api, "POST", f"{BASE}/notices/{nid}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = _send(api, "POST", f"{BASE}/notices/{nid}/cancel")
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition" and again.json()["detail"]["en"]


def test_a_dead_letter_is_listed_and_sent_again_once(w):
    api = w["api"]
    gid = _group_with_members(w)["id"]
    channel = _send(api, "POST", f"{BASE}/groups/{gid}/channels", {"kind": "sms"}).json()
    dead = OutboxMessage.objects.create(
        channel="sms",
        recipient=w["workers"][0].mobile,
        body="短信",
        purpose="notice",
        status=OutboxMessage.Status.DEAD,
        attempts=8,
        delivery_channel_id=channel["id"],
        last_error="gateway answered 500",
    )
    listed = api.get(f"{BASE}/dead-letters").json()
    assert [d["id"] for d in listed["items"]] == [dead.pk]
    assert listed["items"][0]["last_error"] == "gateway answered 500"
    assert w["api_other"].get(f"{BASE}/dead-letters").json()["count"] == 0
    assert _send(w["api_other"], "POST", f"{BASE}/messages/{dead.pk}/retry").status_code == 404
    retried = _send(api, "POST", f"{BASE}/messages/{dead.pk}/retry")
    assert retried.status_code == 200 and retried.json()["status"] in ("pending", "sent")
    assert AuditEvent.objects.filter(action="outreach.message_retry", actor=w["admin"]).exists()
    again = _send(api, "POST", f"{BASE}/messages/{dead.pk}/retry")
    assert again.status_code == 409 and again.json()["code"] == "not_dead"
