"""The district view's roll-ups: figures per area, week or month, and metric, so the dashboard
reads a few hundred rows whatever the size of the tables behind them; and the area boundaries
a district may supply (there is no free boundary data for Fangshan's streets and towns)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# The spreadsheet imports (base data) keep their model beside their code; Django finds it here.
from warmstation.dashboard.importing_models import ImportBatch as ImportBatch


class Figure(models.Model):
    """One figure of the district dashboard (底数): e.g. "check-ins at stations in 长阳镇, week of
    2026-11-23". Each row is the total of its area AND everything below it, so a viewer reads
    exactly the rows of the areas they were granted (and of their children, for a breakdown),
    never a sum over the whole table. Rebuilt from the source tables by a periodic task
    (dashboard/rollups.py); never edited by hand."""

    class Grain(models.TextChoices):
        WEEK = "w", _("周")
        MONTH = "m", _("月")

    area = models.ForeignKey("areas.Area", on_delete=models.CASCADE, related_name="+")
    grain = models.CharField(max_length=1, choices=Grain.choices)
    period = models.DateField()  # the week's Monday or the month's 1st, Asia/Shanghai
    metric = models.CharField(max_length=24)
    dim = models.CharField(max_length=48, blank=True)  # "" total, "brand:sf", "job:courier" …
    value = models.BigIntegerField(default=0)
    # How many people or records the value rests on: a figure with n below the suppression
    # threshold is not shown (core/suppression.py).
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["area", "grain", "metric", "dim", "period"], name="figure_unique"
            ),
        ]
        indexes = [models.Index(fields=["grain", "period"], name="figure_grain_period")]

    def __str__(self) -> str:
        return f"{self.area_id} {self.grain}{self.period} {self.metric}{self.dim and ':'}{self.dim}"


class FigureRefresh(models.Model):
    """When the figures were last recomputed (one row), so the periodic job knows whether it is
    due and the dashboard can say how fresh its numbers are."""

    refreshed_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"figures refreshed {self.refreshed_at}"


class AreaBoundary(models.Model):
    """The outline of an area as the district supplied it (a GeoJSON file), stored as WGS-84
    GeoJSON whatever the file's system (GCJ-02 is converted on import). Optional: the maps
    shade h3 cells and draw these only where they exist."""

    area = models.OneToOneField("areas.Area", on_delete=models.CASCADE, related_name="boundary")
    geometry = models.JSONField()  # a GeoJSON Polygon or MultiPolygon, [lng, lat] WGS-84
    source_crs = models.CharField(max_length=8, default="wgs84")
    source_name = models.CharField(max_length=128, blank=True)
    loaded_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"boundary of {self.area_id}"
