"""The outbox claims a message before sending, so no lock is held during the network call and
a second worker never sends the same message; a dead worker's claim is released."""

from datetime import timedelta

from django.utils import timezone

from warmstation.outreach.models import OutboxMessage
from warmstation.outreach.services import outbox_deliver, outbox_retry_due


def _message(**fields):
    return OutboxMessage.objects.create(channel="sms", recipient="13700000001", body="hi",
                                        **fields)


def test_a_claimed_message_is_not_sent_again(db):
    message = _message(status=OutboxMessage.Status.SENDING, claimed_at=timezone.now(),
                       attempts=1)
    result = outbox_deliver(message_id=message.pk)
    assert result.status == OutboxMessage.Status.SENDING and result.attempts == 1


def test_console_delivery_clears_the_claim(db):
    message = _message()
    result = outbox_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert result.status == message.status == OutboxMessage.Status.SENT
    assert message.claimed_at is None and message.attempts == 1


def test_a_dead_workers_claim_is_released_and_retried(db):
    stale = _message(status=OutboxMessage.Status.SENDING, attempts=1,
                     claimed_at=timezone.now() - timedelta(minutes=30))
    fresh = _message(status=OutboxMessage.Status.SENDING, attempts=1,
                     claimed_at=timezone.now())
    outbox_retry_due()
    stale.refresh_from_db()
    fresh.refresh_from_db()
    # The immediate task backend delivered the released one on the spot.
    assert stale.status == OutboxMessage.Status.SENT and stale.attempts == 2
    assert fresh.status == OutboxMessage.Status.SENDING
