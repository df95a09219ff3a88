"""Every write about people: sign-in codes, staff passwords and TOTP, API tokens, role grants,
worker registration, and the worker's privacy rights (export, close)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyotp
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from warmstation.accounts.models import (
    ADMIN_ROLES,
    STAFF_ROLES,
    ApiToken,
    Brand,
    ConsentRecord,
    Role,
    RoleGrant,
    SmsCode,
    User,
    WorkerProfile,
)
from warmstation.areas.models import Area
from warmstation.core.audit import audit_record
from warmstation.core.errors import (
    ApplicationError,
    Conflict,
    InvalidInput,
    PermissionDenied,
    RateLimited,
)
from warmstation.core.inputs import nfkc, normalise_code, normalise_mobile
from warmstation.core.models import AuditEvent
from warmstation.core.privacy import person_erase, person_export
from warmstation.core.ratelimit import rate_limit
from warmstation.outreach.models import OutboxMessage
from warmstation.outreach.services import outbox_enqueue

if TYPE_CHECKING:
    from warmstation.appeals.models import Department

if TYPE_CHECKING:
    from warmstation.accounts.models import User

logger = logging.getLogger(__name__)
DENIED = AuditEvent.Result.DENIED
FAILED = AuditEvent.Result.FAILED


def _code_hash(mobile: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{mobile}:{code}".encode(),
                    hashlib.sha256).hexdigest()


def _local_day_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


# --- SMS one-time codes (workers, residents) -------------------------------------------------

def _check_ip_budget(request: HttpRequest | None) -> None:
    """At most SMS_CODE_PER_IP_HOUR code requests per client address per hour, whatever the
    numbers: one address cycling through many numbers is an SMS-bombing or a cost attack
    (core/ratelimit.py, scope `sms_code`; refused while the cache is down)."""
    try:
        rate_limit(request, "sms_code")
    except RateLimited as exc:
        audit_record("auth.sms_code", result=DENIED, request=request,
                     detail={"reason": "ip_budget" if exc.code == "rate_limited" else exc.code})
        raise


def sms_code_request(*, mobile: str, request: HttpRequest | None = None) -> SmsCode:
    """Send a 6-digit sign-in code. At most one per number per SMS_CODE_RESEND_SECONDS and
    SMS_CODE_DAILY_CAP per (Shanghai) day; a new code voids the older ones."""
    mobile = normalise_mobile(mobile)
    _check_ip_budget(request)
    now = timezone.now()
    wait = settings.SMS_CODE_RESEND_SECONDS
    with transaction.atomic():
        last = SmsCode.objects.filter(mobile=mobile).order_by("-created_at").first()
        if last and (now - last.created_at).total_seconds() < wait:
            left = wait - int((now - last.created_at).total_seconds())
            raise RateLimited(_("发送太频繁，请 %(seconds)s 秒后再试。"),
                              params={"seconds": left}, extra={"retry_after": left})
        sent_today = SmsCode.objects.filter(
            mobile=mobile, created_at__gte=_local_day_start(now)
        ).count()
        capped = sent_today >= settings.SMS_CODE_DAILY_CAP
        sms = None if capped else _sms_code_send(mobile=mobile, now=now, request=request)
    if capped:
        # After the block: raising inside it would roll this audit row back with it.
        audit_record("auth.sms_code", subject_mobile=mobile, result=DENIED,
                     request=request, detail={"reason": "daily_cap"})
        raise RateLimited(_("今日验证码次数已用完，请明天再试。"))
    assert sms is not None  # not capped: the code was sent
    return sms


def _sms_code_send(*, mobile: str, now: datetime, request: HttpRequest | None) -> SmsCode:
    wait = settings.SMS_CODE_RESEND_SECONDS
    # Two simultaneous requests both pass the checks in sms_code_request; the cache's atomic
    # add lets only one of them through (Redis across processes when REDIS_URL is set).
    if not cache.add(f"sms-code-lock:{mobile}", 1, timeout=wait):
        raise RateLimited(_("发送太频繁，请 %(seconds)s 秒后再试。"), params={"seconds": wait},
                          extra={"retry_after": wait})
    SmsCode.objects.filter(mobile=mobile, used_at=None, voided_at=None).update(voided_at=now)
    code = f"{secrets.randbelow(10**6):06d}"
    sms = SmsCode.objects.create(
        mobile=mobile, code_hash=_code_hash(mobile, code),
        expires_at=now + timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
        ip=(request.META.get("REMOTE_ADDR") if request else None),
    )
    minutes = settings.SMS_CODE_TTL_SECONDS // 60
    outbox_enqueue(
        channel=OutboxMessage.Channel.SMS, recipient=mobile, purpose="sign_in_code",
        sensitive=True,
        body=f"【37°C+暖心驿站】您的登录验证码为 {code}，{minutes} 分钟内有效，请勿告诉他人。",
    )
    audit_record("auth.sms_code", subject_mobile=mobile, obj=sms, request=request)
    return sms


def sms_code_verify(*, mobile: str, code: str, request: HttpRequest | None = None) -> User:
    """Check a code; on success return the person (created on first sign-in, without roles
    until they register as a worker). Single use; SMS_CODE_MAX_ATTEMPTS wrong tries void it."""
    rate_limit(request, "sign_in")
    mobile = normalise_mobile(mobile)
    code = normalise_code(code)
    now = timezone.now()
    # Failures are raised after the block: raising inside it would roll back the count of
    # wrong tries and the audit row with it.
    error: ApplicationError | None = None
    user: User | None = None
    with transaction.atomic():
        # Row lock: concurrent tries on one code are counted one after another.
        sms = (
            SmsCode.objects.select_for_update()
            .filter(mobile=mobile, used_at=None, voided_at=None, expires_at__gt=now)
            .order_by("-created_at").first()
        )
        if sms is None:
            audit_record("auth.login", subject_mobile=mobile, result=FAILED,
                         request=request, detail={"method": "sms", "reason": "no_code"})
            error = InvalidInput(_("验证码无效或已过期，请重新获取。"), code="code_invalid",
                                 field="code")
        elif not hmac.compare_digest(sms.code_hash, _code_hash(mobile, code)):
            sms.attempts += 1
            left = settings.SMS_CODE_MAX_ATTEMPTS - sms.attempts
            if left <= 0:
                sms.voided_at = now
            sms.save(update_fields=["attempts", "voided_at"])
            audit_record("auth.login", subject_mobile=mobile, result=FAILED,
                         request=request, detail={"method": "sms", "attempts": sms.attempts})
            if left <= 0:
                error = InvalidInput(_("错误次数过多，验证码已作废，请重新获取。"),
                                     code="code_void", field="code")
            else:
                error = InvalidInput(_("验证码错误，还可尝试 %(left)s 次。"), params={"left": left},
                                     code="code_wrong", field="code")
        else:
            sms.used_at = now
            sms.save(update_fields=["used_at"])
            # A disabled account keeps its number: refuse it (creating a second account for the
            # number would fail on the unique mobile, or get round the disabling).
            user = User.objects.filter(mobile=mobile).first()
            created = user is None
            if user is None:
                user = User.objects.create_user(mobile)
            if not user.is_active:
                audit_record("auth.login", subject_mobile=mobile, obj=user,
                             result=DENIED, request=request,
                             detail={"method": "sms", "reason": "inactive"})
                error = PermissionDenied(_("该账号已停用。"), code="account_disabled")
            else:
                audit_record("auth.login", actor=user, request=request,
                             detail={"method": "sms", "new_account": created})
    if error is not None:
        raise error
    assert user is not None  # no error: the code matched and the account is active
    return user


# --- Staff: password, lockout, TOTP ------------------------------------------------------------

# A hash to check against when the account does not exist, so timing does not tell.
_DUMMY_HASH = None


def _locked_error(user: User) -> ApplicationError:
    """A locked account is a limit on tries: 429 with Retry-After, like any other limit."""
    left = (user.locked_until or timezone.now()) - timezone.now()
    seconds = max(1, int(left.total_seconds()) + 1)
    minutes = max(1, int(left.total_seconds() // 60) + 1)
    return RateLimited(_("登录失败次数过多，账户已锁定，请 %(minutes)s 分钟后再试。"),
                       params={"minutes": minutes}, code="account_locked",
                       extra={"retry_after": seconds})


def _count_failure(user: User, request: HttpRequest | None, reason: str) -> None:
    """Add one failed try; at STAFF_LOCKOUT_THRESHOLD lock the account. Caller holds the row
    lock on `user`."""
    user.failed_logins += 1
    locked = user.failed_logins >= settings.STAFF_LOCKOUT_THRESHOLD
    if locked:
        user.locked_until = timezone.now() + timedelta(seconds=settings.STAFF_LOCKOUT_SECONDS)
        user.failed_logins = 0
    user.save(update_fields=["failed_logins", "locked_until"])
    audit_record("auth.login", actor=user, obj=user, result=FAILED, request=request,
                 detail={"method": "password", "reason": reason, "locked": locked})


def staff_password_check(*, mobile: str, password: str, request: HttpRequest | None = None) -> User:
    """Password sign-in for staff roles. Locks the account for STAFF_LOCKOUT_SECONDS after
    STAFF_LOCKOUT_THRESHOLD failures in a row (password or TOTP)."""
    global _DUMMY_HASH
    rate_limit(request, "sign_in")
    wrong = InvalidInput(_("手机号或密码错误。"), code="bad_credentials", field="password")
    try:
        mobile = normalise_mobile(mobile)
    except ApplicationError:
        raise wrong from None
    # Refusals are raised after the block: raising inside it would roll back the failure count,
    # the lock and the audit row with it.
    error: ApplicationError | None = None
    with transaction.atomic():
        user = User.objects.select_for_update().filter(mobile=mobile, is_active=True).first()
        if user is None:
            _DUMMY_HASH = _DUMMY_HASH or make_password("dummy-password-for-timing")
            from django.contrib.auth.hashers import check_password

            check_password(password or "", _DUMMY_HASH)
            audit_record("auth.login", subject_mobile=mobile, result=FAILED,
                         request=request, detail={"method": "password", "reason": "unknown"})
            error = wrong
        elif user.locked_until and user.locked_until > timezone.now():
            audit_record("auth.login", actor=user, obj=user, result=DENIED, request=request,
                         detail={"method": "password", "reason": "locked"})
            error = _locked_error(user)
        elif not user.check_password(password or ""):
            _count_failure(user, request, "password")
            if user.locked_until and user.locked_until > timezone.now():
                error = _locked_error(user)
            else:
                error = wrong
        elif not user.grants.filter(role__in=STAFF_ROLES).exists():
            audit_record("auth.login", actor=user, obj=user, result=DENIED, request=request,
                         detail={"method": "password", "reason": "no_staff_role"})
            error = PermissionDenied(_("该账号没有工作人员角色，请用短信验证码登录。"),
                                     code="not_staff")
        else:
            # For admins the password is half the sign-in: the count of failures is reset by
            # the TOTP step, or knowing the password would allow endless TOTP guesses.
            if not needs_mfa(user):
                user.failed_logins = 0
            user.locked_until = None
            user.save(update_fields=["failed_logins", "locked_until"])
            audit_record("auth.login", actor=user, obj=user, request=request,
                         detail={"method": "password"})
    if error is not None:
        raise error
    assert user is not None  # no error: the account was found
    return user


def needs_mfa(user: User) -> bool:
    return user.grants.filter(role__in=ADMIN_ROLES).exists()


def totp_enrolment_start(*, user: User) -> str:
    """A new secret for a person who has none confirmed yet; returns its otpauth:// URI."""
    if user.totp_confirmed_at:
        raise Conflict(_("已绑定动态码。"), code="totp_exists")
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        user.save(update_fields=["totp_secret"])
    return pyotp.TOTP(user.totp_secret).provisioning_uri(
        name=user.mobile, issuer_name=settings.TOTP_ISSUER
    )


def totp_verify(*, user: User, code: str, request: HttpRequest | None = None) -> None:
    """Check a TOTP code (±30 s), refuse a replayed step, confirm a pending enrolment, and count
    failures toward the same lockout as passwords."""
    rate_limit(request, "sign_in")
    code = nfkc(code).replace(" ", "")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.locked_until and user.locked_until > timezone.now():
            raise _locked_error(user)
        if not user.totp_secret:
            raise Conflict(_("尚未绑定动态码。"), code="totp_missing")
        totp = pyotp.TOTP(user.totp_secret)
        now_step = totp.timecode(timezone.now())
        matched = None
        error: ApplicationError | None
        if code.isdigit() and len(code) == 6:
            for step in (now_step, now_step - 1, now_step + 1):
                if hmac.compare_digest(totp.generate_otp(step), code):
                    matched = step
                    break
        if matched is None or matched <= user.totp_last_step:
            # Raised after the block, so the failure count and its audit row are kept.
            _count_failure(user, request, "totp" if matched is None else "totp_replay")
            if user.locked_until and user.locked_until > timezone.now():
                error = _locked_error(user)
            else:
                error = InvalidInput(_("动态码错误或已使用。"), code="totp_wrong", field="totp")
        else:
            error = None
            user.totp_last_step = matched
            user.failed_logins = 0
            fields = ["totp_last_step", "failed_logins"]
            if not user.totp_confirmed_at:
                user.totp_confirmed_at = timezone.now()
                fields.append("totp_confirmed_at")
            user.save(update_fields=fields)
            audit_record("auth.mfa", actor=user, obj=user, request=request)
    if error is not None:
        raise error


# --- API bearer tokens -----------------------------------------------------------------------

def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_issue(*, user: User, auth_level: int, name: str = "", request: HttpRequest | None = None) -> str:
    """Issue a bearer token at the sign-in level just proven; returns the raw token (shown once)."""
    raw = "ws_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, key_hash=_token_hash(raw), prefix=raw[:8], name=name[:64],
        auth_level=auth_level,
        expires_at=timezone.now() + timedelta(days=settings.API_TOKEN_DAYS),
    )
    audit_record("auth.token_issue", actor=user, obj=token, request=request,
                 detail={"level": auth_level})
    return raw


TOKEN_TOUCH_EVERY = timedelta(minutes=5)  # how stale `last_used_at` may get (a throttled write)
# The shared cache's keys, each + the token's hash: the person the token signs in, as last read;
# and the token's generation, changed whenever that person's sign-ins are forgotten.
_TOKEN_KEY, _GEN_KEY = "auth:token:", "auth:token-gen:"
# Never written to the cache: read from the database if a request needs them (deferred fields).
_NOT_CACHED = ("password", "totp_secret")  # attribute names as stored on the instance


def api_token_authenticate(raw: str) -> User | None:
    """The person a bearer token signs in, or None (unknown, revoked, expired, closed account).

    With `API_TOKEN_CACHE_SECONDS` (needs a cache every process shares: Redis) the person and
    their grants are kept in the cache, so a worker's next requests skip both queries. Every
    change to the person, their grants or their tokens forgets them, in every process, once it
    commits (`api_principals_forget`). ADR 0018 says why that is safe and what it costs."""
    key_hash = _token_hash(raw or "")
    now = timezone.now()
    ttl = settings.API_TOKEN_CACHE_SECONDS
    if not ttl:
        return _signed_in(_live_token(ApiToken.objects, key_hash, now), now)
    keys = (_TOKEN_KEY + key_hash, _GEN_KEY + key_hash)
    found = _cache_quietly(cache.get_many, keys)
    if found is False:  # the cache is a shortcut: the database still answers (the primary's)
        return _signed_in(_live_token(ApiToken.objects.using(DEFAULT_DB_ALIAS), key_hash, now),
                          now)
    if (entry := found.get(keys[0])) is not None:
        user: User
        user, token_id, level, expires_at, last_used_at = entry
        if expires_at <= now:
            return None
        if now - last_used_at > TOKEN_TOUCH_EVERY:
            ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
            _cache_quietly(cache.delete, keys[0])  # the next request reads it afresh
        user.auth_level, user.api_token_id = level, token_id
        return user
    # Not cached: read the primary (a replica may not have the revocation yet), keep what was
    # read, and drop it again unless the token's generation is still the one read with the
    # entry: a change that committed while we read must not be outlived by what we read before.
    token = _live_token(ApiToken.objects.using(DEFAULT_DB_ALIAS), key_hash, now)
    fresh = _signed_in(token, now)
    if token is None or fresh is None:
        return None
    fresh.grants_held(using=DEFAULT_DB_ALIAS)  # read now, so that the cached copy holds them
    kept = copy.copy(fresh)
    for name in _NOT_CACHED:
        kept.__dict__.pop(name, None)
    _cache_quietly(cache.set, keys[0],
                   (kept, token.pk, token.auth_level, token.expires_at, token.last_used_at), ttl)
    if _cache_quietly(cache.get, keys[1]) != found.get(keys[1]):  # moved, or no answer
        _cache_quietly(cache.delete, keys[0])
    return fresh


def _live_token(tokens: Any, key_hash: str, now: datetime) -> ApiToken | None:
    token: ApiToken | None = (tokens.select_related("user")
            .filter(key_hash=key_hash, revoked_at=None, expires_at__gt=now, user__is_active=True)
            .first())
    return token


def _signed_in(token: ApiToken | None, now: datetime) -> User | None:
    if token is None:
        return None
    if token.last_used_at is None or (now - token.last_used_at) > TOKEN_TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)  # throttled write
        token.last_used_at = now
    user = token.user
    user.auth_level = token.auth_level
    user.api_token_id = token.pk
    return user


def _cache_quietly(op: Callable[..., Any], *args: Any) -> Any:
    """A cache call whose failure only costs speed; False when the cache did not answer."""
    try:
        return op(*args)
    except Exception:  # noqa: BLE001 - Redis down: the database answers instead
        logger.warning("auth cache: %s failed", getattr(op, "__name__", op), exc_info=True)
        return False


def api_principals_forget(user_id: int, *, also: Iterable[str] = ()) -> None:
    """Forget the cached sign-ins of this person's tokens in every process, once the current
    transaction commits (at once outside one). Called on every change to a person, their grants
    or their tokens (accounts/signals.py), and by the bulk updates that send no signal. `also`:
    hashes of tokens being deleted, which the person's tokens will no longer list. Runs whenever
    the cache is shared, whatever this process's own API_TOKEN_CACHE_SECONDS (a task worker or
    shell may have it off while the web processes cache)."""
    if settings.API_TOKEN_CACHE_SECONDS or settings.CACHE_SHARED:
        transaction.on_commit(lambda: _forget_now(user_id, also), robust=True)


def _forget_now(user_id: int, also: Iterable[str]) -> None:
    try:
        hashes = {*also, *ApiToken.objects.using(DEFAULT_DB_ALIAS).filter(user_id=user_id)
                  .values_list("key_hash", flat=True)}
    except Exception:
        logger.exception("auth cache: the tokens of user %s could not be read to forget them; "
                         "their sign-ins expire within API_TOKEN_CACHE_SECONDS", user_id)
        raise
    if not hashes:
        return
    moved = secrets.token_hex(8)
    # The generation first: a request reading the old rows right now sees it move and drops
    # what it read; then the entries themselves. A failure is logged: if the cache is down,
    # entries cached before it went down live at most API_TOKEN_CACHE_SECONDS (ADR 0018).
    if _cache_quietly(cache.set_many, {_GEN_KEY + h: moved for h in hashes},
                      max(600, 10 * settings.API_TOKEN_CACHE_SECONDS)) is False or \
            _cache_quietly(cache.delete_many, [_TOKEN_KEY + h for h in hashes]) is False:
        logger.error("auth cache: the sign-ins of user %s could not be forgotten; they expire "
                     "within API_TOKEN_CACHE_SECONDS", user_id)


def api_token_revoke(*, user: User, token_id: int, request: HttpRequest | None = None) -> None:
    updated = ApiToken.objects.filter(pk=token_id, user=user, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    if updated:
        api_principals_forget(user.pk)
        audit_record("auth.token_revoke", actor=user, object_type="accounts.apitoken",
                     object_id=token_id, request=request)


# --- Roles ---------------------------------------------------------------------------------

def role_grant(*, actor: User | None, user: User, role: str, area: Area,
               department: Department | None = None,
               request: HttpRequest | None = None) -> RoleGrant:
    if role == Role.DEPARTMENT and department is None:
        raise InvalidInput(_("部门工作人员需指定部门。"), code="department_required",
                           field="department")
    grant, created = RoleGrant.objects.get_or_create(
        user=user, role=role, area=area, department=department,
        defaults={"granted_by": actor},
    )
    if created:
        audit_record("role.grant", actor=actor, obj=user, request=request,
                     detail={"role": role, "area": area.code,
                             "department": department.code if department else None})
        user.forget_grants()
    return grant


def role_revoke(*, actor: User | None, grant: RoleGrant, request: HttpRequest | None = None) -> None:
    detail = {"role": grant.role, "area": grant.area.code,
              "department": grant.department.code if grant.department else None}
    user = grant.user
    grant.delete()
    user.forget_grants()
    audit_record("role.revoke", actor=actor, obj=user, request=request, detail=detail)


# --- Workers -------------------------------------------------------------------------------

MAX_WORK_AREAS = 10  # areas on a worker's card; more makes the card a directory


def worker_register(
    *, user: User, real_name: str, job_type: str, brand: Brand | None, areas: list[Area],
    accept_terms: bool, allow_location: bool = False, request: HttpRequest | None = None,
) -> WorkerProfile:
    """Complete a worker's registration (or update it): real name, job, brand, work areas, and
    the consents given on this form."""
    real_name = (real_name or "").strip()
    errors = []
    if not (1 < len(real_name) <= 32):
        errors.append(("请填写真实姓名（2–32个字）。", "Enter your real name (2–32 characters)."))
    if job_type not in WorkerProfile.JobType.values:
        errors.append(("请选择工作类型。", "Choose a job type."))
    if not areas:
        errors.append(("请至少选择一个工作区域。", "Choose at least one area you work in."))
    elif len(areas) > MAX_WORK_AREAS:
        # Said, not silently cut: the form keeps the choice so the worker removes some.
        errors.append((f"最多选择 {MAX_WORK_AREAS} 个工作区域，您选了 {len(areas)} 个。",
                       f"Choose at most {MAX_WORK_AREAS} work areas (you chose {len(areas)})."))
    known = getattr(user, "worker_profile", None)
    if not accept_terms and (known is None or known.terms_due):
        # A new worker, or one an import put on the list, agrees here for themselves.
        errors.append(("须同意服务协议与隐私政策。", "You must accept the terms and privacy policy."))
    if errors:
        raise InvalidInput("；".join(e[0] for e in errors), " ".join(e[1] for e in errors),
                           code="invalid_registration")
    ip = request.META.get("REMOTE_ADDR") if request else None
    with transaction.atomic():
        user.real_name = real_name
        user.save(update_fields=["real_name"])
        defaults: dict[str, Any] = {"job_type": job_type, "brand": brand}
        if accept_terms:
            defaults["terms_due"] = False
        profile, created = WorkerProfile.objects.update_or_create(user=user, defaults=defaults)
        profile.areas.set(areas)
        if accept_terms:
            ConsentRecord.objects.create(user=user, purpose=ConsentRecord.Purpose.TERMS,
                                         granted=True, ip=ip)
        last_location = user.consents.filter(purpose=ConsentRecord.Purpose.LOCATION).first()
        if created or (last_location and last_location.granted) != allow_location:
            ConsentRecord.objects.create(user=user, purpose=ConsentRecord.Purpose.LOCATION,
                                         granted=allow_location, ip=ip)
        # The worker role is held district-wide; the profile's areas say where they work.
        root = Area.objects.get(code=areas[0].path.strip("/").split("/")[0])
        if not user.grants.filter(role=Role.WORKER).exists():
            role_grant(actor=user, user=user, role=Role.WORKER, area=root, request=request)
        audit_record("worker.register" if created else "worker.update", actor=user,
                     obj=profile, request=request,
                     detail={"areas": [a.code for a in areas], "job_type": job_type})
    return profile


def worker_enrol(
    *, actor: User, mobile: str, real_name: str, job_type: str, brand: Brand | None,
    areas: list[Area], request: HttpRequest | None = None,
) -> WorkerProfile:
    """An admin puts a worker on the district's list (a base-data import, dashboard/importing):
    the account known by `mobile` (created without a password, as the first SMS sign-in would),
    the worker profile and the worker role, or the profile updated. No consent is recorded on
    the worker's behalf: a profile made here is `terms_due`, and the worker gives their own
    consent at their first sign-in, before anything else. The caller has checked that
    `areas` (and a known worker's current areas) lie in the actor's scope; a number that
    belongs to a disabled account, or to an account that is not a worker, is refused."""
    mobile = normalise_mobile(mobile)
    real_name = nfkc(real_name)
    if not (1 < len(real_name) <= 32):
        raise InvalidInput(_("请填写真实姓名（2–32个字）。"), code="invalid_name", field="real_name")
    if job_type not in WorkerProfile.JobType.values:
        raise InvalidInput(_("请选择工作类型。"), code="invalid_job_type", field="job_type")
    if not areas or len(areas) > MAX_WORK_AREAS:
        raise InvalidInput(_("工作区域须为 1 至 %(max)s 个。"), params={"max": MAX_WORK_AREAS},
                           code="invalid_areas", field="areas")
    with transaction.atomic():
        user = User.objects.select_for_update().filter(mobile=mobile).first()
        if user is not None and not user.is_active:
            raise Conflict(_("该手机号的账号已停用。"), code="account_disabled", field="mobile")
        if user is not None and not hasattr(user, "worker_profile"):
            raise Conflict(_("该手机号已是其他账号（非小哥），不能作为小哥导入。"),
                           code="mobile_taken", field="mobile")
        created = user is None
        if user is None:
            user = User.objects.create_user(mobile, real_name=real_name)
        elif user.real_name != real_name:
            user.real_name = real_name
            user.save(update_fields=["real_name"])
        profile, _created = WorkerProfile.objects.update_or_create(
            user=user, defaults={"job_type": job_type, "brand": brand},
            create_defaults={"job_type": job_type, "brand": brand, "terms_due": True})
        profile.areas.set(areas)
        root = Area.objects.get(code=areas[0].path.strip("/").split("/")[0])
        if not user.grants.filter(role=Role.WORKER).exists():
            role_grant(actor=actor, user=user, role=Role.WORKER, area=root, request=request)
        audit_record("worker.enrol" if created else "worker.update", actor=actor, obj=profile,
                     request=request,
                     detail={"areas": [a.code for a in areas], "job_type": job_type,
                             "source": "import"})
    return profile


def worker_data_export(*, user: User, request: HttpRequest | None = None) -> dict[str, Any]:
    """Everything the system holds about this person (PIPL art. 45: right to a copy): every
    app's registered section (core/privacy.py) — account, needs with their timelines,
    redemptions, the whole points statement, loans, check-ins and services, messages, activity."""
    data: dict[str, Any] = {"exported_at": timezone.now().isoformat(), **person_export(user)}
    audit_record("privacy.export", actor=user, obj=user, request=request)
    return data


def account_close(*, user: User, request: HttpRequest | None = None) -> None:
    """Close an account (PIPL art. 47): every app's eraser runs (core/privacy.py). Records that
    others rely on stay — ledger entries, cases, check-ins, audit lines — pointing at the user
    row, which becomes an anonymous tombstone; no name or mobile of the person remains."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        audit_record("privacy.close", actor=locked, obj=locked, request=request)
        person_erase(locked)
    user.refresh_from_db()
    user.forget_grants()
