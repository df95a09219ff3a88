from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from warmstation.core.inputs import PhoneField
from warmstation.core.models import TimeStampedModel


class Merchant(TimeStampedModel):
    """A partner merchant (合作商户): a restaurant giving discounted meal packages (爱心套餐), a
    barbershop or a public bathhouse taking points (积分换服务). Location is WGS-84 with its grid
    cells (core.geo) for the shared nearby search; its points are settled to the ledger account
    `merchant:<id>`."""

    class Kind(models.TextChoices):
        RESTAURANT = "restaurant", _("餐饮")
        BARBERSHOP = "barbershop", _("理发店")
        BATHHOUSE = "bathhouse", _("公共浴池")
        OTHER = "other", _("其他")

    name = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="merchants")
    address = models.CharField(max_length=255)
    lat = models.FloatField()
    lng = models.FloatField()
    cell_s = models.BigIntegerField(db_index=True, editable=False)
    cell_l = models.BigIntegerField(db_index=True, editable=False)
    contact_name = models.CharField(max_length=64, blank=True)
    phone = PhoneField(max_length=32, blank=True)
    # Daily opening hours; closes <= opens runs past midnight (core.schedule rules).
    opens = models.TimeField()
    closes = models.TimeField()
    temporarily_closed = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(lat__gte=-90, lat__lte=90, lng__gte=-180,
                                               lng__lte=180), name="merchant_lat_lng_range"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def settlement_code(self) -> str:
        return f"merchant:{self.pk}"


class MerchantStaff(models.Model):
    """A person who works the counter of a merchant (商户店员/老板): they verify codes and edit
    offers of this merchant only. The merchant scope of a `merchant` RoleGrant."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="merchant_links")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="staff")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "merchant"],
                                               name="merchant_staff_unique")]
        verbose_name = _("商户店员")
        verbose_name_plural = _("商户店员")

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant}"


class Offer(TimeStampedModel):
    """What a merchant offers workers: a discounted meal package (爱心套餐: price against the
    normal price, served at set hours) or a service priced in points (a haircut, a bath)."""

    class Kind(models.TextChoices):
        MEAL = "meal", _("爱心套餐")
        POINTS = "points", _("积分兑换")

    class Eligibility(models.TextChoices):
        ALL = "all", _("所有新就业群体")
        COURIER = "courier", _("快递员")
        FOOD = "food_delivery", _("外卖骑手")
        RIDE = "ride_hailing", _("网约车司机")

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="offers")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    title = models.CharField(max_length=64)
    description = models.CharField(max_length=255, blank=True)
    price = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    normal_price = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    points = models.PositiveIntegerField(null=True, blank=True)
    serve_from = models.TimeField(null=True, blank=True)
    serve_until = models.TimeField(null=True, blank=True)
    eligibility = models.CharField(max_length=16, choices=Eligibility.choices,
                                   default=Eligibility.ALL)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["merchant", "kind", "title"]
        constraints = [
            models.CheckConstraint(condition=~Q(kind="meal") | Q(price__isnull=False, price__gte=0),
                                   name="offer_meal_has_price"),
            models.CheckConstraint(condition=~Q(kind="points") | Q(points__gt=0),
                                   name="offer_points_has_points"),
        ]

    def __str__(self) -> str:
        return f"{self.merchant} · {self.title}"


class Redemption(models.Model):
    """A one-time code (核销码) a worker shows at the counter for one offer, and its redemption
    by the merchant. Only hashes of the 6 digits and of the QR token are stored. A code is
    redeemed at most once: redeeming is a conditional UPDATE on status='issued'. For a points
    offer a hold on the worker's points is placed at issue and posted at redemption."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("待核销")
        REDEEMED = "redeemed", _("已核销")
        EXPIRED = "expired", _("已过期")
        CANCELLED = "cancelled", _("已取消")

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="redemptions")
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="redemptions")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="redemptions")
    digits_hash = models.CharField(max_length=64)
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ISSUED)
    issued_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    redeemed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    redeemed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    # What was offered when the code was issued (the offer may change later).
    title = models.CharField(max_length=64)
    price = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    normal_price = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    points = models.PositiveIntegerField(null=True, blank=True)
    hold = models.OneToOneField("points.Hold", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="redemption")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["merchant", "status", "redeemed_at"]),
                   models.Index(fields=["status", "expires_at"])]
        constraints = [
            # Six digits identify a live code within its merchant: never two live at once.
            models.UniqueConstraint(fields=["merchant", "digits_hash"],
                                    condition=Q(status="issued"),
                                    name="redemption_live_digits_unique"),
            models.CheckConstraint(condition=~Q(status="redeemed") | Q(redeemed_at__isnull=False),
                                   name="redemption_redeemed_has_time"),
        ]

    def __str__(self) -> str:
        return f"{self.title} [{self.status}]"
