from django.db import models
from django.utils.translation import gettext_lazy as _

from warmstation.core.models import TimeStampedModel


class Department(TimeStampedModel):
    """A government department or body that receives and handles workers' needs (职能部门):
    区住建委, 区人力社保局, 区总工会, the city-management command centre, a police station…
    `area` is where it has authority (the district for 区 bodies, a street for its office)."""

    class Kind(models.TextChoices):
        DISTRICT_BODY = "district_body", _("区直部门")
        MASS_ORG = "mass_org", _("群团组织")
        COMMAND_CENTRE = "command_centre", _("指挥中心")
        POLICE = "police", _("公安")
        STREET_OFFICE = "street_office", _("街乡办事处")
        REGULATOR = "regulator", _("行业监管")

    code = models.SlugField(max_length=48, unique=True)
    name_zh = models.CharField(max_length=64)
    name_en = models.CharField(max_length=128, blank=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="departments")
    phone = models.CharField(max_length=32, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_zh
