"""Every write about merchants, offers and redemptions at the counter."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from warmstation.benefits import code_sql
from warmstation.benefits.counter_sql import redeem_inline
from warmstation.benefits.models import Merchant, MerchantStaff, Offer, Redemption
from warmstation.benefits.selectors import offer_served_now, schedule_of
from warmstation.core import geo
from warmstation.core.audit import audit_event, audit_record, client_ip
from warmstation.core.crypto import decrypt, encrypt
from warmstation.core.errors import (
    ApplicationError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
    error_for_status,
)
from warmstation.core.inputs import nfkc, normalise_optional_phone
from warmstation.core.ratelimit import rate_limit, rate_limit_count
from warmstation.core.sqlrows import reserve_ids, row_sql
from warmstation.core.time import LOCAL
from warmstation.points import services as points
from warmstation.points.idempotency import (
    canonical,
    check_key,
    idempotent,
    replay,
    request_hash,
)
from warmstation.points.models import Hold, IdempotencyKey, PointsAccount

if TYPE_CHECKING:
    from warmstation.accounts.models import User

CODE_TTL = timedelta(minutes=getattr(settings, "BENEFITS_CODE_TTL_MINUTES", 10))
# A hold outlives its code a little, so the hold sweeper never races a redemption in progress.
HOLD_GRACE = timedelta(minutes=1)
QR_PREFIX = "WS37:"
CODE_SCOPE = "benefits.code"
# A worker's meal code is one statement on PostgreSQL (code_sql.py, ADR 0019); the tests turn it
# off to compare it with the ORM path.
ONE_STATEMENT = True
VERIFY_FAILURES_PER_10_MIN = settings.RATE_LIMITS["redeem_fail"][0]


def digits_hash(merchant_id: int, digits: str) -> str:
    """Keyed hash: six digits are few, so a plain hash would be reversed by trying them all."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{merchant_id}:{digits}".encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- merchants and offers ---------------------------------------------------------------------

def merchant_save(*, actor: User | None, merchant: Merchant, request: HttpRequest | None = None, **fields: Any) -> Merchant:
    """Create (unsaved `merchant`) or update a partner; cells follow the location, and a new
    partner gets its settlement account in the ledger."""
    for key, value in fields.items():
        setattr(merchant, key, value)
    if merchant.lat is None or merchant.lng is None or \
            not (-90 <= merchant.lat <= 90 and -180 <= merchant.lng <= 180):
        raise InvalidInput(_("坐标超出范围。"), field="lat")
    if merchant.kind not in Merchant.Kind.values:
        raise InvalidInput(_("商户类型无效。"), field="kind")
    if not (merchant.name or "").strip():
        raise InvalidInput(_("请填写商户名称。"), field="name")
    merchant.phone = normalise_optional_phone(merchant.phone)
    merchant.cell_s, merchant.cell_l = geo.cells_of(merchant.lat, merchant.lng)
    created = merchant.pk is None
    with transaction.atomic():
        merchant.save()
        points.system_account_open(code=merchant.settlement_code,
                                   kind=PointsAccount.Kind.SETTLEMENT,
                                   name=f"商户结算·{merchant.name}"[:128])
        audit_record("merchant.create" if created else "merchant.update", actor=actor,
                     obj=merchant, request=request,
                     detail={k: str(v) for k, v in fields.items()})
    return merchant


def merchant_staff_add(*, actor: User, merchant: Merchant, user: User, request: HttpRequest | None = None) -> MerchantStaff:
    with transaction.atomic():
        link, created = MerchantStaff.objects.get_or_create(merchant=merchant, user=user)
        if created:
            audit_record("merchant.staff_add", actor=actor, obj=merchant, request=request,
                         detail={"user": user.pk})
    return link


OFFER_FIELDS = ("kind", "title", "description", "price", "normal_price", "points", "serve_from",
                "serve_until", "eligibility", "is_active")


def offer_save(*, actor: User | None, offer: Offer, request: HttpRequest | None = None, **fields: Any) -> Offer:
    for key, value in fields.items():
        if key not in OFFER_FIELDS:
            raise InvalidInput(_("未知的字段：%(field)s"), params={"field": key}, field=key)
        setattr(offer, key, value)
    if offer.kind == Offer.Kind.MEAL:
        if offer.price is None or offer.price < 0:
            raise InvalidInput(_("爱心套餐须填写价格。"), field="price")
        if offer.normal_price is not None and offer.normal_price < offer.price:
            raise InvalidInput(_("原价不能低于优惠价。"), field="normal_price")
    elif offer.kind == Offer.Kind.POINTS:
        if not offer.points or offer.points <= 0:
            raise InvalidInput(_("积分兑换须填写所需积分。"), field="points")
    else:
        raise InvalidInput(_("优惠类型无效。"), field="kind")
    if not (offer.title or "").strip():
        raise InvalidInput(_("请填写名称。"), field="title")
    if offer.eligibility not in Offer.Eligibility.values:
        raise InvalidInput(_("适用人群无效。"), field="eligibility")
    created = offer.pk is None
    with transaction.atomic():
        offer.save()
        audit_record("offer.create" if created else "offer.update", actor=actor, obj=offer,
                     request=request, detail={k: str(v) for k, v in fields.items()})
    return offer


# --- codes and redemption ---------------------------------------------------------------------

def _served_now(offer: Offer, now: datetime) -> bool:
    return offer_served_now(offer, now)


def _check_eligible(user: User, offer: Offer) -> None:
    if offer.eligibility == Offer.Eligibility.ALL:
        if not hasattr(user, "worker_profile"):
            raise PermissionDenied(_("仅登记的新就业群体可以使用。"), code="not_eligible")
        return
    profile = getattr(user, "worker_profile", None)
    if profile is None or profile.job_type != offer.eligibility:
        raise PermissionDenied(_("此优惠仅限%(who)s。"),
                               params={"who": offer.get_eligibility_display()},
                               code="not_eligible")


def _new_code() -> tuple[str, str]:
    return f"{secrets.randbelow(1_000_000):06d}", secrets.token_urlsafe(18)


def redemption_code_issue(*, user: User, offer: Offer, idempotency_key: str,
                          request: HttpRequest | None = None) -> dict[str, Any]:
    """Give the worker a one-time code for `offer` (6 digits and a QR payload, valid CODE_TTL).
    For a points offer the points are held now, so the counter cannot find them gone. The
    worker's earlier live code for the same offer is cancelled (and its hold released)."""
    body = {"offer": offer.pk, "user": user.pk}

    def work() -> dict[str, Any]:
        now = timezone.now()
        _check_issuable(user, offer, now)
        for old in Redemption.objects.filter(worker=user, offer=offer,
                                             status=Redemption.Status.ISSUED):
            _cancel(old, status=Redemption.Status.CANCELLED)
        expires = now + CODE_TTL
        hold = None
        if offer.kind == Offer.Kind.POINTS:
            if not offer.points:  # the check constraint lets NULL through: not servable
                raise NotFound()
            hold = points.hold_place(user=user, amount=offer.points,
                                     payee_code=offer.merchant.settlement_code,
                                     expires_at=expires + HOLD_GRACE,
                                     memo=f"{offer.merchant.name}·{offer.title}")
        for _attempt in range(8):  # a live code with the same six digits at this merchant
            digits, token = _new_code()
            try:
                with transaction.atomic():
                    redemption = _new_redemption(user, offer, digits, token, expires, hold)
                    redemption.save(force_insert=True)
                break
            except IntegrityError:
                continue
        else:
            raise ServiceUnavailable(_("请稍后再试。"), code="busy", extra={"retry_after": 1})
        audit_record("redemption.issue", actor=user, obj=redemption, request=request,
                     detail=_issue_detail(redemption))
        return _issued(redemption, offer, digits, token)

    response = None
    if offer.kind == Offer.Kind.MEAL and connection.vendor == "postgresql" and ONE_STATEMENT:
        response = _issue_in_one_statement(user, offer, idempotency_key, body, request)
    if response is None:
        response, _replayed = idempotent(scope=CODE_SCOPE, owner_id=user.pk,
                                         key=idempotency_key, body=body, work=work)
    digits, token = decrypt(response.pop("secret")).split(":", 1)
    return response | {"digits": digits, "qr_payload": f"{QR_PREFIX}{token}"}


def _check_issuable(user: User, offer: Offer, now: datetime) -> None:
    if not offer.is_active or not offer.merchant.is_active:
        raise NotFound()
    _check_eligible(user, offer)
    if not _served_now(offer, now):
        raise Conflict(_("现在不在该套餐的供应时间。"), code="not_served_now")
    if not schedule_of(offer.merchant).is_open(now):
        raise Conflict(_("商户现在休息，营业时再来。"), code="merchant_closed")


def _new_redemption(user: User, offer: Offer, digits: str, token: str, expires: datetime,
                    hold: Hold | None) -> Redemption:
    return Redemption(offer=offer, merchant_id=offer.merchant_id, worker=user,
                      digits_hash=digits_hash(offer.merchant_id, digits),
                      token_hash=token_hash(token), expires_at=expires, title=offer.title,
                      price=offer.price, normal_price=offer.normal_price,
                      points=offer.points if offer.kind == Offer.Kind.POINTS else None, hold=hold)


def _issue_detail(redemption: Redemption) -> dict[str, Any]:
    return {"offer": redemption.offer_id, "points": redemption.points}


def _issued(redemption: Redemption, offer: Offer, digits: str, token: str) -> dict[str, Any]:
    """The answer to an issue, as its key keeps it. The code itself is kept (encrypted) only so
    that a retried request can show it again; the redemption row holds nothing but hashes."""
    return {"redemption_id": redemption.pk, "offer_id": offer.pk, "title": offer.title,
            "merchant": offer.merchant.name, "points": redemption.points,
            "price": str(offer.price) if offer.price is not None else None,
            "expires_at": redemption.expires_at.isoformat(),
            "secret": encrypt(f"{digits}:{token}")}


def _issue_in_one_statement(user: User, offer: Offer, idempotency_key: str, body: dict[str, Any],
                            request: HttpRequest | None) -> dict[str, Any] | None:
    """`redemption_code_issue`'s rows for a meal code, written as one statement (code_sql.py,
    ADR 0019); its answer, or a replay of the key's. None when the ORM path must take the
    request: a refusal (which it remembers under the key), a code holding points to release,
    or six digits that kept colliding."""
    key = check_key(idempotency_key)
    digest = request_hash(body)
    now = timezone.now()
    try:
        _check_issuable(user, offer, now)
    except ApplicationError:
        return None
    (code_id,) = reserve_ids(connection, Redemption)
    audit = None  # names only the code's id and the offer: the same line for every draw
    for _attempt in range(8):  # a live code with the same six digits at this merchant
        digits, token = _new_code()
        redemption = _new_redemption(user, offer, digits, token, now + CODE_TTL, None)
        redemption.pk = code_id
        response = canonical(_issued(redemption, offer, digits, token))
        record = IdempotencyKey(scope=CODE_SCOPE, owner_id=user.pk, key=key, request_hash=digest,
                                status_code=200, response=response)
        audit = audit or row_sql(audit_event("redemption.issue", actor=user, obj=redemption,
                                             request=request, detail=_issue_detail(redemption)),
                                 connection)
        rows = {"key": row_sql(record, connection), "audit": audit,
                "code": row_sql(redemption, connection, with_pk=True)}
        try:
            # Inside a caller's transaction a savepoint keeps a collision from breaking it;
            # otherwise the statement is its own transaction, one round trip.
            with transaction.atomic() if connection.in_atomic_block \
                    else contextlib.nullcontext():
                outcome = code_sql.issue_in_one_statement(connection, **rows, worker_id=user.pk,
                                                          offer_id=offer.pk)
        except IntegrityError:
            continue
        if outcome.written:
            return response
        if outcome.hand_back:
            return None
        return replay(IdempotencyKey.objects.get(scope=CODE_SCOPE, owner_id=user.pk, key=key),
                      digest)
    return None


def _find_code(merchant: Merchant, code: str) -> Redemption | None:
    # Full-width digits and spaces, as a Chinese input method types them, count as the digits.
    code = nfkc(code).replace(" ", "")
    if code.startswith(QR_PREFIX):
        return Redemption.objects.filter(token_hash=token_hash(code[len(QR_PREFIX):]),
                                         merchant=merchant).first()
    if len(code) == 6 and code.isdigit():
        return Redemption.objects.filter(merchant=merchant,
                                         digits_hash=digits_hash(merchant.pk, code),
                                         status=Redemption.Status.ISSUED).first()
    return None


def _serving_hours(offer: Offer) -> str:
    if offer.serve_from is None or offer.serve_until is None:
        return ""
    return f"{offer.serve_from:%H:%M}–{offer.serve_until:%H:%M}"


def _why_refused(redemption: Redemption) -> ApplicationError:
    """The counter's answer for a code that exists here but cannot be redeemed now."""
    if redemption.status == Redemption.Status.REDEEMED:
        at = timezone.localtime(redemption.redeemed_at, LOCAL) if redemption.redeemed_at else None
        return Conflict(_("这个核销码已经用过（%(when)s 核销），不能再用。"),
                        params={"when": f"{at:%m-%d %H:%M}" if at else "—"},
                        code="code_used", field="code")
    if redemption.status == Redemption.Status.ISSUED or \
            redemption.status == Redemption.Status.EXPIRED:
        return Conflict(_("核销码已过期，请小哥重新出示。"), code="code_expired", field="code")
    return Conflict(_("这个核销码已作废，请小哥重新出示。"), code="code_cancelled", field="code")


def _why_not_found(merchant: Merchant, code: str) -> ApplicationError:
    """No live code of this merchant matches: say whether it was used here today, belongs to
    another shop, or is simply wrong — so the cashier knows what to tell the worker."""
    code = nfkc(code).replace(" ", "")
    wrong = Conflict(_("核销码不对，请核对后重新输入。"), code="code_invalid", field="code")
    if code.startswith(QR_PREFIX):
        other = Redemption.objects.filter(token_hash=token_hash(code[len(QR_PREFIX):])).first()
        return Conflict(_("这是其他商户的核销码，请小哥到对应商户使用。"),
                        code="code_other_merchant", field="code") if other else wrong
    if not (len(code) == 6 and code.isdigit()):
        return wrong
    since = timezone.now() - timedelta(hours=24)
    used = Redemption.objects.filter(merchant=merchant, digits_hash=digits_hash(merchant.pk, code),
                                     redeemed_at__gte=since).order_by("-redeemed_at").first()
    if used is not None:
        return _why_refused(used)
    expired = Redemption.objects.filter(merchant=merchant,
                                        digits_hash=digits_hash(merchant.pk, code),
                                        status=Redemption.Status.EXPIRED,
                                        expires_at__gte=since).exists()
    if expired:
        return Conflict(_("核销码已过期，请小哥重新出示。"), code="code_expired", field="code")
    # The digits are hashed with each merchant's key: try the merchants that have a live code.
    live = Redemption.objects.filter(status=Redemption.Status.ISSUED,
                                     expires_at__gt=timezone.now()).exclude(merchant=merchant)
    hashes = {digits_hash(m, code) for m in live.values_list("merchant_id", flat=True).distinct()}
    if hashes and live.filter(digits_hash__in=hashes).exists():
        return Conflict(_("这是其他商户的核销码，请小哥到对应商户使用。"),
                        code="code_other_merchant", field="code")
    return wrong


def _verify_budget(merchant: Merchant, request: HttpRequest | None) -> None:
    """Six digits can be guessed: a counter gets VERIFY_FAILURES_PER_10_MIN wrong tries
    (core/ratelimit.py scope `redeem_fail`, per merchant; refused while the cache is down)."""
    if rate_limit_count(None, "redeem_fail", ident=f"merchant:{merchant.pk}") \
            >= VERIFY_FAILURES_PER_10_MIN:
        raise RateLimited(_("核销失败次数过多，请10分钟后再试。"), extra={"retry_after": 600})


def _count_failure(merchant: Merchant) -> None:
    # The scope's own limit is never reached here: _verify_budget decides, on the count.
    with contextlib.suppress(RateLimited):
        rate_limit(None, "redeem_fail", ident=f"merchant:{merchant.pk}")


def redemption_redeem(*, actor: User, merchant: Merchant, code: str, idempotency_key: str,
                      request: HttpRequest | None = None) -> dict[str, Any]:
    """The counter redeems a code (typed or scanned) at `merchant`. Exactly once, whatever the
    concurrency and retries: the status moves issued → redeemed by one conditional UPDATE that
    also checks the expiry; for a points offer the hold is posted in the same transaction.

    On PostgreSQL the whole of it is one call of the database function `benefits_redeem`
    (migration 0002: the same statements, locks and guarantees, one round trip); on SQLite the
    same statements run from Python in one transaction (counter_sql.py). The Python path below
    (`_redeem_orm`) words every refusal and takes what either hands back (a hold no longer
    active, not enough points: they then write nothing)."""
    _verify_budget(merchant, request)
    try:
        if _redeemable_now(merchant, code):
            response = _redeem_sql(actor, merchant, code, idempotency_key, request)
            if response is not None:
                return response
        return _redeem_orm(actor, merchant, code, idempotency_key, request)
    except ApplicationError as exc:
        if exc.code in ("code_invalid", "code_expired", "code_other_merchant"):
            _count_failure(merchant)
        raise


def _redeemable_now(merchant: Merchant, code: str) -> bool:
    """Whether the code is a live one of this merchant, served now: only then is the one-call
    database function worth it. Every refusal (wrong, used and when, expired, another shop's,
    outside serving hours) is worded by the Python path, which tells the cashier which it is;
    a retried key also replays there."""
    lookup = _code_lookup(merchant, code or "")
    if lookup is None:
        return False
    by_token, code_hash = lookup
    found = Redemption.objects.select_related("offer").filter(merchant=merchant)
    found = found.filter(token_hash=code_hash) if by_token else found.filter(
        digits_hash=code_hash, status=Redemption.Status.ISSUED)
    redemption = found.first()
    now = timezone.now()
    return (redemption is not None and redemption.status == Redemption.Status.ISSUED
            and redemption.expires_at > now and _served_now(redemption.offer, now))


def _code_lookup(merchant: Merchant, code: str) -> tuple[bool, str] | None:
    """(by QR token?, the hash to look the code up by), as _find_code reads a code."""
    code = nfkc(code).replace(" ", "")
    if code.startswith(QR_PREFIX):
        return True, token_hash(code[len(QR_PREFIX):])
    if len(code) == 6 and code.isdigit():
        return False, digits_hash(merchant.pk, code)
    return None


def _code_invalid() -> Conflict:
    return Conflict(_("核销码无效或已使用。"), code="code_invalid", field="code")


def _code_expired() -> Conflict:
    return Conflict(_("核销码已过期，请小哥重新出示。"), code="code_expired", field="code")


@functools.cache
def _refusal_json(which: str) -> str:
    """A refusal as the idempotency row stores it (both languages: the same in any request)."""
    exc = _code_invalid() if which == "invalid" else _code_expired()
    return json.dumps({"code": exc.code, "message_zh": str(exc.message_zh),
                       "message_en": str(exc.message_en), "field": exc.field,
                       "extra": exc.extra}, ensure_ascii=False)


def _used_meanwhile_json(now: datetime) -> str:
    """The function is called only for a code found live (`_redeemable_now`): if it refuses it
    as not issued, a concurrent request redeemed it a moment ago — say so, as the Python path
    would, in both languages."""
    redeemed = Redemption(status=Redemption.Status.REDEEMED, redeemed_at=now)
    exc = _why_refused(redeemed)
    return json.dumps({"code": exc.code, "message_zh": str(exc.message_zh),
                       "message_en": str(exc.message_en), "field": exc.field,
                       "extra": exc.extra}, ensure_ascii=False)


def _redeem_sql(actor: User, merchant: Merchant, code: str, idempotency_key: str,
                request: HttpRequest | None) -> dict[str, Any] | None:
    """One call of `benefits_redeem` (on SQLite, its statements from Python); None when it
    hands the request back to the Python path (it then wrote nothing)."""
    key = check_key(idempotency_key)
    digest = request_hash({"merchant": merchant.pk, "code": token_hash(code or "")})
    lookup = _code_lookup(merchant, code or "")
    by_token, code_hash = lookup if lookup is not None else (False, "")
    now = timezone.now()
    params: list[Any] = ["benefits.redeem", actor.pk, key, digest, merchant.pk, by_token, code_hash,
              actor.pk, now, now.isoformat(), client_ip(request), _used_meanwhile_json(now),
              _refusal_json("expired")]
    sql = "SELECT * FROM benefits_redeem(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    try:
        if connection.vendor == "sqlite":
            answer = redeem_inline(
                scope="benefits.redeem", owner_id=actor.pk, key=key, digest=digest,
                merchant_id=merchant.pk, by_token=by_token, code_hash=code_hash,
                actor_id=actor.pk, now=now, ip=client_ip(request),
                invalid=_used_meanwhile_json(now), expired=_refusal_json("expired"))
            if answer is None:
                return None
            outcome, status, response, stored_hash = answer
        elif connection.in_atomic_block:  # inside a caller's transaction: a savepoint to hand back
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, params)
                outcome, status, response, stored_hash = cursor.fetchone()
        else:  # autocommit: the call is its own transaction, one round trip
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                outcome, status, response, stored_hash = cursor.fetchone()
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == "WS001":
            return None
        raise
    if isinstance(response, str):
        response = json.loads(response)
    if outcome == "replay":
        return replay(IdempotencyKey(request_hash=stored_hash, status_code=status,
                                      response=response), digest)
    if status >= 400:
        raise error_for_status(status, response["message_zh"], response["message_en"],
                               code=response["code"], field=response["field"],
                               extra=response["extra"] or None)
    return canonical(response)


def _redeem_orm(actor: User, merchant: Merchant, code: str, idempotency_key: str,
                request: HttpRequest | None) -> dict[str, Any]:
    body = {"merchant": merchant.pk, "code": token_hash(code or "")}

    def work() -> dict[str, Any]:
        redemption = _find_code(merchant, code)
        if redemption is None:
            raise _why_not_found(merchant, code)
        now = timezone.now()
        if redemption.status != Redemption.Status.ISSUED or redemption.expires_at <= now:
            raise _why_refused(redemption)
        if not _served_now(redemption.offer, now):
            raise Conflict(_("不在供应时间：该套餐 %(hours)s 供应。"),
                           params={"hours": _serving_hours(redemption.offer)},
                           code="not_served_now", field="code")
        won = Redemption.objects.filter(pk=redemption.pk, status=Redemption.Status.ISSUED,
                                        expires_at__gt=now).update(
            status=Redemption.Status.REDEEMED, redeemed_at=now, redeemed_by=actor)
        if not won:
            redemption.refresh_from_db(fields=["status", "expires_at", "redeemed_at"])
            raise _why_refused(redemption)
        tx_id = None
        if redemption.hold_id:
            tx_id = points.hold_post(hold_id=redemption.hold_id, actor=actor,
                                     source_ref=f"benefits.redemption:{redemption.pk}").pk
        audit_record("redemption.redeem", actor=actor, obj=redemption, request=request,
                     detail={"merchant": merchant.pk, "points": redemption.points,
                             "transaction": tx_id})
        return {"redemption_id": redemption.pk, "status": Redemption.Status.REDEEMED,
                "title": redemption.title, "merchant_id": merchant.pk,
                "price": str(redemption.price) if redemption.price is not None else None,
                "normal_price": str(redemption.normal_price)
                if redemption.normal_price is not None else None,
                "points": redemption.points, "transaction_id": tx_id,
                "redeemed_at": now.isoformat()}

    response, _replayed = idempotent(scope="benefits.redeem", owner_id=actor.pk,
                                     key=idempotency_key, body=body, work=work)
    return response


def _cancel(redemption: Redemption, *, status: str) -> bool:
    """issued → cancelled/expired, once; its hold (if any) goes back to the worker."""
    changed = Redemption.objects.filter(pk=redemption.pk, status=Redemption.Status.ISSUED) \
        .update(status=status)
    if changed and redemption.hold_id:
        points.hold_release(hold_id=redemption.hold_id,
                            expired=status == Redemption.Status.EXPIRED)
    return bool(changed)


def redemption_cancel(*, user: User, redemption: Redemption, request: HttpRequest | None = None) -> bool:
    with transaction.atomic():
        changed = _cancel(redemption, status=Redemption.Status.CANCELLED)
        if changed:
            audit_record("redemption.cancel", actor=user, obj=redemption, request=request)
    return changed


def redemption_expire_due(*, now: datetime | None = None) -> int:
    """Mark codes past their expiry as expired and release their holds; each exactly once."""
    now = now or timezone.now()
    done = 0
    for r in Redemption.objects.filter(status=Redemption.Status.ISSUED, expires_at__lte=now) \
            .only("pk", "hold_id")[:10_000]:
        with transaction.atomic():
            done += _cancel(r, status=Redemption.Status.EXPIRED)
    return done
