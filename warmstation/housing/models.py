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


class Survey(TimeStampedModel):
    """A worker's answers to the housing survey (住房摸排): how and where they live now, what
    it costs, how far they ride to work, who lives with them, what they need. One per worker,
    updated when they answer again. Its brand and job type are copied from the worker's
    profile at answering time, so the aggregates stay what was answered."""

    class Housing(models.TextChoices):
        RENT_ALONE = "rent_alone", _("独自租房")
        RENT_SHARED = "rent_shared", _("与人合租")
        DORMITORY = "dormitory", _("单位宿舍")
        STATION = "station", _("住在站点")
        OWN = "own", _("自有住房")
        OTHER = "other", _("其他")

    worker = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                  related_name="housing_survey")
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    brand = models.ForeignKey("accounts.Brand", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    job_type = models.CharField(max_length=16)
    housing = models.CharField(max_length=16, choices=Housing.choices)
    rent = models.PositiveIntegerField(null=True, blank=True)  # yuan a month
    commute_minutes = models.PositiveSmallIntegerField()
    household = models.PositiveSmallIntegerField(default=1)  # people living together
    need_cheaper = models.BooleanField(default=False)
    need_closer = models.BooleanField(default=False)
    need_dormitory = models.BooleanField(default=False)
    need_family = models.BooleanField(default=False)
    need_short_stay = models.BooleanField(default=False)
    note = models.CharField(max_length=500, blank=True)

    NEEDS = ("need_cheaper", "need_closer", "need_dormitory", "need_family", "need_short_stay")

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(rent__isnull=True) | Q(rent__lte=100_000),
                                   name="survey_rent_range"),
            models.CheckConstraint(condition=Q(commute_minutes__lte=600),
                                   name="survey_commute_range"),
            models.CheckConstraint(condition=Q(household__gte=1, household__lte=50),
                                   name="survey_household_range"),
        ]

    def __str__(self) -> str:
        return f"survey {self.worker_id} {self.housing}"


class Resource(TimeStampedModel):
    """Housing gathered for workers (房源) by the housing office: converted flats (改建公寓),
    dormitories (集体宿舍), idle factory buildings (闲置厂房) and commercial space (商业用房) —
    rooms or beds, rent, conditions, contact, availability, location."""

    class Kind(models.TextChoices):
        CONVERTED_FLAT = "converted_flat", _("改建公寓")
        DORMITORY = "dormitory", _("集体宿舍")
        FACTORY = "factory", _("闲置厂房")
        COMMERCIAL = "commercial", _("商业用房")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=128)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+")
    address = models.CharField(max_length=255)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    rooms = models.PositiveIntegerField(default=0)
    beds = models.PositiveIntegerField(default=0)
    available = models.PositiveIntegerField(default=0)  # rooms (or beds) free now
    rent = models.PositiveIntegerField(null=True, blank=True)  # yuan a month per room or bed
    conditions = models.CharField(max_length=1000, blank=True)
    contact_name = models.CharField(max_length=64, blank=True)
    contact_phone = models.CharField(max_length=32, blank=True)
    available_from = models.DateField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["area", "name"]

    def __str__(self) -> str:
        return self.name


class RentalApplication(TimeStampedModel):
    """A worker's rental-intention application (租赁意向申请) for one resource, moved by the
    housing office: submitted → reviewing → viewing (看房) → signed (签订租赁意向), or declined,
    or withdrawn by the worker."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("已提交")
        REVIEWING = "reviewing", _("审核中")
        VIEWING = "viewing", _("已安排看房")
        SIGNED = "signed", _("已签订意向")
        DECLINED = "declined", _("未能安排")
        WITHDRAWN = "withdrawn", _("已撤回")

    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="applications")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="rental_applications")
    people = models.PositiveSmallIntegerField(default=1)
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    office_note = models.CharField(max_length=500, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "worker"],
                condition=Q(status__in=["submitted", "reviewing", "viewing"]),
                name="rental_one_open_application_per_resource"),
            models.CheckConstraint(condition=Q(people__gte=1, people__lte=20),
                                   name="rental_people_range"),
        ]

    def __str__(self) -> str:
        return f"{self.resource} · {self.worker_id} [{self.status}]"
