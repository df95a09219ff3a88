from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """A message to send outside the system (an SMS, later a group-chat webhook post), written
    in the same transaction as the change that causes it and delivered by the task worker with
    retries and backoff (the transactional outbox). A rolled-back change leaves no row, so
    nothing is sent for it; an accepted row is kept until delivered or visibly dead."""

    class Channel(models.TextChoices):
        SMS = "sms", _("短信")
        WEBHOOK = "webhook", _("群机器人")

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        DEAD = "dead", _("发送失败")

    channel = models.CharField(max_length=16, choices=Channel.choices)
    recipient = models.CharField(max_length=255)
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
    # When a worker claimed it for sending; a claim older than CLAIM_TIMEOUT is a crashed
    # worker's, and the message is retried.
    claimed_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient} [{self.status}]"
