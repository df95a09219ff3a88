"""Notices pushed to group robots through the outbox, against a real local HTTP server that
answers as WeCom's and DingTalk's robots do: retries and backoff, the rate window, the dead
letter and the staff alert, signatures, splitting, and nothing sent for a rolled-back change."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation

from tests.factories import make_user, make_worker
from warmstation.accounts.models import Role
from warmstation.core.models import AuditEvent
from warmstation.outreach import services
from warmstation.outreach.channels import WECOM_MARKDOWN_MAX_BYTES
from warmstation.outreach.models import ChannelAttempt, DeliveryChannel, Notice, OutboxMessage
from warmstation.outreach.tests.robots import start_robot

pytestmark = pytest.mark.django_db


@pytest.fixture
def robot():
    state, stop = start_robot()
    yield state
    stop()


@pytest.fixture
def setup(tree):
    admin = make_user(Role.AREA_ADMIN, tree["gc"], totp=True)
    group = services.group_create(actor=admin, area=tree["ylj"], name="伊林郡小哥群")
    for _ in range(3):
        services.member_add(actor=admin, group=group, user=make_worker([tree["ylj"]]))
    return {"admin": admin, "group": group, **tree}


def _wecom(setup, robot) -> DeliveryChannel:
    return services.channel_create(actor=setup["admin"], group=setup["group"], kind="wecom",
                                   name="企业微信群", webhook_url=robot.url)


def _notice(setup, title="明天降温", body="驿站备有热水和姜茶，欢迎歇脚。", **kwargs) -> Notice:
    return services.notice_create(actor=setup["admin"], kind="tip", audience="group",
                                  group=setup["group"], title=title, body=body, **kwargs)


def _message(notice) -> OutboxMessage:
    return OutboxMessage.objects.get(notice=notice)


def test_a_notice_reaches_the_robot_as_wecom_markdown(setup, robot,
                                                      django_capture_on_commit_callbacks):
    channel = _wecom(setup, robot)
    with django_capture_on_commit_callbacks(execute=True):
        notice = _notice(setup)

    [posted] = robot.accepted
    assert posted["query"] == {"key": ["test-key-1234"]}
    assert posted["json"]["msgtype"] == "markdown"
    content = posted["json"]["markdown"]["content"]
    assert "明天降温" in content and "驿站备有热水和姜茶" in content
    assert f"/notices/{notice.pk}/" in content
    message = _message(notice)
    assert message.status == OutboxMessage.Status.SENT and message.delivery_channel == channel
    # the inbox rows were written with it
    assert notice.receipts.count() == 3 and notice.recipient_count == 3


def test_failures_then_success_deliver_exactly_once(setup, robot,
                                                    django_capture_on_commit_callbacks):
    # given: the robot fails twice with HTTP 500, then says 45009 (over its rate), then works
    _wecom(setup, robot)
    robot.script = [500, 500, {"errcode": 45009, "errmsg": "api freq out of limit"}]
    with django_capture_on_commit_callbacks(execute=True):
        notice = _notice(setup)
    message = _message(notice)
    waits = []

    # when: each retry falls due
    for _ in range(10):
        message.refresh_from_db()
        if message.status != OutboxMessage.Status.PENDING:
            break
        waits.append((message.next_attempt_at - timezone.now()).total_seconds())
        services.outbox_retry_due(now=message.next_attempt_at + timedelta(seconds=1))

    # then
    assert len(robot.requests) == 4
    assert len(robot.accepted) == 1
    assert message.status == OutboxMessage.Status.SENT and message.attempts == 4
    assert waits[0] < waits[1]  # backoff grows
    assert 55 <= waits[2] <= 61  # 45009: after the robot's minute
    # and never again
    services.outbox_retry_due(now=timezone.now() + timedelta(days=1))
    services.outbox_deliver(message_id=message.pk)
    assert len(robot.requests) == 4


def test_errcode_93000_is_a_dead_letter_at_once_and_alerts_staff(
        setup, robot, django_capture_on_commit_callbacks):
    channel = _wecom(setup, robot)
    robot.script = [{"errcode": 93000, "errmsg": "invalid webhook url"}]
    with django_capture_on_commit_callbacks(execute=True):
        notice = _notice(setup)

    message = _message(notice)
    assert message.status == OutboxMessage.Status.DEAD and message.attempts == 1
    assert "93000" in message.last_error
    channel.refresh_from_db()
    assert channel.broken_at is not None and "93000" in channel.broken_reason
    assert AuditEvent.objects.filter(action="outreach.channel_broken").count() == 1
    # no retries
    services.outbox_retry_due(now=timezone.now() + timedelta(days=1))
    assert len(robot.requests) == 1

    # a retry while the channel is still broken is refused; after a new key it goes
    from warmstation.core.errors import Conflict

    with pytest.raises(Conflict):
        services.outbox_retry_dead(actor=setup["admin"], message=message)
    services.channel_update(actor=setup["admin"], channel=channel,
                            webhook_url=robot.url.replace("1234", "5678"))
    with django_capture_on_commit_callbacks(execute=True):
        services.outbox_retry_dead(actor=setup["admin"], message=message)
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert len(robot.accepted) == 1 and robot.accepted[0]["query"]["key"] == ["test-key-5678"]


def test_http_200_with_another_errcode_is_a_failure_to_retry(setup, robot,
                                                             django_capture_on_commit_callbacks):
    _wecom(setup, robot)
    robot.script = [{"errcode": 40008, "errmsg": "invalid message type"}]
    with django_capture_on_commit_callbacks(execute=True):
        notice = _notice(setup)
    message = _message(notice)
    assert message.status == OutboxMessage.Status.PENDING and "40008" in message.last_error
    assert robot.accepted == []


def test_a_rolled_back_notice_sends_nothing(setup, robot, django_capture_on_commit_callbacks):
    _wecom(setup, robot)
    with (django_capture_on_commit_callbacks(execute=True) as callbacks,
          pytest.raises(RuntimeError), transaction.atomic()):
        _notice(setup)
        raise RuntimeError("the change failed")

    assert Notice.objects.count() == 0 and OutboxMessage.objects.count() == 0
    assert callbacks == [] and robot.requests == []


def test_no_more_than_20_a_minute_reach_one_robot(setup, robot,
                                                  django_capture_on_commit_callbacks):
    # given: 25 notices within a minute to one robot
    _wecom(setup, robot)
    with django_capture_on_commit_callbacks(execute=True):
        notices = [_notice(setup, title=f"通知{i}") for i in range(25)]

    # then: 20 went, 5 wait for the window, with no attempt spent
    assert len(robot.requests) == 20
    waiting = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
    assert waiting.count() == 5
    first = ChannelAttempt.objects.order_by("at").first().at
    for message in waiting:
        assert message.attempts == 0
        assert message.next_attempt_at >= first + timedelta(seconds=60)
    # retried before the window has passed: still nothing more
    services.outbox_retry_due(now=timezone.now() + timedelta(minutes=10))
    assert len(robot.requests) == 20

    # when: the minute has passed (the window's attempts are a minute old)
    ChannelAttempt.objects.update(at=F("at") - timedelta(seconds=61))
    services.outbox_retry_due(now=timezone.now() + timedelta(minutes=10))

    # then: the other five, each once; and no 60-second window holds more than 20
    assert len(robot.accepted) == 25
    titles = sorted(r["json"]["markdown"]["content"].split("】")[1].split("**")[0]
                    for r in robot.accepted)
    assert titles == sorted(n.title for n in notices)
    times = sorted(ChannelAttempt.objects.values_list("at", flat=True))
    for i, start in enumerate(times):
        assert sum(1 for t in times[i:] if t < start + timedelta(seconds=60)) <= 20


def test_dingtalk_is_signed_as_its_documentation_says(setup, robot,
                                                      django_capture_on_commit_callbacks):
    secret = "SEC0123456789abcdef"
    services.channel_create(actor=setup["admin"], group=setup["group"], kind="dingtalk",
                            name="钉钉群", secret=secret,
                            webhook_url=robot.url.replace("key=", "access_token="))
    with django_capture_on_commit_callbacks(execute=True):
        _notice(setup)

    [posted] = robot.accepted
    timestamp = posted["query"]["timestamp"][0]
    expected = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert posted["query"]["sign"] == [expected]  # parse_qs has undone the URL encoding
    assert abs(int(timestamp) / 1000 - posted["at"]) < 60
    assert posted["json"]["msgtype"] == "markdown"
    assert posted["json"]["markdown"]["title"].startswith("【工作提示】")


def test_the_group_reads_chinese_whatever_language_the_sender_has_active(
        setup, robot, django_capture_on_commit_callbacks):
    """A staff member on the English pages posts to Chinese groups: the kind label in the
    heading stays Chinese (the suite once caught it in English, leaked from another test)."""
    _wecom(setup, robot)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        _notice(setup)

    [posted] = robot.accepted
    assert posted["json"]["markdown"]["content"].startswith("**【工作提示】明天降温**")


def test_the_key_is_stored_encrypted_and_shown_only_by_its_last_characters(setup, robot):
    from django.db import connection

    channel = _wecom(setup, robot)
    with connection.cursor() as cursor:
        cursor.execute("SELECT webhook_url FROM outreach_deliverychannel WHERE id = %s",
                       [channel.pk])
        stored = cursor.fetchone()[0]
    assert "test-key-1234" not in stored
    assert channel.key_hint == "…1234"
    assert "test-key" not in json.dumps(
        list(AuditEvent.objects.values_list("detail", flat=True)), ensure_ascii=False)


def test_a_long_notice_is_split_into_numbered_parts(setup, robot,
                                                    django_capture_on_commit_callbacks):
    _wecom(setup, robot)
    body = "\n".join(f"第{i}条：驿站开放时间调整，请留意。" * 4 for i in range(40))
    with django_capture_on_commit_callbacks(execute=True):
        _notice(setup, body=body)

    contents = [r["json"]["markdown"]["content"] for r in robot.accepted]
    assert 1 < len(contents) <= 3
    assert all(len(c.encode()) <= WECOM_MARKDOWN_MAX_BYTES for c in contents)
    assert all(f"（{i}/{len(contents)}）" in c for i, c in enumerate(contents, start=1))
    for line in body.splitlines():  # every line arrives, none cut
        assert any(line in c for c in contents)


def test_a_notice_too_long_for_three_parts_goes_as_a_link_card(setup, robot,
                                                               django_capture_on_commit_callbacks):
    _wecom(setup, robot)
    with django_capture_on_commit_callbacks(execute=True):
        notice = _notice(setup, body="很长的政策说明。" * 600)

    [posted] = robot.accepted
    assert posted["json"]["msgtype"] == "news"
    [article] = posted["json"]["news"]["articles"]
    assert article["url"].endswith(f"/notices/{notice.pk}/")
    assert "全文" in article["description"]
