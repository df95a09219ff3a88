"""Sign-in, the signed-in person, and (for area and district admins) workers in scope."""

from typing import Annotated

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from ninja import Router, Status
from ninja.pagination import paginate

from warmstation.accounts import services
from warmstation.accounts.models import AuthLevel, Role
from warmstation.accounts.schemas import (
    GrantOut,
    MeOut,
    RevealOut,
    SmsCodeIn,
    SmsCodeOut,
    SmsVerifyIn,
    StaffTokenIn,
    TokenOut,
    WorkerOut,
)
from warmstation.accounts.selectors import access_worker_by_id, worker_list
from warmstation.core.audit import audit_record
from warmstation.core.errors import Conflict
from warmstation.core.permissions import require_roles
from warmstation.core.schemas import AUTH_ERRORS, Id, Line, ProblemOut

auth_router = Router(tags=["auth"])
me_router = Router(tags=["me"])
workers_router = Router(tags=["workers"])


def _token_out(user, level: int, raw: str) -> TokenOut:
    return TokenOut(token=raw, expires_in_s=settings.API_TOKEN_DAYS * 86400, auth_level=level,
                    registered=hasattr(user, "worker_profile"))


@auth_router.post("/sms-code", auth=None, url_name="auth_sms_code", operation_id="request_sms_code",
                  summary="Send a sign-in code by SMS",
                  response={200: SmsCodeOut, 422: ProblemOut, 429: ProblemOut})
def request_sms_code(request, payload: SmsCodeIn):
    sms = services.sms_code_request(mobile=payload.mobile, request=request)
    return SmsCodeOut(expires_at=sms.expires_at, resend_after_s=settings.SMS_CODE_RESEND_SECONDS)


@auth_router.post("/sms-token", auth=None, url_name="auth_sms_token", operation_id="sms_token",
                  summary="Exchange an SMS code for a bearer token (workers, residents)",
                  response={200: TokenOut, 403: ProblemOut, 422: ProblemOut, 429: ProblemOut})
def sms_token(request, payload: SmsVerifyIn):
    user = services.sms_code_verify(mobile=payload.mobile, code=payload.code, request=request)
    raw = services.api_token_issue(user=user, auth_level=AuthLevel.CODE,
                                   name=payload.token_name, request=request)
    return _token_out(user, AuthLevel.CODE, raw)


@auth_router.post("/staff-token", auth=None, url_name="auth_staff_token",
                  operation_id="staff_token",
                  summary="Exchange a password (and TOTP for admins) for a bearer token",
                  response={200: TokenOut, 403: ProblemOut, 409: ProblemOut, 422: ProblemOut,
                            429: ProblemOut})
def staff_token(request, payload: StaffTokenIn):
    user = services.staff_password_check(mobile=payload.mobile, password=payload.password,
                                         request=request)
    level = AuthLevel.PASSWORD
    if services.needs_mfa(user):
        if not user.totp_confirmed_at:
            raise Conflict(_("管理员须先在网页上绑定动态码。"), code="totp_missing")
        services.totp_verify(user=user, code=payload.totp, request=request)
        level = AuthLevel.MFA
    raw = services.api_token_issue(user=user, auth_level=level, name=payload.token_name,
                                   request=request)
    return _token_out(user, level, raw)


@auth_router.post("/revoke", url_name="auth_revoke", operation_id="revoke_token",
                  summary="Revoke the bearer token this request uses",
                  response={204: None, **AUTH_ERRORS})
def revoke_token(request):
    token_id = getattr(request.user, "api_token_id", None)
    if token_id:
        services.api_token_revoke(user=request.user, token_id=token_id, request=request)
    return Status(204, None)


@me_router.get("", url_name="me", operation_id="get_me", summary="Who I am and what I may do",
               response={200: MeOut, **AUTH_ERRORS})
def get_me(request):
    user = request.user
    active = {g.pk for g in user.active_grants()}
    profile = getattr(user, "worker_profile", None)
    return MeOut(
        id=user.pk, mobile=user.mobile, real_name=user.real_name, auth_level=user.auth_level,
        roles=[
            GrantOut(role=g.role, role_label=g.get_role_display(), area_code=g.area.code,
                     area_name=g.area.name_zh,
                     department=g.department.name_zh if g.department else None,
                     active=g.pk in active)
            for g in user.grants_held()
        ],
        job_type=profile.job_type if profile else None,
        brand=profile.brand.name_zh if profile and profile.brand else None,
        area_codes=[a.code for a in profile.areas.all()] if profile else [],
    )


@me_router.get("/export", url_name="me_export", operation_id="export_my_data",
               summary="Download all my personal data as JSON",
               response={200: dict, **AUTH_ERRORS})
def export_my_data(request):
    return services.worker_data_export(user=request.user, request=request)


@me_router.post("/close", url_name="me_close", operation_id="close_my_account",
                summary="Close my account: personal data anonymised",
                response={204: None, **AUTH_ERRORS})
def close_my_account(request):
    services.account_close(user=request.user, request=request)
    return Status(204, None)


@workers_router.get("", url_name="workers", operation_id="list_workers",
                    summary="Workers registered in my areas (mobile masked)",
                    response={200: list[WorkerOut], **AUTH_ERRORS})
@require_roles(Role.AREA_ADMIN, Role.DISTRICT_ADMIN)
@paginate
def list_workers(request, area: Annotated[str, Line(32)] | None = None):
    return worker_list(user=request.user, area_code=area)


@workers_router.post("/{worker_id}/reveal", url_name="worker_reveal",
                     operation_id="reveal_worker_mobile",
                     summary="Show a worker's full mobile number (audited)",
                     response={200: RevealOut, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(Role.AREA_ADMIN, Role.DISTRICT_ADMIN)
def reveal_worker_mobile(request, worker_id: Id):
    profile = access_worker_by_id(request.user, worker_id)
    audit_record("privacy.reveal", actor=request.user, obj=profile.user, request=request,
                 detail={"field": "mobile"})
    return RevealOut(id=profile.pk, mobile=profile.user.mobile)

