"""Writes to areas and their contacts. Callers have already checked scope through
areas.scoping.access_area_by_id(..., for_change=True)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from warmstation.areas.models import Area, AreaContact
from warmstation.core.audit import audit_record
from warmstation.core.errors import Conflict, InvalidInput
from warmstation.core.inputs import clean_text, normalise_phone

if TYPE_CHECKING:
    from warmstation.accounts.models import User


def area_upsert(*, code: str, name_zh: str, level: str, parent: Area | None, name_en: str = "",
                center_lat: float | None = None, center_lng: float | None = None) -> Area:
    """Create or update an area by code (imports and demo data); path follows the parent."""
    area = Area.objects.filter(code=code).first() or Area(code=code)
    area.name_zh, area.name_en, area.level, area.parent = name_zh, name_en, level, parent
    area.center_lat, area.center_lng = center_lat, center_lng
    area.compute_path()
    area.full_clean()
    area.save()
    return area


def _check_kind(kind: str) -> None:
    if kind not in AreaContact.Kind.values:
        raise InvalidInput(_("联系方式类型无效，可选：%(kinds)s。"),
                           params={"kinds": ", ".join(AreaContact.Kind.values)},
                           code="invalid_kind", field="kind")


CONTACT_MAX = {"name": 128, "phone": 32, "address": 255, "hours": 64}  # the columns' max_length


def _contact_fields(**fields: str) -> dict[str, str]:
    """A contact line's fields as stored: a name and a phone are required (a line nobody can
    call is no help on the service card), the phone a real number (core/inputs.py)."""
    clean = {k: clean_text(v, max_length=CONTACT_MAX[k], field=k) for k, v in fields.items()}
    if "name" in clean and not clean["name"]:
        raise InvalidInput(_("请填写名称。"), code="missing_name", field="name")
    if "phone" in clean:
        if not clean["phone"]:
            raise InvalidInput(_("请填写电话。"), code="missing_phone", field="phone")
        clean["phone"] = normalise_phone(clean["phone"])
    return clean


def contact_create(*, actor: User, area: Area, kind: str, name: str, phone: str = "",
                   address: str = "", hours: str = "", request: HttpRequest | None = None) -> AreaContact:
    _check_kind(kind)
    fields = _contact_fields(name=name, phone=phone, address=address, hours=hours)
    with transaction.atomic():
        if AreaContact.objects.filter(area=area, kind=kind, name=fields["name"]).exists():
            raise Conflict(_("该区域已有同名联系方式。"), code="duplicate_contact", field="name")
        contact = AreaContact.objects.create(area=area, kind=kind, **fields)
        audit_record("area_contact.create", actor=actor, obj=contact, request=request,
                     detail={"area": area.code, "kind": kind})
    return contact


def contact_update(*, actor: User, contact: AreaContact, request: HttpRequest | None = None, **changes: str | None) -> AreaContact:
    changed = _contact_fields(**{k: v for k, v in changes.items() if v is not None})
    if not changed:
        return contact
    with transaction.atomic():
        before = {k: getattr(contact, k) for k in changed}
        for key, value in changed.items():
            setattr(contact, key, value)
        contact.full_clean()
        contact.save()
        audit_record("area_contact.update", actor=actor, obj=contact, request=request,
                     detail={"before": before, "after": changed})
    return contact


def contact_delete(*, actor: User, contact: AreaContact, request: HttpRequest | None = None) -> None:
    with transaction.atomic():
        audit_record("area_contact.delete", actor=actor, obj=contact, request=request,
                     detail={"area": contact.area.code, "kind": contact.kind, "name": contact.name})
        contact.delete()
