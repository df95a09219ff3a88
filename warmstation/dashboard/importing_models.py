"""What a spreadsheet import keeps between the upload, its check, the decision to import and
the import itself (the check and the import run as background tasks: importing_services)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from warmstation.core.models import TimeStampedModel


class ImportBatch(TimeStampedModel):
    """One uploaded spreadsheet of base data (基础数据导入: workers, stations or merchants) and
    its row-by-row validation report, kept so that a refresh does not lose it and the person
    can decide afterwards: import every row (only when the file is clean) or only the valid
    ones. `data` holds the uploaded bytes until the check has read them; `rows` holds each
    row's cleaned values until the batch is imported or discarded (then only the report, with
    masked mobiles, stays).

    checking → validated → importing → imported, or → discarded; failed when the check could
    not read a stored file (`failure` says why). While importing, `rows_done` of the `rows`
    are written (the cursor a resumed task starts from)."""

    class Kind(models.TextChoices):
        WORKERS = "workers", _("小哥")
        STATIONS = "stations", _("驿站")
        MERCHANTS = "merchants", _("合作商户")

    class Status(models.TextChoices):
        CHECKING = "checking", _("检查中")
        VALIDATED = "validated", _("待导入")
        IMPORTING = "importing", _("导入中")
        IMPORTED = "imported", _("已导入")
        DISCARDED = "discarded", _("已放弃")
        FAILED = "failed", _("无法处理")

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
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The sign-in level (accounts.AuthLevel) the uploader and the importer had in their
    # request: the tasks act for them at that level, with their role grants as they are then
    # (a role revoked meanwhile no longer covers the rows).
    created_level = models.PositiveSmallIntegerField(default=0)
    applied_level = models.PositiveSmallIntegerField(default=0)
    # The upload itself, until the check has read it (≤ importing.MAX_BYTES): in the row, so
    # that the web process and the task worker need no shared disk and an accepted file is
    # stored in the same transaction as its batch.
    data = models.BinaryField(null=True, blank=True, editable=False)
    # Progress of the running step: rows checked, or rows of `rows` written (the import's
    # cursor, committed with each chunk's writes); progress_at is when it last moved, so the
    # periodic job can tell a lost task from a working one.
    rows_done = models.PositiveIntegerField(default=0)  # … of progress_of
    progress_of = models.PositiveIntegerField(default=0)
    progress_at = models.DateTimeField(null=True, blank=True)
    # {"zh", "en"} when the batch failed.
    failure = models.JSONField(default=dict, blank=True)
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

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.CHECKING, self.Status.IMPORTING)

    @property
    def progress_percent(self) -> int:
        """rows_done of progress_of (every data row while checking, the rows to write while
        importing)."""
        total = self.progress_of
        return min(100, round(100 * self.rows_done / total)) if total else 0
