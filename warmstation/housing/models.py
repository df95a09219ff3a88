"""Housing (住宿难): the family short-stay flat (小哥爱心公寓) and its bookings."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from warmstation.core.models import TimeStampedModel


class Equipment(models.Model):
    """A thing a flat is equipped with (冰箱, 洗衣机, 电磁炉 …): one catalogue for every flat."""

    code = models.SlugField(max_length=32, unique=True)
    name_zh = models.CharField(max_length=32)
    name_en = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_zh

    def name(self, language: str | None = None) -> str:
        return self.name_en if (language or "").startswith("en") and self.name_en else self.name_zh


class Flat(TimeStampedModel):
    """A family short-stay flat (小哥爱心公寓), e.g. 长阳镇's: a worker's visiting family may stay
    in it for free for a few nights over the holidays. It is kept by the steward of `station`
    (who checks guests in and out) and overseen by the admins and the housing office of its
    area. Booked by the night: see Booking and FlatNight."""

    name = models.CharField(max_length=128)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="flats")
    station = models.ForeignKey("stations.Station", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="flats")
    address = models.CharField(max_length=255)
    description = models.CharField(max_length=1000, blank=True)
    equipment = models.ManyToManyField(Equipment, blank=True, related_name="flats")
    max_guests = models.PositiveSmallIntegerField(default=4)
    max_nights = models.PositiveSmallIntegerField(default=7)
    # How many bookings one worker may hold per season (a quarter of the calendar year: Q1
    # holds the Spring Festival, Q3 the summer holidays, Q4 the National Day week).
    max_bookings_per_season = models.PositiveSmallIntegerField(default=1)
    # How far ahead a stay may start (days).
    horizon_days = models.PositiveSmallIntegerField(default=90)
    contact_phone = models.CharField(max_length=32, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(max_guests__gte=1), name="flat_max_guests"),
            models.CheckConstraint(condition=Q(max_nights__gte=1), name="flat_max_nights"),
        ]

    def __str__(self) -> str:
        return self.name


class Booking(TimeStampedModel):
    """A worker's booking of a flat for their visiting family (探亲短住), free of charge: the
    nights check_in .. check_out - 1 (the check-out day is free for the next guest). While it
    holds nights (booked, checked in) each night is one FlatNight row under a unique
    constraint, so the database itself refuses a second booking of the same night."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("已预订")
        CHECKED_IN = "checked_in", _("已入住")
        CHECKED_OUT = "checked_out", _("已退房")
        CANCELLED = "cancelled", _("已取消")

    flat = models.ForeignKey(Flat, on_delete=models.PROTECT, related_name="bookings")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="flat_bookings")
    check_in = models.DateField()
    check_out = models.DateField()
    # The season (YYYY-Qn) of the check-in day, for the per-season limit.
    season = models.CharField(max_length=8, db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.BOOKED)
    note = models.CharField(max_length=500, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-check_in", "-id"]
        indexes = [models.Index(fields=["flat", "status", "check_in"]),
                   models.Index(fields=["worker", "season", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(check_out__gt=F("check_in")),
                                   name="booking_check_out_after_check_in"),
        ]

    def __str__(self) -> str:
        return f"{self.flat} {self.check_in}→{self.check_out} [{self.status}]"

    @property
    def nights(self) -> int:
        return (self.check_out - self.check_in).days

    @property
    def holds_nights(self) -> bool:
        return self.status in (self.Status.BOOKED, self.Status.CHECKED_IN)


class Visitor(models.Model):
    """One of the family members a booking is for: their name and relation to the worker."""

    class Relation(models.TextChoices):
        SPOUSE = "spouse", _("配偶")
        CHILD = "child", _("子女")
        PARENT = "parent", _("父母")
        SIBLING = "sibling", _("兄弟姐妹")
        OTHER = "other", _("其他亲属")

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="visitors")
    name = models.CharField(max_length=64)
    relation = models.CharField(max_length=12, choices=Relation.choices)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.relation})"


class FlatNight(models.Model):
    """One night of one flat held by one booking. The unique (flat, night) constraint is the
    guarantee against double booking on PostgreSQL and SQLite alike: two bookings of the same
    night cannot both commit, whatever the concurrency. Cancelling (or checking out early)
    deletes the rows, so the nights are free at once."""

    flat = models.ForeignKey(Flat, on_delete=models.CASCADE, related_name="+")
    night = models.DateField()
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="held_nights")

    class Meta:
        ordering = ["flat", "night"]
        constraints = [models.UniqueConstraint(fields=["flat", "night"],
                                               name="flatnight_one_booking_per_night")]

    def __str__(self) -> str:
        return f"{self.flat_id} {self.night}"
