"""A street's handbook follows its data: any save or delete of a station (or its hours,
services, amenities), a meal partner or its offers marks it stale."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save


def _area_of(instance: Any) -> Any:
    for path in ("area", "station.area", "merchant.area"):
        obj = instance
        try:
            for part in path.split("."):
                obj = getattr(obj, part)
        except Exception:  # noqa: S112 — a half-deleted row: try the next path
            continue
        if obj is not None:
            return obj
    return None


def _changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    from warmstation.documents.services import handbook_mark_stale

    handbook_mark_stale(area=_area_of(instance))


def connect() -> None:
    from warmstation.benefits.models import Merchant, Offer
    from warmstation.stations.models import OpeningHours, Station

    for model in (Station, OpeningHours, Merchant, Offer):
        post_save.connect(_changed, sender=model, dispatch_uid=f"handbook-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"handbook-del-{model.__name__}")
    for through in (Station.services.through, Station.amenities.through):
        m2m_changed.connect(lambda sender, instance, **kw: _changed(sender, instance, **kw)
                            if kw.get("action", "").startswith("post_") else None,
                            sender=through, weak=False, dispatch_uid=f"handbook-m2m-{through}")
