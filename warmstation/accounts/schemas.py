from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Schema

from warmstation.core.masking import mask_mobile
from warmstation.core.schemas import Code, Line, Mobile


class SmsCodeIn(Schema):
    mobile: Mobile = Field(..., examples=["13800138000"])


class SmsCodeOut(Schema):
    expires_at: datetime
    resend_after_s: int


class SmsVerifyIn(Schema):
    mobile: Mobile
    code: Annotated[str, Code(6)]
    token_name: Annotated[str, Line(64)] = ""


class StaffTokenIn(Schema):
    mobile: Mobile
    password: Annotated[str, Line(256, min_length=1)]
    totp: Annotated[str, Code(6)] | Literal[""] = Field("", description="Required for area and district admins")
    token_name: Annotated[str, Line(64)] = ""


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
    expires_in_s: int
    auth_level: int
    registered: bool


class GrantOut(Schema):
    role: str
    role_label: str
    area_code: str
    area_name: str
    department: str | None
    active: bool


class MeOut(Schema):
    id: int
    mobile: str
    real_name: str
    auth_level: int
    roles: list[GrantOut]
    job_type: str | None
    brand: str | None
    area_codes: list[str]


class WorkerOut(Schema):
    id: int
    real_name: str = Field(..., alias="user.real_name")
    mobile_masked: str
    job_type: str
    brand: str | None
    area_codes: list[str]

    @staticmethod
    def resolve_mobile_masked(obj) -> str:
        return mask_mobile(obj.user.mobile)

    @staticmethod
    def resolve_brand(obj) -> str | None:
        return obj.brand.name_zh if obj.brand else None

    @staticmethod
    def resolve_area_codes(obj) -> list[str]:
        return [a.code for a in obj.areas.all()]


class RevealOut(Schema):
    id: int
    mobile: str
