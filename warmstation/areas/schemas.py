from ninja import Field, Schema


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


class ContactIn(Schema):
    kind: str = Field(..., max_length=24)
    name: str = Field(..., min_length=1, max_length=128)
    phone: str = Field("", max_length=32, pattern=r"^[0-9+\-() ]*$")
    address: str = Field("", max_length=255)
    hours: str = Field("", max_length=64)


class ContactPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=128)
    phone: str | None = Field(None, max_length=32, pattern=r"^[0-9+\-() ]*$")
    address: str | None = Field(None, max_length=255)
    hours: str | None = Field(None, max_length=64)
