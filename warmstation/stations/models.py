import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from warmstation.core.inputs import PhoneField
from warmstation.core.models import TimeStampedModel


class Amenity(models.Model):
    """One thing a station offers on the spot (充电, 无线网络, 饮用水 …): a managed list, so a new
    kind of amenity is data, not code."""

    code = models.SlugField(max_length=32, unique=True)
    name_zh = models.CharField(max_length=32)
    name_en = models.CharField(max_length=64, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("设施")
        verbose_name_plural = _("设施")

    def __str__(self) -> str:
        return self.name_zh


class ResourceItem(models.Model):
    """One entry of the district's service-resource list (资源服务清单, 24 items in the
    document), offered at the stations linked to it."""

    code = models.SlugField(max_length=32, unique=True)
    name_zh = models.CharField(max_length=64)
    name_en = models.CharField(max_length=128, blank=True)
    provider = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_zh


class ServiceItem(models.Model):
    """One entry of the service-item list (服务项目清单, 20 items): what a steward can record as
    a service given."""

    code = models.SlugField(max_length=32, unique=True)
    name_zh = models.CharField(max_length=64)
    name_en = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_zh


class GoodsItem(models.Model):
    """A kind of daily good kept in a station's cabinet (日常用品服务柜): given away (water,
    masks) or lent and returned (umbrellas, power banks)."""

    code = models.SlugField(max_length=32, unique=True)
    name_zh = models.CharField(max_length=32)
    name_en = models.CharField(max_length=64, blank=True)
    unit = models.CharField(max_length=8, default="个")
    lendable = models.BooleanField(default=False)
    loan_hours = models.PositiveSmallIntegerField(default=24)

    class Meta:
        ordering = ["-lendable", "code"]

    def __str__(self) -> str:
        return self.name_zh


class Station(TimeStampedModel):
    """A warm station (暖心驿站): a place where workers can rest, charge, drink, warm food, read,
    borrow an umbrella. Run by one steward (服务管家) under the "5个1" platform. Location is
    WGS-84; `cell_s`/`cell_l` are its grid cells (core.geo) for index-backed nearby search."""

    class Kind(models.TextChoices):
        PARTY_MASS = "party_mass", _("党群服务中心驿站")
        UNION_24H = "union_24h", _("工会24小时暖心驿站")
        UNION_CORNER = "union_corner", _("暖心角")
        YOUTH = "youth", _("小哥加油站")
        MALL = "mall", _("商圈爱心驿站")
        WOMEN = "women", _("女性微家")
        SERVICE_POINT = "service_point", _("服务站点")
        SERVICE_CENTRE = "service_centre", _("新就业群体综合服务中心")

    name = models.CharField(max_length=128)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="stations")
    address = models.CharField(max_length=255)
    lat = models.FloatField()
    lng = models.FloatField()
    cell_s = models.BigIntegerField(db_index=True, editable=False)
    cell_l = models.BigIntegerField(db_index=True, editable=False)
    phone = PhoneField(max_length=32, blank=True)
    steward = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="stewarded_stations")
    operator = models.CharField(max_length=64, blank=True, help_text="区总工会、团区委…")
    description = models.TextField(max_length=2000, blank=True)
    is_24h = models.BooleanField(default=False)
    temporarily_closed = models.BooleanField(default=False)
    closed_note = models.CharField(max_length=128, blank=True)
    is_active = models.BooleanField(default=True)
    amenities = models.ManyToManyField(Amenity, blank=True, related_name="stations")
    resources = models.ManyToManyField(ResourceItem, blank=True, related_name="stations")
    services = models.ManyToManyField(ServiceItem, blank=True, related_name="stations")
    checkin_token = models.CharField(max_length=32, unique=True, editable=False)
    # The id other directories know it by (HSDS); our integer pk stays internal.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(lat__gte=-90, lat__lte=90, lng__gte=-180,
                                               lng__lte=180), name="station_lat_lng_range"),
        ]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def new_checkin_token() -> str:
        return secrets.token_urlsafe(12)


class StationPhoto(models.Model):
    """A picture of the station (its door, its cabinet), re-encoded without metadata."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to="stations/%Y/%m/")
    thumbnail = models.FileField(upload_to="stations/%Y/%m/")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    caption = models.CharField(max_length=64, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.station} photo {self.pk}"


class OpeningHours(models.Model):
    """One opening span on a weekday (0 = Monday). `closes` <= `opens` means the span runs past
    midnight into the next day (e.g. 18:00–02:00)."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField()
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["weekday", "opens"]
        constraints = [models.CheckConstraint(condition=Q(weekday__lte=6),
                                              name="openinghours_weekday_range")]

    def __str__(self) -> str:
        return f"{self.weekday} {self.opens:%H:%M}-{self.closes:%H:%M}"


class HoursException(models.Model):
    """A date whose hours differ from the week (holidays, 春节): closed all day, or open for one
    span instead of the weekday's."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="exceptions")
    date = models.DateField()
    closed = models.BooleanField(default=True)
    opens = models.TimeField(null=True, blank=True)
    closes = models.TimeField(null=True, blank=True)
    note = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["station", "date"],
                                               name="hoursexception_unique_date")]

    def __str__(self) -> str:
        return f"{self.station} {self.date}"


class StationContact(models.Model):
    """A line of the station's service contact table (服务联络表)."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="contacts")
    role = models.CharField(max_length=64)
    name = models.CharField(max_length=64)
    phone = PhoneField(max_length=32)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.role} {self.name}"


# The most one stock movement may move (receive, give out or count), page and API alike.
STOCK_DELTA_MAX = 10_000


class Stock(models.Model):
    """How many of one good a station's cabinet holds now (for lendable goods: how many are on
    the shelf, not lent). The database refuses a negative quantity, so no race can lend or give
    out more than there is."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="stock")
    item = models.ForeignKey(GoodsItem, on_delete=models.PROTECT, related_name="+")
    quantity = models.IntegerField(default=0)
    low_threshold = models.PositiveIntegerField(default=3)

    class Meta:
        ordering = ["station", "item"]
        constraints = [
            models.UniqueConstraint(fields=["station", "item"], name="stock_unique_item"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stock_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.station} · {self.item} × {self.quantity}"

    @property
    def is_low(self) -> bool:
        return self.quantity <= self.low_threshold


class StockMovement(models.Model):
    """One change to a cabinet's stock, kept as a history (in, out, lent, returned, counted)."""

    class Reason(models.TextChoices):
        IN = "in", _("入库")
        OUT = "out", _("发放")
        LEND = "lend", _("借出")
        RETURN = "return", _("归还")
        ADJUST = "adjust", _("盘点调整")

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="movements")
    item = models.ForeignKey(GoodsItem, on_delete=models.PROTECT, related_name="+")
    delta = models.IntegerField()
    reason = models.CharField(max_length=8, choices=Reason.choices)
    note = models.CharField(max_length=128, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                              related_name="+")
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.item} {self.delta:+d} ({self.reason})"


class Loan(models.Model):
    """A shared item (umbrella, power bank) lent to a worker, due back by `due_at`."""

    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="loans")
    item = models.ForeignKey(GoodsItem, on_delete=models.PROTECT, related_name="+")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="loans")
    lent_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField()
    returned_at = models.DateTimeField(null=True, blank=True)
    lent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                related_name="+")

    class Meta:
        ordering = ["-lent_at"]
        indexes = [models.Index(fields=["station", "returned_at", "due_at"])]

    def __str__(self) -> str:
        return f"{self.item} → {self.worker} ({self.station})"


class ServiceRecord(models.Model):
    """A line of the station's ledger of services (服务台账): a service a steward gave, or a
    worker's check-in by scanning the station's QR code."""

    class Kind(models.TextChoices):
        SERVICE = "service", _("服务")
        CHECK_IN = "check_in", _("到站签到")

    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="records")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="station_visits")
    # Who was served when they have no account (a name or "匿名").
    worker_label = models.CharField(max_length=64, blank=True)
    service = models.ForeignKey(ServiceItem, null=True, blank=True, on_delete=models.PROTECT)
    note = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(db_index=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["station", "at"])]

    def __str__(self) -> str:
        return f"{self.station} {self.kind} {self.at:%Y-%m-%d}"
