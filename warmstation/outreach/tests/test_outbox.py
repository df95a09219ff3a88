"""The outbox against a real SMS gateway: a local HTTP server on 127.0.0.1, answering as told.
Delivery, retries with backoff, the dead letter, idempotency, and nothing sent for a rolled-back
change."""

from __future__ import annotations

import json
import re
import socket
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone

from warmstation.accounts.models import SmsCode
from warmstation.accounts.services import sms_code_request, sms_code_verify
from warmstation.outreach.channels import close_connections
from warmstation.outreach.models import OutboxMessage
from warmstation.outreach.services import (
    outbox_deliver,
    outbox_deliver_batch,
    outbox_enqueue,
    outbox_retry_due,
)

# tasks: again through the Redis task backend and a real worker process (tests/brokered.py)
pytestmark = [pytest.mark.django_db, pytest.mark.tasks]

MOBILE = "13812341234"


@dataclass
class Gateway:
    """What the local gateway received, and how it will answer next."""

    url: str
    received: list[dict] = field(default_factory=list)
    status: int = 200
    next_id: int = 1000
    # Close each connection after answering without saying so (a gateway's keep-alive timeout
    # passing while the connection sat idle in the client's pool).
    drop_idle: bool = False
    ports: list[int] = field(default_factory=list)

    def answer(self) -> tuple[int, dict]:
        if self.status >= 300:
            return self.status, {"error": "gateway busy"}
        self.next_id += 1
        return self.status, {"id": f"gw-{self.next_id}"}


@pytest.fixture
def gateway():
    state: Gateway

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real gateways answer

        def do_POST(self):  # noqa: N802 — the http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.received.append({
                "path": self.path,
                "authorization": self.headers.get("Authorization"),
                "content_type": self.headers.get("Content-Type"),
                "json": json.loads(body),
            })
            state.ports.append(self.client_address[1])  # one port per TCP connection
            status, payload = state.answer()
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            if state.drop_idle:
                self.close_connection = True

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    state = Gateway(url=f"http://127.0.0.1:{port}/send")
    # A short poll interval: shutdown() waits for the loop to notice.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    try:
        with override_settings(SMS_BACKEND="http", SMS_GATEWAY_URL=state.url,
                               SMS_GATEWAY_TOKEN="t"):
            yield state
    finally:
        close_connections()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def enqueue_sms(text: str = "您好，暖心驿站明天上午开放。", **kwargs) -> OutboxMessage:
    """Enqueued inside the test's transaction, which never commits: delivery is up to the test."""
    return outbox_enqueue(channel=OutboxMessage.Channel.SMS, recipient=MOBILE, body=text,
                          purpose="notice", **kwargs)


def a_closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- delivery --------------------------------------------------------------------------------

def test_a_committed_message_is_posted_to_the_gateway(gateway, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        message = enqueue_sms("您好，暖心驿站明天上午开放。")

    # then
    assert gateway.received == [{
        "path": "/send",
        "authorization": "Bearer t",
        "content_type": "application/json; charset=utf-8",
        "json": {"mobile": MOBILE, "text": "您好，暖心驿站明天上午开放。", "id": message.pk},
    }]
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.provider_id == "gw-1001"
    assert message.attempts == 1
    assert message.sent_at is not None
    assert message.next_attempt_at is None
    assert message.last_error == ""


def test_nothing_is_sent_before_the_transaction_commits(gateway, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = enqueue_sms()

    # then
    assert len(callbacks) == 1
    assert gateway.received == []
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING


def test_outbox_deliver_sends_a_pending_message(gateway):
    # given
    message = enqueue_sms()

    # when
    result = outbox_deliver(message_id=message.pk)

    # then
    assert result.status == OutboxMessage.Status.SENT
    assert [r["json"]["id"] for r in gateway.received] == [message.pk]


def test_a_sent_message_is_not_sent_twice(gateway, django_capture_on_commit_callbacks):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        message = enqueue_sms()
    assert len(gateway.received) == 1

    # when
    outbox_deliver(message_id=message.pk)
    outbox_retry_due(now=timezone.now() + timedelta(days=1))

    # then
    assert len(gateway.received) == 1
    message.refresh_from_db()
    assert message.attempts == 1
    assert message.provider_id == "gw-1001"


def test_delivering_a_missing_message_does_nothing(gateway):
    assert outbox_deliver(message_id=999999) is None
    assert gateway.received == []


# --- failures, retries, the dead letter ----------------------------------------------------------

def test_a_gateway_error_leaves_the_message_pending_for_a_later_try(gateway):
    # given
    gateway.status = 500
    message = enqueue_sms()
    before = timezone.now()

    # when
    outbox_deliver(message_id=message.pk)

    # then
    assert len(gateway.received) == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING
    assert message.attempts == 1
    assert "500" in message.last_error
    assert before + timedelta(seconds=20) < message.next_attempt_at < before + timedelta(minutes=5)
    assert message.sent_at is None


def test_a_gateway_error_on_commit_leaves_the_message_pending(gateway,
                                                               django_capture_on_commit_callbacks):
    # given
    gateway.status = 503

    # when
    with django_capture_on_commit_callbacks(execute=True):
        message = enqueue_sms()

    # then
    message.refresh_from_db()
    assert len(gateway.received) == 1
    assert message.status == OutboxMessage.Status.PENDING
    assert message.attempts == 1
    assert message.next_attempt_at is not None


def test_an_unreachable_gateway_is_a_failure_to_retry(db):
    # given
    message = enqueue_sms()

    # when
    with override_settings(SMS_BACKEND="http",
                           SMS_GATEWAY_URL=f"http://127.0.0.1:{a_closed_port()}/send"):
        outbox_deliver(message_id=message.pk)

    # then
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING
    assert message.attempts == 1
    assert "unreachable" in message.last_error


def test_the_wait_between_tries_grows(gateway):
    # given
    gateway.status = 500
    message = enqueue_sms()
    waits = []

    # when
    for _ in range(3):
        now = timezone.now()
        outbox_deliver(message_id=message.pk)
        message.refresh_from_db()
        waits.append((message.next_attempt_at - now).total_seconds())

    # then
    assert waits[0] < waits[1] < waits[2]
    assert waits[2] <= 3600


def test_after_the_last_attempt_the_message_is_dead(gateway, settings):
    # given
    gateway.status = 500
    message = enqueue_sms()
    for _ in range(settings.OUTBOX_MAX_ATTEMPTS - 1):
        outbox_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING

    # when
    outbox_deliver(message_id=message.pk)

    # then
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.DEAD
    assert message.attempts == settings.OUTBOX_MAX_ATTEMPTS
    assert message.next_attempt_at is None
    assert "500" in message.last_error
    assert len(gateway.received) == settings.OUTBOX_MAX_ATTEMPTS

    # and a dead message is left alone
    gateway.status = 200
    outbox_deliver(message_id=message.pk)
    outbox_retry_due(now=timezone.now() + timedelta(days=1))
    assert len(gateway.received) == settings.OUTBOX_MAX_ATTEMPTS


@override_settings(OUTBOX_MAX_ATTEMPTS=2)
def test_the_attempt_limit_comes_from_settings(gateway):
    # given
    gateway.status = 500
    message = enqueue_sms()

    # when
    outbox_deliver(message_id=message.pk)
    outbox_deliver(message_id=message.pk)

    # then
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.DEAD


def test_a_due_message_is_retried_and_then_sent(gateway):
    # given: one failed try, the gateway back up, and the wait over
    gateway.status = 500
    message = enqueue_sms()
    outbox_deliver(message_id=message.pk)
    gateway.status = 200
    message.refresh_from_db()

    # when: not yet due
    queued_early = outbox_retry_due(now=message.next_attempt_at - timedelta(seconds=1))
    # when: due
    queued = outbox_retry_due(now=message.next_attempt_at + timedelta(seconds=1))

    # then
    assert queued_early == 0
    assert queued == 1
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.attempts == 2
    assert message.last_error == ""
    assert message.provider_id == "gw-1001"
    assert len(gateway.received) == 2


# --- transactions --------------------------------------------------------------------------------

def test_a_rolled_back_change_leaves_no_message_and_sends_nothing(
        gateway, django_capture_on_commit_callbacks):
    # when
    with (django_capture_on_commit_callbacks(execute=True) as callbacks,
          pytest.raises(RuntimeError), transaction.atomic()):
        enqueue_sms()
        raise RuntimeError("the change failed")

    # then
    assert OutboxMessage.objects.count() == 0
    assert callbacks == []
    assert gateway.received == []


def test_a_sign_in_code_in_a_rolled_back_transaction_is_never_sent(
        gateway, django_capture_on_commit_callbacks):
    # when
    with (django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError),
          transaction.atomic()):
        sms_code_request(mobile=MOBILE)
        raise RuntimeError("rolled back")

    # then
    assert SmsCode.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
    assert gateway.received == []


# --- sign-in codes through the gateway -----------------------------------------------------------

def test_a_sign_in_code_goes_out_through_the_gateway_and_works(
        gateway, django_capture_on_commit_callbacks):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/api/v1/auth/sms-code", {"mobile": MOBILE},
                                 content_type="application/json")
    assert response.status_code == 200

    # when: the person types the code their phone received
    [sent] = gateway.received
    code = re.search(r"(?<!\d)(\d{6})(?!\d)", sent["json"]["text"]).group(1)
    user = sms_code_verify(mobile=MOBILE, code=code)

    # then
    assert sent["json"]["mobile"] == MOBILE
    assert user.mobile == MOBILE


def test_a_sent_sign_in_code_is_not_kept_readable(gateway, django_capture_on_commit_callbacks):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        sms_code_request(mobile=MOBILE)
    code = re.search(r"(?<!\d)(\d{6})(?!\d)", gateway.received[0]["json"]["text"]).group(1)

    # when
    message = OutboxMessage.objects.get()

    # then
    assert message.status == OutboxMessage.Status.SENT
    assert code not in message.body


def test_an_ordinary_message_keeps_its_text_after_sending(gateway,
                                                          django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        message = enqueue_sms("驿站通知：今晚供应热饮。")

    # then
    message.refresh_from_db()
    assert message.body == "驿站通知：今晚供应热饮。"


# --- one connection per worker, and the notice SMS rate ---------------------------------------

def test_messages_go_over_one_kept_alive_connection(gateway):
    messages = [enqueue_sms(f"第{i}条") for i in range(5)]
    for m in messages:
        outbox_deliver(message_id=m.pk)
    assert len(gateway.received) == 5
    assert len(set(gateway.ports)) == 1  # one TCP connection for all five


def test_a_connection_the_gateway_closed_while_idle_is_replaced_without_a_duplicate(gateway):
    gateway.drop_idle = True
    messages = [enqueue_sms(f"第{i}条") for i in range(3)]
    for m in messages:
        outbox_deliver(message_id=m.pk)
    assert [r["json"]["id"] for r in gateway.received] == [m.pk for m in messages]
    assert len(set(gateway.ports)) == 3
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}


def test_notice_sms_keep_to_the_per_minute_rate_and_sign_in_codes_do_not_wait(gateway,
                                                                             settings):
    settings.NOTICE_SMS_PER_MINUTE = 2
    notices = [enqueue_sms(f"通知{i}") for i in range(5)]
    code = outbox_enqueue(channel=OutboxMessage.Channel.SMS, recipient=MOBILE, body="验证码",
                          purpose="sign-in code", sensitive=True)
    # when: the batch of five, then the code, within one minute
    assert outbox_deliver_batch(message_ids=[m.pk for m in notices]) == 2
    outbox_deliver(message_id=code.pk)
    # then: two notices went, the other three wait for the next minute; the code went
    rows = {m.pk: m for m in OutboxMessage.objects.filter(pk__in=[m.pk for m in notices])}
    waiting = [m for m in rows.values() if m.status == "pending"]
    assert len(waiting) == 3 and len({m.next_attempt_at for m in waiting}) == 1
    assert all(m.attempts == 0 for m in waiting)  # waiting for the rate is not a failed try
    assert OutboxMessage.objects.get(pk=code.pk).status == "sent"
    assert len(gateway.received) == 3
    # and in the next minute two more go
    later = waiting[0].next_attempt_at
    for m in waiting:
        outbox_deliver(message_id=m.pk, now=later)
    assert OutboxMessage.objects.filter(pk__in=rows, status="sent").count() == 4
