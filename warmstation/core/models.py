import json

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from warmstation.core.masking import mask_mobile


class TimeStampedModel(models.Model):
    """Base for rows that record when they were made and last changed."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuditSubject(models.Model):
    """Who an audit line is about when no account acted (a sign-in code asked for, a failed
    sign-in by an unknown number): the erasable half of the audit trail.

    Audit rows are append-only (the database refuses UPDATE), so they must never hold a
    person's mobile or name, masked or not: a closed account could not be erased from them.
    A row names its actor by user id (the user row is anonymised on close) or points here; this
    row holds a keyed hash of the mobile (to find the same person again) and the masked form
    shown on the audit page. Closing the account blanks both, and every audit line that pointed
    here then reads "已注销" while still counting as an event."""

    key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    label = models.CharField(max_length=32, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.label or f"#{self.pk}"


class AuditPurge(models.Model):
    """The one sanctioned way to delete audit rows: the retention job (core.retention) writes a
    row here inside its own database transaction, deletes rows older than the retention
    period that it has already exported, and removes its row before committing. The
    append-only trigger lets a DELETE through only while such a row exists and only for rows
    older than 180 days (migration 0005); on PostgreSQL the row is never visible to anyone
    else, and on SQLite there is only one writer."""

    started_at = models.DateTimeField()
    cutoff = models.DateTimeField()

    def __str__(self) -> str:
        return f"audit purge before {self.cutoff:%Y-%m-%d}"


class AuditEvent(models.Model):
    """One line of the audit trail (审计日志): who did what to which object, from where, with
    what result. Append-only: the database refuses UPDATE and DELETE (triggers in migrations
    0002 and 0005), so even a bug or a console session cannot rewrite history. Rows older than
    AUDIT_RETENTION_DAYS (at least 6 months) are exported, then deleted, by the retention job
    (core.retention) — the one path the triggers let through."""

    class Result(models.TextChoices):
        OK = "ok", _("成功")
        DENIED = "denied", _("拒绝")
        FAILED = "failed", _("失败")

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    # A label for an actor that is not a person ("system", a job's name). Never a mobile or a
    # name: people are `actor` (a user id) or `subject` (erasable, see AuditSubject). Rows
    # written before migration 0003 had a masked mobile here; 0003 moved those to subjects.
    actor_label = models.CharField(max_length=64, blank=True)
    # No database constraint and DO_NOTHING: audit rows are never updated, whatever happens to
    # the subject (erasure blanks it in place; it is not deleted).
    subject = models.ForeignKey(AuditSubject, null=True, blank=True, on_delete=models.DO_NOTHING,
                                db_constraint=False, related_name="+")
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    result = models.CharField(max_length=8, choices=Result.choices, default=Result.OK)
    ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.result}"

    @property
    def who(self) -> str:
        """Who this line is about, rendered now rather than stored: a masked mobile while the
        account (or the unregistered number) exists, "已注销" once it is closed."""
        actor = self.actor if self.actor_id else None
        if actor is not None:
            if getattr(actor, "closed_at", None):
                return f"{gettext('已注销')} #{actor.pk}"
            return mask_mobile(actor.mobile)
        if self.subject_id:
            try:
                subject = self.subject
            except AuditSubject.DoesNotExist:
                subject = None
            return subject.label if subject and subject.label else gettext("已注销")
        return self.actor_label

    @property
    def detail_json(self) -> str:
        return json.dumps(self.detail, ensure_ascii=False, sort_keys=True)
