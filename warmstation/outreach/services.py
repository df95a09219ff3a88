"""The outbox: write a message with the change, deliver it after commit, retry with backoff."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from warmstation.outreach.channels import DeliveryError, send_sms
from warmstation.outreach.models import OutboxMessage


def outbox_enqueue(
    *, channel: str, recipient: str, body: str, purpose: str = "", sensitive: bool = False
) -> OutboxMessage:
    """Record a message in the caller's transaction; delivery is queued only once it commits."""
    from warmstation.outreach.tasks import deliver_outbox_message

    message = OutboxMessage.objects.create(
        channel=channel, recipient=recipient, body=body, purpose=purpose, sensitive=sensitive
    )
    transaction.on_commit(lambda: deliver_outbox_message.enqueue(message.pk))
    return message


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


CLAIM_TIMEOUT = timedelta(minutes=5)


def _send(message: OutboxMessage) -> str:
    if message.channel == OutboxMessage.Channel.SMS:
        return send_sms(message_id=message.pk, mobile=message.recipient, text=message.body)
    raise DeliveryError(f"channel {message.channel} is not available yet")


def outbox_deliver(*, message_id: int) -> OutboxMessage | None:
    """Try to deliver one message, at least once and normally exactly once.

    Claim, commit, send, record: the claim is a conditional UPDATE (pending → sending), so two
    workers cannot both send it, and no database lock is held during the network call (on
    SQLite a held write lock would stop every other writer for the gateway's timeout). A worker
    that dies mid-send leaves the claim, which outbox_retry_due releases after CLAIM_TIMEOUT.
    A sent or dead message is left alone."""
    now = timezone.now()
    claimed = OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.PENDING) \
        .update(status=OutboxMessage.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    message = OutboxMessage.objects.filter(pk=message_id).first()
    if not claimed or message is None:
        return message
    error = ""
    try:
        provider_id = _send(message)
    except DeliveryError as exc:
        error = str(exc)[:1000] or "delivery failed"
    message.claimed_at = None
    if not error:
        message.status = OutboxMessage.Status.SENT
        message.sent_at = timezone.now()
        message.provider_id = provider_id or ""
        message.next_attempt_at = None
        message.last_error = ""
        if message.sensitive and settings.SMS_BACKEND != "console":
            # A sign-in code has done its job once sent; do not keep it readable. (The
            # console demo keeps it: there the admin's outbox list IS the phone.)
            message.body = "（已发送，内容不保留 sent, not kept）"
    elif message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        message.status = OutboxMessage.Status.DEAD
        message.next_attempt_at = None
        message.last_error = error
    else:
        message.status = OutboxMessage.Status.PENDING
        message.next_attempt_at = timezone.now() + backoff(message.attempts)
        message.last_error = error
    message.save(update_fields=["status", "sent_at", "provider_id", "next_attempt_at",
                                "last_error", "body", "claimed_at"])
    if message.status == OutboxMessage.Status.PENDING and message.next_attempt_at:
        from warmstation.outreach.tasks import deliver_outbox_message

        # A backend that cannot defer (the immediate one) refuses run_after; there the message
        # stays pending and outbox_retry_due queues it once it is due.
        if deliver_outbox_message.get_backend().supports_defer:
            deliver_outbox_message.using(run_after=message.next_attempt_at).enqueue(message.pk)
    return message


def outbox_retry_due(*, now: datetime | None = None) -> int:
    """Re-queue pending messages whose next attempt is due (a safety net if a queued task was
    lost, e.g. the worker's database was restored). Returns how many were queued."""
    from warmstation.outreach.tasks import deliver_outbox_message

    now = now or timezone.now()
    # Claims left by a worker that died mid-send go back to pending (the attempt counts).
    OutboxMessage.objects.filter(status=OutboxMessage.Status.SENDING,
                                 claimed_at__lt=now - CLAIM_TIMEOUT).update(
        status=OutboxMessage.Status.PENDING, claimed_at=None, next_attempt_at=now,
        last_error="claim expired (worker stopped while sending)")
    due = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING).filter(
        next_attempt_at__lte=now
    ) | OutboxMessage.objects.filter(
        status=OutboxMessage.Status.PENDING, next_attempt_at=None,
        created_at__lte=now - timedelta(minutes=5),
    )
    ids = list(due.values_list("pk", flat=True))
    for pk in ids:
        deliver_outbox_message.enqueue(pk)
    return len(ids)
