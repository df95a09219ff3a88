from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from warmstation.core.inputs import PhoneField
from warmstation.core.models import TimeStampedModel


class Area(TimeStampedModel):
    """An administrative area: the district (区), a street or town (街道/乡镇, and 燕山地区 which
    groups four streets), or a community or village (社区/村). `path` is the chain of codes from
    the root, so "this area and everything below it" is one indexed prefix query."""

    class Level(models.TextChoices):
        DISTRICT = "district", _("区")
        AREA = "area", _("地区")
        STREET = "street", _("街道")
        TOWN = "town", _("镇")
        TOWNSHIP = "township", _("乡")
        COMMUNITY = "community", _("社区")
        VILLAGE = "village", _("村")

    code = models.CharField(max_length=32, unique=True)
    name_zh = models.CharField(max_length=64)
    name_en = models.CharField(max_length=128, blank=True)
    level = models.CharField(max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=512, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    center_lat = models.FloatField(null=True, blank=True)
    center_lng = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["path"]
        indexes = [models.Index(fields=["level"])]

    def __str__(self) -> str:
        return self.name_zh

    def name(self, language: str | None = None) -> str:
        return self.name_en if (language or "").startswith("en") and self.name_en else self.name_zh

    def clean(self) -> None:
        if self.parent_id and self.parent_id == self.pk:
            raise ValidationError("区域不能是自己的上级。 An area cannot be its own parent.")
        if "/" in self.code:
            raise ValidationError("区域代码不能含 “/”。 An area code cannot contain '/'.")

    def compute_path(self) -> None:
        """Set path and depth from the parent; services call this before saving (no hidden flow
        in save())."""
        if self.parent is None:
            self.path, self.depth = f"/{self.code}/", 0
        else:
            self.path, self.depth = f"{self.parent.path}{self.code}/", self.parent.depth + 1


class AreaContact(TimeStampedModel):
    """One line of an area's service card (暖心卡片): its service hotline, service steward
    (服务管家), police station (派出所), community office, or nearest party-mass service centre
    (党群服务中心). A community without its own line of a kind shows its street's."""

    class Kind(models.TextChoices):
        HOTLINE = "hotline", _("服务热线")
        STEWARD = "steward", _("服务管家")
        POLICE = "police", _("派出所")
        COMMUNITY_OFFICE = "community_office", _("社区联系方式")
        SERVICE_CENTRE = "service_centre", _("党群服务中心")

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    name = models.CharField(max_length=128)
    phone = PhoneField(max_length=32, blank=True)
    address = models.CharField(max_length=255, blank=True)
    hours = models.CharField(max_length=64, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["area", "kind", "id"]
        constraints = [
            models.UniqueConstraint(fields=["area", "kind", "name"], name="areacontact_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.area} · {self.get_kind_display()} · {self.name}"
