"""The outbox (write a message with the change, deliver it after commit, retry with backoff,
respect each channel's rate, end in a visible dead letter), and on it the contact network:
groups, their members and channels, notices and the inbox."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from warmstation.accounts.models import ConsentRecord, WorkerProfile
from warmstation.areas.models import Area
from warmstation.areas.scoping import area_in_scope
from warmstation.core.audit import audit_record
from warmstation.core.errors import Conflict, InvalidInput
from warmstation.core.inputs import clean_text
from warmstation.core.taskrows import Queued, queue_with_statement
from warmstation.outreach.channels import (
    ROBOT_PER_MINUTE,
    DeliveryError,
    PermanentDeliveryError,
    RetryLater,
    send_dingtalk,
    send_sms,
    send_wecom,
)
from warmstation.outreach.formatting import robot_payloads, sms_text
from warmstation.outreach.models import (
    ChannelAttempt,
    DeliveryChannel,
    Group,
    GroupMember,
    Notice,
    NoticeReceipt,
    OutboxMessage,
    RateWindow,
)

if TYPE_CHECKING:
    from django.http import HttpRequest

    from warmstation.accounts.models import User

logger = logging.getLogger("warmstation.outbox")

BATCH = 2000  # rows per bulk insert, ids per delivery task


# --- the outbox -----------------------------------------------------------------------------

def outbox_enqueue(
    *, channel: str, recipient: str, body: str, purpose: str = "", sensitive: bool = False
) -> OutboxMessage:
    """Record a message in the caller's transaction; delivery is queued only once it commits."""
    return outbox_record(
        outbox_message(
            channel=channel, recipient=recipient, body=body, purpose=purpose, sensitive=sensitive
        )
    )


def outbox_record(message: OutboxMessage) -> OutboxMessage:
    """Write a message made by `outbox_message` in the caller's transaction, delivered once it
    commits (`outbox_enqueue` in two steps)."""
    message.save(force_insert=True)
    outbox_deliver_on_commit(message.pk)
    return message


def outbox_message(
    *, channel: str, recipient: str, body: str, purpose: str = "", sensitive: bool = False
) -> OutboxMessage:
    """The message `outbox_enqueue` records, not yet written: for a caller that writes it with
    other rows in one statement (ADR 0019) with the rows of `outbox_deliveries`."""
    return OutboxMessage(
        channel=channel, recipient=recipient, body=body, purpose=purpose, sensitive=sensitive
    )


def outbox_deliver_on_commit(message_id: int) -> None:
    """Queue the delivery of a recorded message once the caller's transaction commits."""
    from warmstation.outreach.tasks import deliver_outbox_message

    transaction.on_commit(lambda: deliver_outbox_message.enqueue(message_id))


def outbox_deliveries(connection: BaseDatabaseWrapper, messages: list[OutboxMessage]) -> Queued:
    """The delivery tasks of messages (ids reserved) that a caller writes in one statement
    (ADR 0019): rows for that statement with the database task backend, so each delivery
    commits with its message (`core/taskrows.py`); call `.written()` after the statement."""
    from warmstation.outreach.tasks import deliver_outbox_message

    return queue_with_statement(connection, deliver_outbox_message, *((m.pk,) for m in messages))


def outbox_enqueue_many(messages: list[OutboxMessage]) -> list[int]:
    """Record many messages in the caller's transaction (one notice to thousands): bulk
    inserts, and after commit one delivery task per BATCH ids rather than one per message."""
    ids: list[int] = []
    for start in range(0, len(messages), BATCH):
        created = OutboxMessage.objects.bulk_create(messages[start:start + BATCH])
        ids += [m.pk for m in created]
    for start in range(0, len(ids), BATCH):
        _enqueue_batch_on_commit(ids[start:start + BATCH])
    return ids


def _enqueue_batch_on_commit(chunk: list[int]) -> None:
    from warmstation.outreach.tasks import deliver_outbox_batch

    transaction.on_commit(lambda: deliver_outbox_batch.enqueue(chunk))


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min … capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def claim_timeout() -> timedelta:
    """How long a claim may last before it is taken for a dead worker's (settings, so the
    crash test need not wait five minutes)."""
    return timedelta(seconds=settings.OUTBOX_CLAIM_TIMEOUT_S)


CLAIM_TIMEOUT = timedelta(minutes=5)  # the default of OUTBOX_CLAIM_TIMEOUT_S
RATE_WINDOW = timedelta(minutes=1)


def channel_rate(channel: DeliveryChannel) -> int | None:
    """Messages a minute the channel accepts (None: no limit of ours). SMS is limited as a
    whole instead (sms_slot): the gateway's rate is the account's, whatever the group."""
    return ROBOT_PER_MINUTE if channel.is_robot else None


SMS_WINDOW = "sms-notice"


def rate_slot(key: str, limit: int, now: datetime) -> datetime | None:
    """Take one of `limit` slots of the current minute of the shared rate `key`: None if taken,
    else when the next minute begins. A fixed window (one row per minute, counted by a
    conditional UPDATE), so at most `limit` are taken in any calendar minute whatever the
    number of workers; across a minute's edge up to twice `limit` may go within sixty
    seconds."""
    start = now.replace(second=0, microsecond=0)
    window = RateWindow.objects.filter(key=key, starts_at=start)
    for _try in range(2):
        if window.filter(used__lt=limit).update(used=F("used") + 1):
            return None
        if window.exists():
            break
        RateWindow.objects.bulk_create([RateWindow(key=key, starts_at=start)],
                                       ignore_conflicts=True)
    return start + RATE_WINDOW


def sms_slot(now: datetime) -> datetime | None:
    """A notice SMS's place within NOTICE_SMS_PER_MINUTE (None: it may go now)."""
    limit = settings.NOTICE_SMS_PER_MINUTE
    return rate_slot(SMS_WINDOW, limit, now) if limit > 0 else None


def _send(message: OutboxMessage) -> str:
    if message.channel == OutboxMessage.Channel.SMS:
        return send_sms(message_id=message.pk, mobile=message.recipient, text=message.body)
    if message.channel in (OutboxMessage.Channel.WECOM, OutboxMessage.Channel.DINGTALK):
        channel = message.delivery_channel
        if channel is None or not channel.is_active:
            raise PermanentDeliveryError("the channel was switched off")
        if channel.broken_at:
            raise PermanentDeliveryError(f"the channel is broken: {channel.broken_reason}")
        payload = json.loads(message.body)
        if message.channel == OutboxMessage.Channel.WECOM:
            return send_wecom(url=channel.webhook_url, payload=payload)
        return send_dingtalk(url=channel.webhook_url, secret=channel.secret, payload=payload)
    raise DeliveryError(f"channel {message.channel} is not available yet")


def _claim(message_id: int, now: datetime) -> bool | datetime:
    """Claim a pending message (pending → sending) for this worker. True: claimed; False: not
    pending (sent, dead, or another worker has it); a datetime: its channel has used its rate
    for the window, and the message may go at that time.

    For a rate-limited channel the check and the claim happen under the channel row's lock,
    and each claim records a ChannelAttempt, so two workers cannot both take the window's last
    slot; the lock is released before the network call."""
    row = OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.PENDING) \
        .values("delivery_channel_id", "channel", "purpose").first()
    if row is None:
        return False
    if row["channel"] == OutboxMessage.Channel.SMS and row["purpose"] == "notice":
        # A notice's SMS waits for a slot of the gateway's minute (sign-in codes never do). The
        # slot is taken before the claim: a claim then lost to another worker wastes it, which
        # errs on the slow side only.
        free_at = sms_slot(now)
        if free_at is not None:
            OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.PENDING) \
                .update(next_attempt_at=free_at)
            return free_at
    pending = OutboxMessage.objects.filter(pk=message_id, status=OutboxMessage.Status.PENDING)
    claim = {"status": OutboxMessage.Status.SENDING, "claimed_at": now,
             "attempts": F("attempts") + 1}
    channel_id = row["delivery_channel_id"]
    if channel_id is None or row["channel"] == OutboxMessage.Channel.SMS:
        # No window of its own (SMS is limited as a whole, above): the conditional UPDATE is
        # the whole claim — no transaction, no channel lock (the fan-out's hot path).
        return bool(pending.update(**claim))
    with transaction.atomic():
        channel = DeliveryChannel.objects.select_for_update().filter(pk=channel_id).first()
        limit = channel_rate(channel) if channel else None
        if limit:
            recent = list(ChannelAttempt.objects.filter(channel_id=channel_id,
                                                        at__gt=now - RATE_WINDOW)
                          .order_by("at").values_list("at", flat=True))
            if len(recent) >= limit:
                free_at = recent[len(recent) - limit] + RATE_WINDOW
                pending.update(next_attempt_at=free_at)
                return free_at
        claimed = bool(pending.update(**claim))
        if claimed and limit:
            ChannelAttempt.objects.create(channel_id=channel_id, at=now)
        return claimed


def _defer(message_id: int, when: datetime) -> None:
    from warmstation.outreach.tasks import deliver_outbox_message

    # A backend that cannot defer (the immediate one) refuses run_after; there the message
    # stays pending and outbox_retry_due queues it once it is due.
    if deliver_outbox_message.get_backend().supports_defer:
        deliver_outbox_message.using(run_after=when).enqueue(message_id)


def _channel_broken(channel: DeliveryChannel, reason: str) -> None:
    """A permanent refusal: mark the channel so staff see it (the desk's alert) and stop
    sending to it until they fix it."""
    updated = DeliveryChannel.objects.filter(pk=channel.pk, broken_at=None).update(
        broken_at=timezone.now(), broken_reason=reason[:255])
    if updated:
        logger.error("channel %s (%s) refused for good: %s", channel.pk, channel.kind, reason)
        audit_record("outreach.channel_broken", obj=channel, result="error",
                     detail={"group": channel.group_id, "reason": reason[:255]})


def outbox_deliver(*, message_id: int, now: datetime | None = None) -> OutboxMessage | None:
    """Deliver one message (_deliver); one held back by a rate waits in a deferred task."""
    message, wait_until = _deliver(message_id, now or timezone.now())
    if wait_until is not None:
        _defer(message_id, wait_until)
    return message


def _deliver(message_id: int, now: datetime) -> tuple[OutboxMessage | None, datetime | None]:
    """Try to deliver one message, at least once and normally exactly once.

    Claim, commit, send, record: the claim is a conditional UPDATE (pending → sending), so two
    workers cannot both send it, and no database lock is held during the network call (on
    SQLite a held write lock would stop every other writer for the gateway's timeout). A worker
    that dies mid-send leaves the claim, which outbox_retry_due releases after the claim
    timeout. A sent or dead message is left alone. A message whose channel has used its rate
    for the minute waits (no attempt is counted) until a slot is free: the second value
    returned is when (None otherwise)."""
    claimed = _claim(message_id, now)
    if isinstance(claimed, datetime):
        return OutboxMessage.objects.filter(pk=message_id).first(), claimed
    message = OutboxMessage.objects.select_related("delivery_channel").filter(pk=message_id) \
        .first()
    if not claimed or message is None:
        return message, None
    error, permanent, retry_at = "", False, None
    try:
        provider_id = _send(message)
    except PermanentDeliveryError as exc:
        error, permanent = str(exc)[:1000] or "refused", True
    except RetryLater as exc:
        error = str(exc)[:1000]
        retry_at = timezone.now() + timedelta(seconds=exc.after_s)
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
    elif permanent or message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        message.status = OutboxMessage.Status.DEAD
        message.next_attempt_at = None
        message.last_error = error
        if permanent and message.delivery_channel is not None:
            _channel_broken(message.delivery_channel, error)
    else:
        message.status = OutboxMessage.Status.PENDING
        message.next_attempt_at = retry_at or timezone.now() + backoff(message.attempts)
        message.last_error = error
    message.save(update_fields=["status", "sent_at", "provider_id", "next_attempt_at",
                                "last_error", "body", "claimed_at"])
    if message.status == OutboxMessage.Status.PENDING and message.next_attempt_at:
        _defer(message.pk, message.next_attempt_at)
    return message, None


def outbox_deliver_batch(*, message_ids: Iterable[int]) -> int:
    """Deliver messages one by one (a notice's fan-out); returns how many went out.

    When the SMS minute is used up, the rest of the batch waits for the next minute as ONE
    deferred task (not one task per message, which for a notice to 100,000 would be 100,000
    task rows a minute); a robot's own limit defers just its message."""
    ids = list(message_ids)
    sent = 0
    for i, pk in enumerate(ids):
        message, wait_until = _deliver(pk, timezone.now())
        if wait_until is not None and message is not None \
                and message.channel == OutboxMessage.Channel.SMS:
            _defer_batch(ids[i:], wait_until)
            break
        if wait_until is not None:
            _defer(pk, wait_until)
        sent += bool(message and message.status == OutboxMessage.Status.SENT)
    return sent


def _defer_batch(ids: list[int], when: datetime) -> None:
    from warmstation.outreach.tasks import deliver_outbox_batch

    OutboxMessage.objects.filter(pk__in=ids, status=OutboxMessage.Status.PENDING) \
        .update(next_attempt_at=when)
    # Without deferral (the immediate backend) they stay pending; outbox_retry_due queues them.
    if deliver_outbox_batch.get_backend().supports_defer:
        deliver_outbox_batch.using(run_after=when).enqueue(ids)


def outbox_retry_due(*, now: datetime | None = None) -> int:
    """Re-queue pending messages whose next attempt is due (a safety net if a queued task was
    lost, e.g. the worker's database was restored). Returns how many were queued."""
    from warmstation.outreach.tasks import deliver_outbox_message

    now = now or timezone.now()
    # Claims left by a worker that died mid-send go back to pending (the attempt counts).
    OutboxMessage.objects.filter(status=OutboxMessage.Status.SENDING,
                                 claimed_at__lt=now - claim_timeout()).update(
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
    # The rate windows only need their last minute.
    ChannelAttempt.objects.filter(at__lt=now - 10 * RATE_WINDOW).delete()
    RateWindow.objects.filter(starts_at__lt=now - 10 * RATE_WINDOW).delete()
    return len(ids)


def outbox_retry_dead(*, actor: User, message: OutboxMessage,
                      request: HttpRequest | None = None) -> OutboxMessage:
    """Staff send a dead letter again (after fixing its channel): a fresh set of attempts."""
    from warmstation.outreach.tasks import deliver_outbox_message

    if message.status != OutboxMessage.Status.DEAD:
        raise Conflict(_("只有发送失败的消息可以重发。"), code="not_dead")
    channel = DeliveryChannel.objects.filter(pk=message.delivery_channel_id).first() \
        if message.delivery_channel_id else None
    if channel is not None and (channel.broken_at or not channel.is_active):
        raise Conflict(_("请先修复该渠道（更换机器人地址或密钥）再重发。"), code="channel_broken")
    with transaction.atomic():
        updated = OutboxMessage.objects.filter(pk=message.pk, status=OutboxMessage.Status.DEAD) \
            .update(status=OutboxMessage.Status.PENDING, attempts=0, next_attempt_at=None,
                    claimed_at=None)
        if not updated:
            raise Conflict(_("只有发送失败的消息可以重发。"), code="not_dead")
        audit_record("outreach.message_retry", actor=actor, obj=message, request=request,
                     detail={"channel": message.channel, "last_error": message.last_error[:200]})
        transaction.on_commit(lambda: deliver_outbox_message.enqueue(message.pk))
    message.refresh_from_db()
    return message


# --- groups, members, channels ----------------------------------------------------------------

def group_create(*, actor: User, area: Area, name: str, patch: str = "",
                 request: HttpRequest | None = None) -> Group:
    name = clean_text(name, max_length=64, field="name")
    patch = clean_text(patch, max_length=64, field="patch")
    if not name:
        raise InvalidInput(_("请填写群组名称。"), field="name")
    if area.level not in (Area.Level.COMMUNITY, Area.Level.VILLAGE, Area.Level.STREET,
                          Area.Level.TOWN, Area.Level.TOWNSHIP, Area.Level.AREA):
        raise InvalidInput(_("群组建在街乡或社区（村）上。"), field="area")
    try:
        with transaction.atomic():
            group = Group.objects.create(area=area, name=name, patch=patch, created_by=actor)
    except IntegrityError:
        raise Conflict(_("该区域已有同名群组。"), code="duplicate", field="name") from None
    audit_record("outreach.group_create", actor=actor, obj=group, request=request,
                 detail={"area": area.code, "name": name})
    return group


def group_update(*, actor: User, group: Group, name: str | None = None,
                 patch: str | None = None, is_active: bool | None = None,
                 request: HttpRequest | None = None) -> Group:
    """Rename a group, change its patch, or switch it off (its members keep their inbox; no
    new notice reaches them through it) or on. None leaves a field as it is."""
    changed: dict[str, object] = {}
    if name is not None:
        name = clean_text(name, max_length=64, field="name")
        if not name:
            raise InvalidInput(_("请填写群组名称。"), field="name")
        changed["name"] = name
    if patch is not None:
        changed["patch"] = clean_text(patch, max_length=64, field="patch")
    if is_active is not None:
        changed["is_active"] = is_active
    if not changed:
        return group
    for field, value in changed.items():
        setattr(group, field, value)
    try:
        with transaction.atomic():
            group.save(update_fields=[*changed, "updated_at"])
    except IntegrityError:
        raise Conflict(_("该区域已有同名群组。"), code="duplicate", field="name") from None
    audit_record("outreach.group_update", actor=actor, obj=group, request=request,
                 detail={k: v for k, v in changed.items()})
    return group


def group_join(*, user: User, group: Group, request: HttpRequest | None = None) -> GroupMember:
    """A worker joins by scanning the group's QR code. Joining again changes nothing."""
    if not group.is_active:
        raise Conflict(_("该群组已停用。"), code="inactive")
    member, created = GroupMember.objects.get_or_create(
        group=group, user=user, defaults={"via": GroupMember.Via.QR})
    if created:
        audit_record("outreach.member_join", actor=user, obj=group, request=request)
    return member


def member_add(*, actor: User, group: Group, user: User,
               request: HttpRequest | None = None) -> GroupMember:
    member, created = GroupMember.objects.get_or_create(
        group=group, user=user, defaults={"via": GroupMember.Via.STAFF, "added_by": actor})
    if not created:
        raise Conflict(_("此人已在群组中。"), code="already_member", field="mobile")
    audit_record("outreach.member_add", actor=actor, obj=group, request=request,
                 detail={"user": user.pk})
    return member


def member_remove(*, actor: User, member: GroupMember,
                  request: HttpRequest | None = None) -> None:
    audit_record("outreach.member_remove", actor=actor, obj=member.group, request=request,
                 detail={"user": member.user_id})
    member.delete()


def _key_hint(value: str) -> str:
    return f"…{value[-4:]}" if len(value) >= 8 else "…"


def _check_webhook(kind: str, url: str) -> str:
    url = clean_text(url, max_length=500, field="webhook_url")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise InvalidInput(_("请填写机器人的 Webhook 地址（https://…）。"), field="webhook_url")
    needle = "key=" if kind == DeliveryChannel.Kind.WECOM else "access_token="
    if needle not in (parts.query or ""):
        raise InvalidInput(_("Webhook 地址缺少机器人的密钥参数（企业微信 key=…，钉钉 access_token=…）。"),
                           field="webhook_url")
    return url


def channel_create(*, actor: User, group: Group, kind: str, name: str, webhook_url: str = "",
                   secret: str = "", request: HttpRequest | None = None) -> DeliveryChannel:
    if kind not in DeliveryChannel.Kind.values:
        raise InvalidInput(_("请选择渠道类型。"), field="kind")
    name = clean_text(name, max_length=64, field="name") or str(DeliveryChannel.Kind(kind).label)
    secret = clean_text(secret, max_length=200, field="secret")
    if kind == DeliveryChannel.Kind.SMS:
        if group.channels.filter(kind=kind, is_active=True).exists():
            raise Conflict(_("该群组已开通短信。"), code="duplicate", field="kind")
        webhook_url, secret, hint = "", "", ""
    else:
        webhook_url = _check_webhook(kind, webhook_url)
        hint = _key_hint(webhook_url)
        if kind == DeliveryChannel.Kind.WECOM:
            secret = ""
    channel = DeliveryChannel.objects.create(group=group, kind=kind, name=name,
                                             webhook_url=webhook_url, secret=secret,
                                             key_hint=hint, created_by=actor)
    # Never the key itself in the audit trail.
    audit_record("outreach.channel_create", actor=actor, obj=channel, request=request,
                 detail={"group": group.pk, "kind": kind, "key_hint": hint})
    return channel


def channel_update(*, actor: User, channel: DeliveryChannel, webhook_url: str = "",
                   secret: str = "", is_active: bool | None = None,
                   request: HttpRequest | None = None) -> DeliveryChannel:
    """Replace a robot's address or secret (which clears a broken mark), or switch the channel
    off or on. What was stored is never shown again; an empty field keeps it."""
    fields = ["broken_at", "broken_reason", "is_active", "webhook_url", "secret", "key_hint",
              "updated_at"]
    if webhook_url.strip() and channel.is_robot:
        channel.webhook_url = _check_webhook(channel.kind, webhook_url)
        channel.key_hint = _key_hint(channel.webhook_url)
        channel.broken_at, channel.broken_reason = None, ""
    if secret.strip() and channel.kind == DeliveryChannel.Kind.DINGTALK:
        channel.secret = clean_text(secret, max_length=200, field="secret")
        channel.broken_at, channel.broken_reason = None, ""
    if is_active is not None:
        channel.is_active = is_active
    channel.save(update_fields=fields)
    audit_record("outreach.channel_update", actor=actor, obj=channel, request=request,
                 detail={"key_hint": channel.key_hint, "is_active": channel.is_active,
                         "new_key": bool(webhook_url.strip() or secret.strip())})
    return channel


# --- notices --------------------------------------------------------------------------------

SCHEDULE_AHEAD_MAX = timedelta(days=90)


def notice_link(notice: Notice) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}/notices/{notice.pk}/"


def notice_create(*, actor: User, kind: str, audience: str, title: str, body: str,
                  group: Group | None = None, area: Area | None = None,
                  publish_at: datetime | None = None,
                  request: HttpRequest | None = None) -> Notice:
    """Write a notice to a group, an area or everyone (the caller has checked the actor may
    use the group or area). Now: published in this transaction (inbox rows and outbox
    messages with it). Later: scheduled, published by a deferred task or the periodic job."""
    from warmstation.outreach.tasks import publish_notice

    if kind not in Notice.Kind.values:
        raise InvalidInput(_("请选择通知类型。"), field="kind")
    title = clean_text(title, max_length=80, field="title")
    body = clean_text(body, max_length=5000, multiline=True, field="body")
    if not title:
        raise InvalidInput(_("请填写标题。"), field="title")
    if not body:
        raise InvalidInput(_("请填写内容。"), field="body")
    if audience == Notice.Audience.GROUP:
        if group is None:
            raise InvalidInput(_("请选择群组。"), field="group")
        area = group.area
    elif audience == Notice.Audience.AREA:
        if area is None:
            raise InvalidInput(_("请选择区域。"), field="area")
        group = None
    elif audience == Notice.Audience.ALL:
        area = Area.objects.filter(parent=None).order_by("path").first()
        if area is None or not area_in_scope(actor, area):
            raise InvalidInput(_("只有区级管理员可以发给全体。"), field="audience")
        group = None
    else:
        raise InvalidInput(_("请选择发送对象。"), field="audience")
    now = timezone.now()
    if publish_at is not None and publish_at < now - timedelta(minutes=5):
        raise InvalidInput(_("定时发送的时间已经过去。"), field="publish_at")
    if publish_at is not None and publish_at > now + SCHEDULE_AHEAD_MAX:
        raise InvalidInput(_("定时发送最多提前 90 天。"), field="publish_at")
    later = publish_at is not None and publish_at > now + timedelta(seconds=30)
    with transaction.atomic():
        notice = Notice.objects.create(
            kind=kind, audience=audience, area=area, group=group, title=title, body=body,
            author=actor, publish_at=publish_at if later and publish_at else now,
            status=Notice.Status.SCHEDULED)
        audit_record("outreach.notice_create", actor=actor, obj=notice, request=request,
                     detail={"audience": audience, "area": area.code,
                             "group": group.pk if group else None,
                             "publish_at": notice.publish_at.isoformat()})
        if later:
            when = notice.publish_at
            if publish_notice.get_backend().supports_defer:
                transaction.on_commit(
                    lambda: publish_notice.using(run_after=when).enqueue(notice.pk))
        else:
            notice_publish(notice_id=notice.pk, now=now)
    notice.refresh_from_db()
    return notice


def notice_cancel(*, actor: User, notice: Notice, request: HttpRequest | None = None) -> None:
    if not Notice.objects.filter(pk=notice.pk, status=Notice.Status.SCHEDULED) \
            .update(status=Notice.Status.CANCELLED):
        raise Conflict(_("只能撤销尚未发布的定时通知。"), code="invalid_transition")
    audit_record("outreach.notice_cancel", actor=actor, obj=notice, request=request)


def _subtree(area: Area) -> Q:
    return Q(area__path__startswith=area.path)


def notice_recipients(notice: Notice) -> QuerySet[User, Any]:
    """Who gets the notice in their inbox (their ids): a group's members; for an area, every
    worker who works there and every member of its groups; for everyone, all workers and
    members. Active people only."""
    from warmstation.accounts.models import User

    members = GroupMember.objects.filter(user__is_active=True, group__is_active=True)
    people = User.objects.filter(is_active=True)
    if notice.audience == Notice.Audience.GROUP:
        people = people.filter(pk__in=members.filter(group=notice.group).values("user_id"))
    else:
        workers = WorkerProfile.objects.all()
        if notice.audience == Notice.Audience.AREA:
            members = members.filter(group__area__path__startswith=notice.area.path)
            workers = workers.filter(areas__path__startswith=notice.area.path)
        people = people.filter(Q(pk__in=members.values("user_id"))
                               | Q(pk__in=workers.values("user_id")))
    return people.order_by().values("pk")


def _receipts_write(notice: Notice) -> int:
    """Every recipient's inbox row, in one INSERT … SELECT: a notice to 100,000 people is one
    statement in the database, not 100,000 ids read into Python and written back in batches.
    Returns how many people it reached."""
    sql, params = notice_recipients(notice).query.sql_with_params()
    table = connection.ops.quote_name(NoticeReceipt._meta.db_table)
    with connection.cursor() as cursor:
        # `WHERE 1 = 1`: SQLite needs a WHERE before ON CONFLICT after INSERT … SELECT.
        cursor.execute(f'INSERT INTO {table} ("notice_id", "user_id") '  # noqa: S608
                       f'SELECT %s, r."pk" FROM ({sql}) AS r WHERE 1 = 1 '
                       "ON CONFLICT DO NOTHING", [notice.pk, *params])
    return NoticeReceipt.objects.filter(notice=notice).count()


def notice_channels(notice: Notice) -> list[DeliveryChannel]:
    channels = DeliveryChannel.objects.filter(is_active=True, group__is_active=True) \
        .select_related("group")
    if notice.audience == Notice.Audience.GROUP:
        channels = channels.filter(group=notice.group)
    elif notice.audience == Notice.Audience.AREA:
        channels = channels.filter(group__area__path__startswith=notice.area.path)
    return list(channels.order_by("pk"))


def _sms_opted_out() -> set[int]:
    """People whose latest word on receiving notices (ConsentRecord "notices") is no."""
    latest: dict[int, bool] = {}
    for user_id, granted in ConsentRecord.objects.filter(
            purpose=ConsentRecord.Purpose.NOTICES).order_by("user_id", "-at", "-id") \
            .values_list("user_id", "granted"):
        latest.setdefault(user_id, granted)
    return {u for u, granted in latest.items() if not granted}


def _sms_sent_today(now: datetime) -> dict[str, int]:
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return dict(OutboxMessage.objects.filter(
        channel=OutboxMessage.Channel.SMS, purpose="notice", created_at__gte=start)
        .order_by().values_list("recipient").annotate(n=Count("id")).values_list("recipient", "n"))


def _notice_messages(notice: Notice, now: datetime) -> tuple[list[OutboxMessage], int]:
    """The outbox rows for a notice's channels; and how many SMS were left out by the
    per-person daily cap."""
    link = notice_link(notice)
    # The groups read Chinese whatever language the request or task that posts it has active.
    with translation.override(settings.LANGUAGE_CODE):
        label = str(Notice.Kind(notice.kind).label)
    rows: list[OutboxMessage] = []
    capped = 0
    sms_channels = []
    for channel in notice_channels(notice):
        if channel.kind == DeliveryChannel.Kind.SMS:
            sms_channels.append(channel)
            continue
        payloads = robot_payloads(channel.kind, label=label, title=notice.title,
                                  body=notice.body, link=link)
        for i, payload in enumerate(payloads, start=1):
            rows.append(OutboxMessage(
                channel=channel.kind, recipient=f"{channel.kind}:{channel.pk}",
                body=json.dumps(payload, ensure_ascii=False), purpose="notice",
                delivery_channel=channel, notice=notice, part=i, parts=len(payloads)))
    if sms_channels:
        text = sms_text(title=notice.title, body=notice.body, link=link)
        opted_out = _sms_opted_out()
        sent_today = _sms_sent_today(now)
        cap = settings.NOTICE_SMS_DAILY_CAP
        queued: set[str] = set()
        for channel in sms_channels:
            for user_id, mobile in GroupMember.objects.filter(
                    group_id=channel.group_id, user__is_active=True) \
                    .values_list("user_id", "user__mobile").order_by("pk"):
                if user_id in opted_out or mobile in queued or mobile.startswith("closed"):
                    continue
                if sent_today.get(mobile, 0) >= cap:
                    capped += 1
                    continue
                queued.add(mobile)
                rows.append(OutboxMessage(
                    channel=OutboxMessage.Channel.SMS, recipient=mobile, body=text,
                    purpose="notice", delivery_channel=channel, notice=notice))
    return rows, capped


def notice_publish(*, notice_id: int, now: datetime | None = None) -> bool:
    """Publish a scheduled notice: its inbox rows and outbox messages, in one transaction.
    Idempotent: the conditional UPDATE scheduled → published lets one caller through."""
    now = now or timezone.now()
    with transaction.atomic():
        if not Notice.objects.filter(pk=notice_id, status=Notice.Status.SCHEDULED,
                                     publish_at__lte=now + timedelta(seconds=30)) \
                .update(status=Notice.Status.PUBLISHED, published_at=now):
            return False
        notice = Notice.objects.select_related("area", "group").get(pk=notice_id)
        reached = _receipts_write(notice)
        rows, capped = _notice_messages(notice, now)
        outbox_enqueue_many(rows)
        Notice.objects.filter(pk=notice_id).update(recipient_count=reached)
        audit_record("outreach.notice_publish", obj=notice,
                     detail={"recipients": reached, "messages": len(rows),
                             "sms_capped": capped})
    return True


def notice_publish_due(*, now: datetime | None = None) -> int:
    """The periodic safety net: publish scheduled notices whose time has come."""
    now = now or timezone.now()
    due = list(Notice.objects.filter(status=Notice.Status.SCHEDULED, publish_at__lte=now)
               .values_list("pk", flat=True)[:100])
    return sum(notice_publish(notice_id=pk, now=now) for pk in due)


def notice_mark_read(*, user: User, notice: Notice) -> NoticeReceipt | None:
    """The read receipt: the first time the person opens the notice."""
    receipt = NoticeReceipt.objects.filter(notice=notice, user=user).first()
    if receipt is not None and receipt.read_at is None:
        NoticeReceipt.objects.filter(pk=receipt.pk, read_at=None).update(read_at=timezone.now())
        receipt.refresh_from_db()
    return receipt


def notice_mark_all_read(*, user: User) -> int:
    return NoticeReceipt.objects.filter(user=user, read_at=None,
                                        notice__status=Notice.Status.PUBLISHED) \
        .update(read_at=timezone.now())
