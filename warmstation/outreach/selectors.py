"""Reads of the outbox that matter outside it."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Min
from django.utils import timezone

from warmstation.outreach.models import OutboxMessage

# A message pending longer than this is "stuck" for /readyz (a sign-in code lives 5 minutes).
STUCK_AFTER_SECONDS = 120


def outbox_depth() -> dict[str, Any]:
    """How many messages wait, are being sent, or are dead letters; the oldest waiting one's age.
    Not ok (so /readyz says "waiting") when a message has waited longer than STUCK_AFTER_SECONDS
    although its first attempt was due at once — the worker is not delivering."""
    counts = dict(OutboxMessage.objects.order_by().values_list("status")
                  .annotate(n=Count("id")).values_list("status", "n"))
    oldest = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING,
                                          next_attempt_at=None).aggregate(at=Min("created_at"))["at"]
    oldest_s = round((timezone.now() - oldest).total_seconds(), 1) if oldest else 0
    return {
        "pending": counts.get(OutboxMessage.Status.PENDING, 0),
        "sending": counts.get(OutboxMessage.Status.SENDING, 0),
        "dead": counts.get(OutboxMessage.Status.DEAD, 0),
        "oldest_unattempted_s": oldest_s,
        "ok": oldest_s <= STUCK_AFTER_SECONDS,
    }
