"""Reads of the outbox and the inbox that matter outside them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from warmstation.outreach.models import DeliveryChannel, Notice, NoticeReceipt, OutboxMessage

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from warmstation.accounts.models import User

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


def inbox_list(user: User | AnonymousUser | None) -> QuerySet[NoticeReceipt]:
    """A person's inbox, newest first."""
    if user is None or not user.is_authenticated:
        return NoticeReceipt.objects.none()
    return NoticeReceipt.objects.filter(user=user, notice__status=Notice.Status.PUBLISHED) \
        .select_related("notice", "notice__area").order_by("-notice__publish_at", "-id")


def unread_count(user: User | AnonymousUser | None) -> int:
    return inbox_list(user).filter(read_at=None).count()


def delivery_summary(notice: Notice) -> dict[str, Any]:
    """For the status page: inbox rows read and unread, and per channel its messages by
    status."""
    receipts = NoticeReceipt.objects.filter(notice=notice)
    total = receipts.count()
    read = receipts.exclude(read_at=None).count()
    counts: dict[int | None, dict[str, int]] = {}
    for channel_id, status, n in OutboxMessage.objects.filter(notice=notice).order_by() \
            .values_list("delivery_channel_id", "status").annotate(n=Count("id")) \
            .values_list("delivery_channel_id", "status", "n"):
        counts.setdefault(channel_id, {})[status] = n
    channels = DeliveryChannel.objects.filter(pk__in=[c for c in counts if c]) \
        .select_related("group")
    return {"total": total, "read": read, "unread": total - read,
            "channels": [(c, counts.get(c.pk, {})) for c in channels]}


def broken_channels(groups: QuerySet[Any]) -> QuerySet[DeliveryChannel]:
    """Channels that refused for good (the staff alert on the desk)."""
    return DeliveryChannel.objects.filter(group__in=groups, is_active=True) \
        .exclude(broken_at=None).select_related("group")
