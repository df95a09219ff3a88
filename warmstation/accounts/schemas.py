from datetime import datetime

from ninja import Field, Schema

from warmstation.core.masking import mask_mobile

MOBILE = r"^(\+86)?1[3-9][0-9]{9}$"


class SmsCodeIn(Schema):
    mobile: str = Field(..., pattern=MOBILE, examples=["13800138000"])


class SmsCodeOut(Schema):
    expires_at: datetime
    resend_after_s: int


class SmsVerifyIn(Schema):
    mobile: str = Field(..., pattern=MOBILE)
    code: str = Field(..., pattern=r"^[0-9]{6}$")
    token_name: str = Field("", max_length=64)


class StaffTokenIn(Schema):
    mobile: str = Field(..., pattern=MOBILE)
    password: str = Field(..., max_length=256)
    totp: str = Field("", max_length=6, description="Required for area and district admins")
    token_name: str = Field("", max_length=64)


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
