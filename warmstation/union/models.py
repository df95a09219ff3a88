"""Trade-union membership (入会): a worker's application with its own consent, the district
union's review, the member roll with member numbers, and on-site batch enrolment at events."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from warmstation.core.models import TimeStampedModel

CONSENT_VERSION = "2026-12"


class JobType(models.TextChoices):
    COURIER = "courier", _("快递员")
    FOOD = "food_delivery", _("外卖骑手")
    RIDE = "ride_hailing", _("网约车司机")
    OTHER = "other", _("其他")


class MembershipConsent(models.Model):
    """A person's consent, or its withdrawal, to the union processing their details for
    membership (PIPL art. 14) — separate from the terms they accepted at registration, and
    kept as a history, never edited (as accounts.ConsentRecord). Given online by the worker, or
    on paper at an enrolment event and recorded by the steward (`method=on_site`)."""

    class Method(models.TextChoices):
        ONLINE = "online", _("线上勾选")
        ON_SITE = "on_site", _("现场书面同意")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="union_consents")
    member = models.ForeignKey("Member", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="consents")
    granted = models.BooleanField()
    version = models.CharField(max_length=16, default=CONSENT_VERSION)
    method = models.CharField(max_length=8, choices=Method.choices, default=Method.ONLINE)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"union {'+' if self.granted else '-'} {self.at:%Y-%m-%d}"


class MembershipApplication(TimeStampedModel):
    """A worker's application to join the trade union (入会申请): their details as they gave
    them, reviewed by the union staff of their area (区总工会 or a town's union)."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待审核")
        APPROVED = "approved", _("已入会")
        REJECTED = "rejected", _("未通过")
        WITHDRAWN = "withdrawn", _("已撤回")

    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="union_applications")
    real_name = models.CharField(max_length=64)
    mobile = models.CharField(max_length=32)
    employer = models.CharField(max_length=128)
    brand = models.ForeignKey("accounts.Brand", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    job_type = models.CharField(max_length=16, choices=JobType.choices)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    station = models.ForeignKey("stations.Station", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    consent = models.ForeignKey(MembershipConsent, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One application under review per person at a time.
            models.UniqueConstraint(fields=["applicant"], condition=Q(status="submitted"),
                                    name="union_one_open_application"),
        ]

    def __str__(self) -> str:
        return f"{self.real_name} [{self.status}]"


class EnrolmentBatch(TimeStampedModel):
    """An on-site enrolment event (现场集中入会), e.g. 窦店镇's union with 北京银行 for 申通's
    couriers: who ran it, where, with which partner, and the row-by-row report of the list
    entered or uploaded (every row enrolled, already a member, or refused with its reason)."""

    title = models.CharField(max_length=128)
    held_on = models.DateField()
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    station = models.ForeignKey("stations.Station", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    partner = models.CharField(max_length=64, blank=True)
    brand = models.ForeignKey("accounts.Brand", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    rows_total = models.PositiveIntegerField(default=0)
    rows_enrolled = models.PositiveIntegerField(default=0)
    rows_refused = models.PositiveIntegerField(default=0)
    # [{"row": n, "name": masked, "mobile": masked, "result": enrolled|member|refused,
    #   "message_zh", "message_en", "number"}] — masked: the report is for the event's records.
    report = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.held_on} {self.title}"


class Member(TimeStampedModel):
    """A trade-union member (工会会员) on the district's roll, with a member number. Linked to
    the person's account when they have one; enrolled by an approved application or on site
    in a batch. One membership per mobile number."""

    class Source(models.TextChoices):
        APPLICATION = "application", _("线上申请")
        BATCH = "batch", _("现场集中入会")

    number = models.CharField(max_length=16, unique=True, null=True, blank=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="union_member")
    real_name = models.CharField(max_length=64)
    mobile = models.CharField(max_length=32, unique=True, null=True, blank=True)
    employer = models.CharField(max_length=128, blank=True)
    brand = models.ForeignKey("accounts.Brand", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    job_type = models.CharField(max_length=16, choices=JobType.choices, default=JobType.COURIER)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="union_members")
    station = models.ForeignKey("stations.Station", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="union_members")
    source = models.CharField(max_length=12, choices=Source.choices)
    application = models.OneToOneField(MembershipApplication, null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="member")
    batch = models.ForeignKey(EnrolmentBatch, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="members")
    enrolled_at = models.DateTimeField()
    enrolled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["number"]
        indexes = [models.Index(fields=["area"]), models.Index(fields=["enrolled_at"])]

    def __str__(self) -> str:
        return f"{self.number} {self.real_name}"


def member_number(pk: int) -> str:
    """The member number printed on the card: 房山工会 + the roll's sequence."""
    return f"FSGH{pk:08d}"
