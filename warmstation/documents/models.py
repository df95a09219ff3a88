from django.db import models


class Handbook(models.Model):
    """The stored service handbook of one street: the two PDFs (plain A5, A5 booklet imposed on
    A4), in Chinese and in English (the same pages with English labels), as generated from the
    data at `data_as_of`. `stale_since` is set when a station, meal
    partner, offer or contact of the street changes; the background task regenerates it."""

    street = models.OneToOneField("areas.Area", on_delete=models.CASCADE,
                                  related_name="handbook")
    plain = models.FileField(upload_to="handbooks/", blank=True)
    booklet = models.FileField(upload_to="handbooks/", blank=True)
    plain_en = models.FileField(upload_to="handbooks/", blank=True)
    booklet_en = models.FileField(upload_to="handbooks/", blank=True)
    pages = models.PositiveSmallIntegerField(default=0)
    data_as_of = models.DateTimeField(null=True, blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)
    stale_since = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["street__path"]

    def __str__(self) -> str:
        return f"{self.street} ({self.pages} pages)"
