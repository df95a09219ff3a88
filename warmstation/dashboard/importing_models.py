"""What a spreadsheet import keeps between the upload and the decision to import."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from warmstation.core.models import TimeStampedModel


class ImportBatch(TimeStampedModel):
    """One uploaded spreadsheet of base data (基础数据导入: workers, stations or merchants) and
    its row-by-row validation report, kept so that a refresh does not lose it and the person
    can decide afterwards: import every row (only when the file is clean) or only the valid
    ones. `rows` holds each row's cleaned values until the batch is imported or discarded
    (then only the report, with masked mobiles, stays)."""

    class Kind(models.TextChoices):
        WORKERS = "workers", _("小哥")
        STATIONS = "stations", _("驿站")
        MERCHANTS = "merchants", _("合作商户")

    class Status(models.TextChoices):
        VALIDATED = "validated", _("待导入")
        IMPORTED = "imported", _("已导入")
        DISCARDED = "discarded", _("已放弃")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.VALIDATED)
    filename = models.CharField(max_length=128)
    sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_invalid = models.PositiveIntegerField(default=0)
    # What importing would do (at validation) and then what it did (after import).
    rows_create = models.PositiveIntegerField(default=0)
    rows_update = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    only_valid = models.BooleanField(default=False)
    imported_at = models.DateTimeField(null=True, blank=True)
    # [{"row", "label", "action": create|update|unchanged|error, "changes": [column…],
    #   "errors": [{"column", "zh", "en"}]}]
    report = models.JSONField(default=list, blank=True)
    # [{"row", "values": {…}}] for the rows without errors, until imported or discarded.
    rows = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("数据导入")
        verbose_name_plural = _("数据导入")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.filename}"

    @property
    def is_clean(self) -> bool:
        return self.rows_invalid == 0 and self.rows_total > 0
