"""The points API: a worker's wallet and statement, the published rules, and the district's
awards and reversals. Every call that moves points takes an `Idempotency-Key` header; a replay
answers the stored body with `Idempotent-Replayed: true`."""

from datetime import datetime
from typing import Annotated

from ninja import Field, Header, Router, Schema
from ninja.pagination import paginate

from warmstation.accounts.models import Role
from warmstation.accounts.selectors import access_worker_by_id
from warmstation.core.pagination import Rows
from warmstation.core.permissions import require_roles
from warmstation.core.schemas import AUTH_ERRORS, Id, Line, ProblemOut
from warmstation.points import selectors, services
from warmstation.points.labels import label_entries
from warmstation.points.permissions import access_transaction_by_id

router = Router(tags=["points"])
DISTRICT = (Role.DISTRICT_ADMIN,)


class WalletOut(Schema):
    balance: int
    held: int
    available: int


class EntryOut(Schema):
    id: int
    transaction_id: int
    kind: str
    memo: str = Field(description="as stored in the ledger (Chinese; never changed)")
    label: str = Field(description="what the line says in the request's language "
                                   "(Accept-Language), as the statement page shows it")
    amount: int
    balance_after: int
    created_at: datetime


class RuleOut(Schema):
    action: str
    source: str
    name_zh: str
    name_en: str
    points: int
    daily_cap: int | None
    monthly_cap: int | None


class AwardIn(Schema):
    worker_id: Id
    action: Annotated[str, Line(32, min_length=1)]
    source_ref: Annotated[str, Line(96)] = ""


class ReverseIn(Schema):
    reason: Annotated[str, Line(100, min_length=1)]


class TransactionOut(Schema):
    transaction_id: int
    kind: str
    action: str
    points: int
    balance: int
    available: int
    created_at: datetime


@router.get("/me", url_name="points_me", operation_id="get_my_wallet",
            summary="My points: balance, held for pending codes, available",
            response={200: WalletOut, **AUTH_ERRORS})
@require_roles(Role.WORKER)
def get_my_wallet(request):
    return selectors.wallet_of(request.user)


@router.get("/me/entries", url_name="points_me_entries", operation_id="list_my_entries",
            summary="My statement, entry by entry, newest first",
            response={200: list[EntryOut], **AUTH_ERRORS})
@require_roles(Role.WORKER)
@paginate
def list_my_entries(request):
    def out(page) -> list[EntryOut]:
        entries = list(page)
        label_entries(entries, language=request.LANGUAGE_CODE)
        return [EntryOut(id=e.pk, transaction_id=e.transaction_id, kind=e.transaction.kind,
                         memo=e.transaction.memo, label=e.label, amount=e.amount,
                         balance_after=e.balance_after, created_at=e.created_at)
                for e in entries]

    return Rows(selectors.statement(user=request.user), out)


@router.get("/rules", url_name="points_rules", operation_id="list_earning_rules",
            summary="Published earning rules: action, points, caps",
            response={200: list[RuleOut], **AUTH_ERRORS})
@paginate
def list_earning_rules(request):
    return selectors.earning_rule_list().order_by("action", "pk")


@router.post("/awards", url_name="points_awards", operation_id="create_award",
             summary="Award a worker the points of a published rule (district admin)",
             response={200: TransactionOut, 404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS})
@require_roles(*DISTRICT)
def create_award(request, payload: AwardIn, idempotency_key: str = Header(..., alias="Idempotency-Key",
                                                     pattern=r"^[!-~]{1,128}$")):
    profile = access_worker_by_id(request.user, payload.worker_id)
    return services.points_award(user=profile.user, action=payload.action,
                                 idempotency_key=idempotency_key, source_ref=payload.source_ref,
                                 actor=request.user, request=request)


@router.post("/transactions/{transaction_id}/reverse", url_name="points_reverse",
             operation_id="reverse_transaction",
             summary="Reverse a transaction by its mirror image (district admin)",
             response={200: TransactionOut, 404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS})
@require_roles(*DISTRICT)
def reverse_transaction(request, transaction_id: Id, payload: ReverseIn,
                        idempotency_key: str = Header(..., alias="Idempotency-Key",
                                                     pattern=r"^[!-~]{1,128}$")):
    original = access_transaction_by_id(request.user, transaction_id)
    return services.points_reverse(actor=request.user, transaction_id=original.pk,
                                   reason=payload.reason, idempotency_key=idempotency_key,
                                   request=request)


class FiguresOut(Schema):
    issued: int
    spent: int
    outstanding: int
    held: int
    worker_accounts: int


@router.get("/figures", url_name="points_figures", operation_id="get_points_figures",
            summary="District figures: points issued, spent, outstanding",
            response={200: FiguresOut, **AUTH_ERRORS})
@require_roles(*DISTRICT)
def get_points_figures(request):
    return selectors.district_figures()
