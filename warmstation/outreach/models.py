import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from warmstation.core.crypto import EncryptedTextField
from warmstation.core.models import TimeStampedModel


def _join_token() -> str:
    return secrets.token_urlsafe(16)


class Group(TimeStampedModel):
    """A contact group of one community or one patch (片区) of it: the workers who work there,
    who join by scanning the group's QR code (its `join_token`) or are added by staff. A group
    may have external channels (a WeCom or DingTalk group robot, SMS) that its notices are
    pushed to."""

    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="groups")
    name = models.CharField(max_length=64)
    patch = models.CharField(max_length=64, blank=True)  # 片区, free text within the community
    join_token = models.CharField(max_length=32, unique=True, default=_join_token)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["area__path", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["area", "name"],
                                               name="outreach_group_unique_name")]

    def __str__(self) -> str:
        return f"{self.area} · {self.name}"


class GroupMember(models.Model):
    class Via(models.TextChoices):
        QR = "qr", _("扫码加入")
        STAFF = "staff", _("工作人员添加")

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="group_memberships")
    via = models.CharField(max_length=8, choices=Via.choices)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group", "-joined_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["group", "user"],
                                               name="outreach_member_unique")]

    def __str__(self) -> str:
        return f"{self.group} ← {self.user_id}"


class DeliveryChannel(TimeStampedModel):
    """Where a group's notices are pushed outside the app. A robot's webhook address carries
    its key, and a DingTalk robot has a signing secret: both are stored encrypted and shown
    again only as `key_hint` (the last four characters)."""

    class Kind(models.TextChoices):
        WECOM = "wecom", _("企业微信群机器人")
        DINGTALK = "dingtalk", _("钉钉群机器人")
        SMS = "sms", _("短信")

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="channels")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=64)
    webhook_url = EncryptedTextField(blank=True, default="")
    secret = EncryptedTextField(blank=True, default="")
    key_hint = models.CharField(max_length=16, blank=True)
    is_active = models.BooleanField(default=True)
    # A permanent refusal (WeCom 93000: the key is wrong or the robot was removed): staff must
    # fix the channel; nothing more is sent to it until they do.
    broken_at = models.DateTimeField(null=True, blank=True)
    broken_reason = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["group", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.group} · {self.get_kind_display()} · {self.name}"

    @property
    def is_robot(self) -> bool:
        return self.kind in (self.Kind.WECOM, self.Kind.DINGTALK)


class ChannelAttempt(models.Model):
    """One request made to a rate-limited channel (a robot allows 20 a minute): the sliding
    window the outbox counts before it sends. Old rows are pruned by the periodic job."""

    channel = models.ForeignKey(DeliveryChannel, on_delete=models.CASCADE,
                                related_name="attempts")
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["channel", "at"])]

    def __str__(self) -> str:
        return f"{self.channel_id} @ {self.at:%H:%M:%S}"


class RateWindow(models.Model):
    """One minute of a rate shared by every worker process (the SMS gateway's per-minute rate
    for notices): `used` slots taken of that minute, counted by one conditional UPDATE each, so
    no lock is held and two workers cannot both take the last slot. Old rows are pruned by the
    periodic job."""

    key = models.CharField(max_length=32)
    starts_at = models.DateTimeField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "starts_at"],
                                               name="outreach_rate_window_unique")]

    def __str__(self) -> str:
        return f"{self.key} @ {self.starts_at:%H:%M}: {self.used}"


class Notice(TimeStampedModel):
    """A work tip, service information, a call for volunteers or policy news, to one group, to
    everyone of an area, or to everyone. Published now or at `publish_at`: publishing writes
    each recipient's inbox row and the outbox messages of the external channels in one
    transaction."""

    class Kind(models.TextChoices):
        TIP = "tip", _("工作提示")
        SERVICE = "service", _("服务信息")
        VOLUNTEER = "volunteer", _("志愿招募")
        POLICY = "policy", _("政策资讯")

    class Audience(models.TextChoices):
        GROUP = "group", _("一个群组")
        AREA = "area", _("一个区域")
        ALL = "all", _("全体")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("定时待发")
        PUBLISHED = "published", _("已发布")
        CANCELLED = "cancelled", _("已撤销")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    audience = models.CharField(max_length=8, choices=Audience.choices)
    # The group's area, the chosen area, or the district for everyone: who may manage it.
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="notices")
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="notices")
    title = models.CharField(max_length=80)
    body = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    publish_at = models.DateTimeField(db_index=True)
    published_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, db_index=True)
    recipient_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-publish_at", "-id"]
        constraints = [models.CheckConstraint(
            condition=~Q(audience="group") | Q(group__isnull=False),
            name="outreach_notice_group_audience_has_group")]

    def __str__(self) -> str:
        return self.title


class NoticeReceipt(models.Model):
    """A notice in one person's inbox: unread until they open it (the read receipt)."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="receipts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="notice_receipts")
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-notice__publish_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["notice", "user"],
                                               name="outreach_receipt_unique")]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"{self.notice_id} → {self.user_id}"


class OutboxMessage(models.Model):
    """A message to send outside the system (an SMS, a group robot's post), written in the same
    transaction as the change that causes it and delivered by the task worker with retries and
    backoff (the transactional outbox). A rolled-back change leaves no row, so nothing is sent
    for it; an accepted row is kept until delivered or visibly dead."""

    class Channel(models.TextChoices):
        SMS = "sms", _("短信")
        WEBHOOK = "webhook", _("群机器人")
        WECOM = "wecom", _("企业微信群机器人")
        DINGTALK = "dingtalk", _("钉钉群机器人")

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        DEAD = "dead", _("发送失败")

    channel = models.CharField(max_length=16, choices=Channel.choices)
    recipient = models.CharField(max_length=255)
    # An SMS's text; a robot's JSON message ({"msgtype": …}), posted as it is.
    body = models.TextField()
    # What the message is about (e.g. "sign-in code"); sensitive bodies are blanked once sent.
    purpose = models.CharField(max_length=32, blank=True)
    sensitive = models.BooleanField(default=False)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When a worker claimed it for sending; a claim older than the claim timeout is a crashed
    # worker's, and the message is retried.
    claimed_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=128, blank=True)
    # A group's channel (robot or SMS) it goes through, and the notice it carries.
    delivery_channel = models.ForeignKey(DeliveryChannel, null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="messages")
    notice = models.ForeignKey(Notice, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="messages")
    # A notice too long for its channel is sent in parts: "part of parts" (1 of 1 normally).
    part = models.PositiveSmallIntegerField(default=1)
    parts = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient} [{self.status}]"
