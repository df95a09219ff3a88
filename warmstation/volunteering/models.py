"""Volunteering (志愿服务): tasks with their place and shifts, sign-ups with a waitlist,
attendance (check-in/out, hours, confirmation and the points it pays), errands (跑腿) for
elderly, sick and disabled residents, the 四个一 activities, and the volunteer-service records
(志愿服务记录证明) that can be verified by their number."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from warmstation.core.crypto import EncryptedTextField
from warmstation.core.models import TimeStampedModel


def new_token() -> str:
    return secrets.token_urlsafe(16)


class VolunteerProfile(TimeStampedModel):
    """A worker as a volunteer: their volunteer number (志愿者编号, printed on the record) and
    whether community staff have verified them for errands in residents' homes (跑腿核验:
    identity seen, real name on file). Made on first sign-up."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="volunteer_profile")
    number = models.CharField(max_length=24, unique=True)
    errand_verified_at = models.DateTimeField(null=True, blank=True)
    errand_verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                           on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return self.number


class VolunteerTask(TimeStampedModel):
    """A volunteer task (志愿任务) a community or street runs: checkpoint duty (长阳镇's 社区检查岗),
    policy publicity, a 行走的哨兵 patrol (拱辰街道), an event. It happens at one place, which
    has a check-in radius and a QR code (the `checkin_token` in its URL) posted there."""

    class Kind(models.TextChoices):
        CHECKPOINT = "checkpoint", _("卡口值守")
        PUBLICITY = "publicity", _("政策宣传")
        PATROL = "patrol", _("巡查（行走的哨兵）")
        EVENT = "event", _("活动保障")

    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT,
                             related_name="volunteer_tasks")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(max_length=64)
    description = models.TextField(max_length=2000, blank=True)
    place_name = models.CharField(max_length=128)
    lat = models.FloatField()
    lng = models.FloatField()
    checkin_radius_m = models.PositiveIntegerField(default=200)
    checkin_token = models.CharField(max_length=32, unique=True, default=new_token,
                                     editable=False)
    # The published earning rule a confirmed shift pays (points.EarningRule.action).
    points_action = models.SlugField(max_length=48, default="volunteer_shift")
    organiser = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(checkin_radius_m__gte=20,
                                               checkin_radius_m__lte=5000),
                                   name="volunteer_task_radius_bounded"),
        ]

    def __str__(self) -> str:
        return self.title


class Shift(TimeStampedModel):
    """One shift (班次) of a task: from `starts_at` to `ends_at` (an overnight shift simply ends
    the next day), with `capacity` places. `placed` counts the sign-ups holding a place; the
    database refuses it above the capacity, so no race can overfill a shift. Cancelling is
    allowed until `cancel_deadline`."""

    task = models.ForeignKey(VolunteerTask, on_delete=models.CASCADE, related_name="shifts")
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    capacity = models.PositiveSmallIntegerField()
    placed = models.PositiveSmallIntegerField(default=0)
    cancel_deadline = models.DateTimeField()
    note = models.CharField(max_length=128, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)  # attendance closed by the tick

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(placed__lte=F("capacity")),
                                   name="volunteer_shift_not_overfilled"),
            models.CheckConstraint(condition=Q(capacity__gte=1, capacity__lte=500),
                                   name="volunteer_shift_capacity_bounded"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")),
                                   name="volunteer_shift_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    @property
    def full(self) -> bool:
        return self.placed >= self.capacity

    def open_for_checkin(self, now: datetime) -> bool:
        return self.starts_at - CHECKIN_EARLY <= now <= self.ends_at


# A worker may check in this long before the shift starts (service is counted from the start).
CHECKIN_EARLY = timedelta(minutes=60)


class Signup(TimeStampedModel):
    """A worker's sign-up for a shift (报名), with what happened at it: placed or on the
    waitlist (候补, in order of `waitlisted_at`), cancelled, checked in and out, a no-show
    (爽约); then the organiser's confirmation of the hours and the points it paid (exactly once:
    the ledger's idempotency key is this row's id)."""

    class Status(models.TextChoices):
        PLACED = "placed", _("已报名")
        WAITLIST = "waitlist", _("候补")
        CANCELLED = "cancelled", _("已取消")
        NO_SHOW = "no_show", _("未到岗")

    class Method(models.TextChoices):
        QR = "qr", _("扫码")
        ORGANISER = "organiser", _("组织者登记")

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="signups")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="volunteer_signups")
    status = models.CharField(max_length=12, choices=Status.choices)
    waitlisted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    check_in_method = models.CharField(max_length=12, choices=Method.choices, blank=True)
    check_out_method = models.CharField(max_length=12, choices=Method.choices, blank=True)
    # The check-out was forgotten: closed at the shift's end by the tick, flagged for review.
    checkout_capped = models.BooleanField(default=False)
    minutes = models.PositiveIntegerField(default=0)  # service counted, set at check-out
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    points = models.PositiveIntegerField(default=0)
    points_transaction_id = models.BigIntegerField(null=True, blank=True)
    points_note = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["shift__starts_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shift", "worker"], name="volunteer_signup_once"),
            models.CheckConstraint(condition=Q(checked_out_at__isnull=True)
                                   | Q(checked_in_at__isnull=False),
                                   name="volunteer_signup_out_after_in"),
        ]
        indexes = [models.Index(fields=["shift", "status", "waitlisted_at"])]

    def __str__(self) -> str:
        return f"{self.worker_id} @ {self.shift_id} [{self.status}]"

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)


class Errand(TimeStampedModel):
    """An errand (跑腿) for an elderly, sick or disabled resident (孤、老、病、残), as 燕山's
    workers run them: posted by community staff for a resident, or asked by the resident. Who
    and where the resident is (name, address, phone) is kept encrypted and shown only to the
    worker who took the errand, until it is done; it is wiped once the errand is confirmed."""

    class Status(models.TextChoices):
        OPEN = "open", _("待接单")
        TAKEN = "taken", _("已接单")
        DONE = "done", _("已完成待确认")
        CONFIRMED = "confirmed", _("已确认")
        CANCELLED = "cancelled", _("已取消")

    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="errands")
    title = models.CharField(max_length=64)  # what: 买菜、取药、代缴水电费
    details = models.TextField(max_length=1000, blank=True)  # what to buy
    where = models.CharField(max_length=128, blank=True)  # where to buy (a shop, a market)
    due_at = models.DateTimeField(null=True, blank=True)  # when
    budget = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    resident = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="errands_asked")
    resident_name = EncryptedTextField(blank=True, default="")
    resident_address = EncryptedTextField(blank=True, default="")
    resident_phone = EncryptedTextField(blank=True, default="")
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    taker = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="errands_taken")
    taken_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    minutes = models.PositiveIntegerField(default=0)
    spent = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    points = models.PositiveIntegerField(default=0)
    points_note = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(status__in=["taken", "done", "confirmed"])
                                   | Q(taker__isnull=False), name="errand_taken_has_taker"),
        ]

    def __str__(self) -> str:
        return self.title


class Activity(TimeStampedModel):
    """A "四个一" activity: a visit (走访慰问), a civic initiative (文明倡议), a care delivery
    (关爱传递: water, masks, power banks handed out — taken from a station's cabinet when they
    come from one) or a batch of shared services (共享服务), with how many people it reached.
    The workers who took part earn the published rule's points."""

    class Kind(models.TextChoices):
        VISIT = "visit", _("走访慰问")
        INITIATIVE = "initiative", _("文明倡议")
        CARE = "care_delivery", _("关爱传递")
        SHARED = "shared_service", _("共享服务")

    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="activities")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(max_length=64)
    held_on = models.DateField()
    people_reached = models.PositiveIntegerField()
    note = models.TextField(max_length=1000, blank=True)
    station = models.ForeignKey("stations.Station", null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    goods = models.JSONField(default=list, blank=True)  # [{"item": code, "quantity": n}]
    participants = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True,
                                          related_name="activities")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return self.title


class Issuer(models.Model):
    """An organisation that issues volunteer-service records (记录证明出具单位): its name, the
    responsible person (负责人), the clerk (经办人) and a contact. `qualified` says whether it
    is a volunteer-service organisation entitled to certify records (民政部令第67号); when it
    is not, the record says it is a platform record, not a certificate."""

    area = models.ForeignKey("areas.Area", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    name = models.CharField(max_length=128)
    responsible_person = models.CharField(max_length=32)
    clerk = models.CharField(max_length=32)
    contact = models.CharField(max_length=64)
    qualified = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.name


class ServiceRecord(models.Model):
    """A volunteer-service record (志愿服务记录证明) as issued: a snapshot of the hours and
    services at issue time, under a unique record number that the public verification page
    looks up. A revoked record stays, saying so."""

    number = models.CharField(max_length=32, unique=True)
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="volunteer_records")
    issuer = models.ForeignKey(Issuer, on_delete=models.PROTECT, related_name="records")
    masked_name = models.CharField(max_length=64)
    minutes = models.PositiveIntegerField()
    services = models.JSONField(default=list)
    issued_at = models.DateTimeField(auto_now_add=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return self.number
