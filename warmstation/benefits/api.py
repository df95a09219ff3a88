"""Partner merchants, offers, codes and redemptions. Reading active partners is open to anyone
signed in; a worker gets codes; a merchant's staff redeem codes at their own counter and see
only their own redemptions; admins manage the partners of their area."""

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Literal

from django.utils import timezone
from ninja import Field, Header, Router, Schema, Status
from ninja.pagination import paginate

from warmstation.accounts.models import Role
from warmstation.areas.scoping import access_area_by_code
from warmstation.benefits import selectors, services
from warmstation.benefits.models import Merchant, Offer
from warmstation.benefits.permissions import (
    access_merchant_by_id,
    access_offer_by_id,
    redemption_visible_q,
)
from warmstation.core.pagination import Rows
from warmstation.core.permissions import require_roles
from warmstation.core.schemas import (
    AUTH_ERRORS,
    ClockTime,
    Day,
    Id,
    Line,
    Points,
    Price,
    ProblemOut,
    Text,
)

router = Router(tags=["benefits"])
ADMINS = (Role.AREA_ADMIN, Role.DISTRICT_ADMIN)
KEY_PATTERN = r"^[!-~]{1,128}$"  # visible ASCII, as idempotency.check_key requires


def _money(data: dict) -> dict:
    for k in ("price", "normal_price"):
        if data.get(k) is not None:
            data[k] = Decimal(str(round(data[k], 2)))
    return data


class OfferOut(Schema):
    id: int
    merchant_id: int
    kind: str
    title: str
    description: str
    price: Decimal | None
    normal_price: Decimal | None
    points: int | None
    serve_from: time | None
    serve_until: time | None
    eligibility: str
    is_active: bool


class MerchantOut(Schema):
    id: int
    name: str
    kind: str
    area_code: str
    address: str
    lat: float
    lng: float
    contact_name: str
    phone: str
    opens: time
    closes: time
    open_now: bool
    offers: list[OfferOut]


class MerchantIn(Schema):
    name: Annotated[str, Line(128, min_length=1)]
    kind: Literal["restaurant", "barbershop", "bathhouse", "other"]
    area_code: Annotated[str, Line(32)]
    address: Annotated[str, Line(255)]
    lat: float = Field(..., ge=-90, le=90)
    lng: float = Field(..., ge=-180, le=180)
    contact_name: Annotated[str, Line(64)] = ""
    phone: Annotated[str, Line(32)] = ""
    opens: ClockTime
    closes: ClockTime


class OfferIn(Schema):
    kind: Literal["meal", "points"]
    title: Annotated[str, Line(64, min_length=1)]
    description: Annotated[str, Text(255)] = ""
    price: Price | None = None
    normal_price: Price | None = None
    points: Points | None = None
    serve_from: ClockTime | None = None
    serve_until: ClockTime | None = None
    eligibility: Literal["all", "courier", "food_delivery", "ride_hailing"] = "all"
    is_active: bool = True


class OfferPatch(Schema):
    title: Annotated[str, Line(64, min_length=1)] | None = None
    description: Annotated[str, Text(255)] | None = None
    price: Price | None = None
    normal_price: Price | None = None
    points: Points | None = None
    serve_from: ClockTime | None = None
    serve_until: ClockTime | None = None
    is_active: bool | None = None


class CodeOut(Schema):
    redemption_id: int
    offer_id: int
    title: str
    merchant: str
    digits: str
    qr_payload: str
    points: int | None
    price: str | None
    expires_at: datetime


class RedeemIn(Schema):
    merchant_id: Id
    code: Annotated[str, Line(64, min_length=1)] = Field(..., description="the six digits, or the QR payload")


class RedeemOut(Schema):
    redemption_id: int
    status: str
    title: str
    merchant_id: int
    price: str | None
    normal_price: str | None
    points: int | None
    transaction_id: int | None
    redeemed_at: datetime


class RedemptionOut(Schema):
    id: int
    merchant_id: int
    offer_id: int
    title: str
    status: str
    price: Decimal | None
    points: int | None
    issued_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None


class SettlementOut(Schema):
    merchant_id: int
    merchant: str
    day: date
    meals: int
    meals_paid: float
    discount_given: float
    points_redemptions: int
    points: int


def merchant_out(m: Merchant) -> MerchantOut:
    return MerchantOut(
        id=m.pk, name=m.name, kind=m.kind, area_code=m.area.code, address=m.address, lat=m.lat,
        lng=m.lng, contact_name=m.contact_name, phone=m.phone, opens=m.opens, closes=m.closes,
        open_now=selectors.schedule_of(m).is_open(timezone.now()),
        offers=[OfferOut(merchant_id=o.merchant_id, **{f: getattr(o, f) for f in OfferOut.model_fields
                                                       if f != "merchant_id"})
                for o in m.offers.all() if o.is_active])


@router.get("/merchants", url_name="merchants", operation_id="list_merchants",
            summary="Partner merchants and their active offers",
            response={200: list[MerchantOut], **AUTH_ERRORS})
@paginate
def list_merchants(request, area: Annotated[str, Line(32)] | None = None,
                   kind: Literal["restaurant", "barbershop", "bathhouse", "other"] | None = None):
    return Rows(selectors.merchant_list(user=request.user, area_code=area, kind=kind),
                lambda page: [merchant_out(m) for m in page])


@router.get("/merchants/{merchant_id}", url_name="merchant", operation_id="get_merchant",
            summary="One partner merchant", response={200: MerchantOut, 404: ProblemOut,
                                                      **AUTH_ERRORS})
def get_merchant(request, merchant_id: Id):
    return merchant_out(access_merchant_by_id(request.user, merchant_id))


@router.post("/merchants", url_name="merchant_create", operation_id="create_merchant",
             summary="Add a partner merchant in my area",
             response={201: MerchantOut, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(*ADMINS)
def create_merchant(request, payload: MerchantIn):
    data = payload.model_dump()
    area = access_area_by_code(request.user, data.pop("area_code"), for_change=True)
    merchant = services.merchant_save(actor=request.user, merchant=Merchant(), area=area,
                                      request=request, **data)
    return Status(201, merchant_out(merchant))


@router.post("/merchants/{merchant_id}/offers", url_name="offer_create",
             operation_id="create_offer", summary="Publish an offer (merchant staff or admin)",
             response={201: OfferOut, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(Role.MERCHANT, *ADMINS)
def create_offer(request, merchant_id: Id, payload: OfferIn):
    merchant = access_merchant_by_id(request.user, merchant_id, for_change=True)
    offer = services.offer_save(actor=request.user, offer=Offer(merchant=merchant),
                                request=request, **_money(payload.model_dump()))
    return Status(201, offer)


@router.patch("/offers/{offer_id}", url_name="offer", operation_id="update_offer",
              summary="Change an offer (merchant staff or admin)",
              response={200: OfferOut, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(Role.MERCHANT, *ADMINS)
def update_offer(request, offer_id: Id, payload: OfferPatch):
    offer = access_offer_by_id(request.user, offer_id, for_change=True)
    return services.offer_save(actor=request.user, offer=offer, request=request,
                               **_money(payload.model_dump(exclude_unset=True)))


@router.post("/offers/{offer_id}/codes", url_name="offer_codes", operation_id="create_code",
             summary="Get a one-time code for an offer (worker)",
             response={201: CodeOut, 404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS})
@require_roles(Role.WORKER)
def create_code(request, offer_id: Id,
                idempotency_key: str = Header(..., alias="Idempotency-Key", pattern=KEY_PATTERN)):
    offer = access_offer_by_id(request.user, offer_id)
    return Status(201, services.redemption_code_issue(
        user=request.user, offer=offer, idempotency_key=idempotency_key, request=request))


@router.post("/redemptions", url_name="redemptions_redeem", operation_id="redeem_code",
             summary="Redeem a code at my counter (merchant staff)",
             response={200: RedeemOut, 404: ProblemOut, 409: ProblemOut, 429: ProblemOut,
                       **AUTH_ERRORS})
@require_roles(Role.MERCHANT)
def redeem_code(request, payload: RedeemIn,
                idempotency_key: str = Header(..., alias="Idempotency-Key", pattern=KEY_PATTERN)):
    merchant = access_merchant_by_id(request.user, payload.merchant_id, counter=True)
    return services.redemption_redeem(actor=request.user, merchant=merchant, code=payload.code,
                                      idempotency_key=idempotency_key, request=request)


@router.get("/redemptions", url_name="redemptions", operation_id="list_redemptions",
            summary="Redemptions I may see (mine; my counter's; my area's), newest first",
            response={200: list[RedemptionOut], **AUTH_ERRORS})
@paginate
def list_redemptions(request, merchant_id: Id | None = None, day: Day | None = None):
    qs = selectors.redemption_list(visible=redemption_visible_q(request.user), day=day)
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    return qs


@router.get("/merchants/{merchant_id}/settlement", url_name="merchant_settlement",
            operation_id="get_settlement", summary="A merchant's daily settlement",
            response={200: SettlementOut, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(Role.MERCHANT, *ADMINS)
def get_settlement(request, merchant_id: Id, day: Day | None = None):
    merchant = access_merchant_by_id(request.user, merchant_id, for_change=True)
    return selectors.settlement_daily(merchant=merchant, day=day or timezone.localdate())
