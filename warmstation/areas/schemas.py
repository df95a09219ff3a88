from typing import Annotated

from ninja import Field, Schema

from warmstation.areas.models import Area, AreaContact
from warmstation.areas.selectors import area_card
from warmstation.core.schemas import Line, Phone


class ContactOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str
    phone: str
    address: str
    hours: str
    area_code: str = Field(..., alias="area.code")

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return obj.get_kind_display()


class AreaOut(Schema):
    id: int
    code: str
    name_zh: str
    name_en: str
    level: str
    parent_code: str | None
    center_lat: float | None
    center_lng: float | None

    @staticmethod
    def resolve_parent_code(obj) -> str | None:
        return obj.parent.code if obj.parent_id else None


class AreaDetailOut(AreaOut):
    card: list[ContactOut]

    @staticmethod
    def resolve_card(obj: Area) -> list[AreaContact]:
        return area_card(obj)


class ContactIn(Schema):
    kind: Annotated[str, Line(24)]
    name: Annotated[str, Line(128, min_length=1)]
    # core.inputs.normalise_phone, the same check as the page's (the service runs it too).
    phone: Phone
    address: Annotated[str, Line(255)] = ""
    hours: Annotated[str, Line(64)] = ""


class ContactPatch(Schema):
    name: Annotated[str, Line(128, min_length=1)] | None = None
    phone: Phone | None = None
    address: Annotated[str, Line(255)] | None = None
    hours: Annotated[str, Line(64)] | None = None
