"""Handbooks are generated in the background and served from storage: a change to a street's
stations, meal partners, offers or contacts marks its handbook stale (in the change's
transaction) and queues its regeneration after commit; the periodic job catches any whose task
was lost. Generating writes both PDFs to storage, then swaps them in."""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation

from warmstation.areas.models import Area
from warmstation.documents import handbook as layout
from warmstation.documents.models import Handbook
from warmstation.documents.selectors import handbook_data, handbook_street

logger = logging.getLogger("warmstation.documents")


def handbook_mark_stale(*, area: Area | None) -> None:
    """Something in `area`'s street changed: its handbook must be regenerated."""
    street = handbook_street(area) if area is not None else None
    if street is None:
        return
    from warmstation.documents.tasks import regenerate_handbook

    handbook, _ = Handbook.objects.get_or_create(street=street)
    if Handbook.objects.filter(pk=handbook.pk, stale_since=None).update(
            stale_since=timezone.now()):
        street_id = street.pk
        transaction.on_commit(lambda: regenerate_handbook.enqueue(street_id))


EDITIONS = (("zh-hans", "plain", "booklet", ""), ("en", "plain_en", "booklet_en", "-en"))


def handbook_edition(language: str | None) -> tuple[str, str]:
    """The stored fields (plain, booklet) of the edition for a request's language."""
    return ("plain_en", "booklet_en") if (language or "").startswith("en") \
        else ("plain", "booklet")


def handbook_generate(*, street: Area) -> Handbook:
    """Build both PDFs, in Chinese and in English, from the street's data now and store them.
    (Labels only differ; the data is read once per language, as the labels of kinds and hours
    are rendered while it is read.)"""
    started = timezone.now()
    handbook, _ = Handbook.objects.get_or_create(street=street)
    fields = [f for _lang, plain, booklet, _s in EDITIONS for f in (plain, booklet)]
    old = [getattr(handbook, f).name for f in fields if getattr(handbook, f)]
    stamp = started.strftime("%Y%m%d%H%M%S")
    page_count = 0
    for language, plain_field, booklet_field, suffix in EDITIONS:
        with translation.override(language):
            data = handbook_data(street)
            pages = layout.handbook_pages(data)
            plain = layout.plain_pdf(data, pages)
            booklet = layout.booklet_pdf(data, pages)
        getattr(handbook, plain_field).save(f"{street.code}-{stamp}{suffix}-a5.pdf",
                                            ContentFile(plain), save=False)
        getattr(handbook, booklet_field).save(f"{street.code}-{stamp}{suffix}-booklet.pdf",
                                              ContentFile(booklet), save=False)
        page_count = page_count or len(pages)  # the Chinese edition's (the page shows it)
    handbook.pages = page_count
    handbook.data_as_of = started
    handbook.generated_at = timezone.now()
    # A change that came in while generating keeps the handbook stale (it is regenerated again).
    Handbook.objects.filter(pk=handbook.pk, stale_since__lte=started).update(stale_since=None)
    handbook.save(update_fields=[*fields, "pages", "data_as_of", "generated_at"])
    kept = {getattr(handbook, f).name for f in fields}
    for name in old:
        if name and name not in kept:
            handbook.plain.storage.delete(name)
    logger.info("handbook %s: %d pages", street.code, page_count)
    handbook.refresh_from_db()
    return handbook


def handbook_refresh_due(*, now: datetime | None = None) -> int:
    """The periodic safety net: regenerate every stale handbook."""
    ids = list(Handbook.objects.exclude(stale_since=None).values_list("street_id", flat=True)[:20])
    for street in Area.objects.filter(pk__in=ids):
        handbook_generate(street=street)
    return len(ids)
