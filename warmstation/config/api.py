"""The one NinjaAPI at /api/v1/: UTF-8 JSON, bearer tokens or the session, problem+json errors."""

import copy
import json
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer
from ninja.responses import NinjaJSONEncoder
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from warmstation.accounts.services import api_token_authenticate
from warmstation.core.errors import (
    ApplicationError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    problem,
    problem_from_error,
    protocol_problem,
)
from warmstation.core.outage import on_database_error

JSON_TYPES = ("application/json",)


class UTF8JSONRenderer(JSONRenderer):
    """Chinese stays readable in the body (ninja escapes non-ASCII by default)."""

    def render(self, request, data, *, response_status):
        return json.dumps(data, cls=NinjaJSONEncoder, ensure_ascii=False)


class BearerAuth(HttpBearer):
    """`Authorization: Bearer <token>`. A token is not a cookie: no CSRF check applies."""

    def authenticate(self, request, token):
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class CookieSessionAuth(SessionAuth):
    """The signed-in browser's session cookie (the pages' own htmx and fetch calls).

    CSRF protects cookies only, so it is checked only when this session would authenticate
    the call: no session, or an `Authorization` header (a bearer client, whose bad token must
    be told so), means this method does not apply and the call gets 401 with a Bearer
    challenge, never "CSRF check failed"."""

    def __init__(self) -> None:
        super().__init__(csrf=False)  # checked below, once we know the cookie is what counts

    def _get_key(self, request):
        if "authorization" in request.headers or not request.user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise PermissionDenied(_("安全校验失败（CSRF），请刷新页面后重试。"),
                                   code="csrf_failed")
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request, key):
        return request.user if key is not None and request.user.is_authenticated else None


class BodyRefused(Exception):
    """Raised by the parser; ninja wraps it in HttpError(400), on_http_error unwraps it."""

    def __init__(self, status: int, code: str, message) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


class StrictJSONParser(Parser):
    """A JSON body is a JSON object sent as application/json, or the call is refused before
    anything runs: 415 for another media type, 400 for a body that is not a JSON object
    (malformed, `"x"`, `[]`). Operations taking files or form fields (multipart photo uploads)
    never come here."""

    def parse_body(self, request):
        if request.content_type not in JSON_TYPES:
            raise BodyRefused(415, "unsupported_media_type",
                              _("请求体须为 JSON（Content-Type: application/json）。"))
        try:
            data = json.loads(request.body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise BodyRefused(400, "malformed_body", _("请求体须为 JSON 对象，无法解析。"))
        return data


class WarmstationAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """The schema, built once per process and language (building it walks every operation's
        pydantic models: ~0.6 s a time here, and the docs page, clients and the suite ask for it
        again and again); each caller gets its own copy."""
        cache: dict[tuple, Any] = self.__dict__.setdefault("_schemas", {})  # per API
        key = (translation.get_language(), repr(args), repr(sorted(kwargs.items())))
        if key not in cache:
            cache[key] = self._build_openapi_schema(*args, **kwargs)
        return copy.deepcopy(cache[key])

    def _build_openapi_schema(self, *args, **kwargs):
        """Declare error bodies as application/problem+json, which is what they are."""
        schema = super().get_openapi_schema(*args, **kwargs)
        problem_ref = None
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                responses = operation.get("responses", {})
                for status, response in responses.items():
                    content = response.get("content", {})
                    if str(status).startswith(("4", "5")) and "application/json" in content:
                        content["application/problem+json"] = content.pop("application/json")
                        problem_ref = problem_ref or content["application/problem+json"]
                if "application/json" in operation.get("requestBody", {}).get("content", {}) \
                        and problem_ref is not None:
                    # Every JSON body is held to its media type and to being an object.
                    for status, text in ((400, "Body is not a JSON object"),
                                         (415, "Body is not application/json")):
                        responses.setdefault(str(status), {
                            "description": text, "content": {"application/problem+json":
                                                             problem_ref}})
        return schema


api = WarmstationAPI(
    title="37°C+ 暖心驿站 API",
    version="1",
    description="warmstation: services for delivery workers in Fangshan district. "
    "Errors are application/problem+json with `detail.zh` and `detail.en`.",
    renderer=UTF8JSONRenderer(),
    auth=[BearerAuth(), CookieSessionAuth()],
    parser=StrictJSONParser(),
    urls_namespace="api",
)


def on_application_error(request, exc: ApplicationError):
    return problem_from_error(request, exc)


# pydantic words its per-field messages in English only; in Chinese each common kind gets its
# own sentence (the constrained types of core/schemas.py carry both languages in their ctx).
_FIELD_MESSAGES_ZH = {
    "missing": "必填。",
    "string_type": "应为文字。",
    "int_type": "应为整数。", "int_parsing": "应为整数。", "int_from_float": "应为整数。",
    "float_type": "应为数字。", "float_parsing": "应为数字。", "decimal_parsing": "应为数字。",
    "bool_type": "应为是或否。", "bool_parsing": "应为是或否。",
    "greater_than_equal": "不能小于 {ge}。", "greater_than": "应大于 {gt}。",
    "less_than_equal": "不能大于 {le}。", "less_than": "应小于 {lt}。",
    "string_too_long": "最多 {max_length} 个字符。", "string_too_short": "至少 {min_length} 个字符。",
    "too_long": "最多 {max_length} 项。", "too_short": "至少 {min_length} 项。",
    "string_pattern_mismatch": "格式不对。",
    "date_type": "日期格式不对（年-月-日）。", "date_parsing": "日期格式不对（年-月-日）。",
    "date_from_datetime_parsing": "日期格式不对（年-月-日）。",
    "datetime_type": "时间格式不对。", "datetime_parsing": "时间格式不对。",
    "datetime_from_date_parsing": "时间格式不对。",
    "time_type": "时刻格式不对（时:分）。", "time_parsing": "时刻格式不对（时:分）。",
    "enum": "应为以下之一：{expected}。", "literal_error": "应为以下之一：{expected}。",
    "model_type": "应为对象。", "dict_type": "应为对象。", "list_type": "应为列表。",
    "json_invalid": "不是有效的 JSON。", "extra_forbidden": "不认识这个字段。",
}


def _field_message(request, err) -> str:
    ctx = err.get("ctx") or {}
    if (getattr(request, "LANGUAGE_CODE", "") or "").startswith("en"):
        return str(ctx["en"]) if isinstance(ctx.get("en"), str) else str(err.get("msg", ""))
    if isinstance(ctx.get("zh"), str):
        return ctx["zh"]
    template = _FIELD_MESSAGES_ZH.get(str(err.get("type", "")), "输入有误。")
    values = {k: v for k, v in ctx.items() if isinstance(v, str | int | float)}
    if isinstance(values.get("expected"), str):  # pydantic's "'a', 'b' or 'c'"
        values["expected"] = str(values["expected"]).replace(" or ", "、").replace(", ", "、")
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return "输入有误。"


def on_validation_error(request, exc: ValidationError):
    fields = []
    for err in exc.errors:
        # loc[0] is where the value came from (body, query, path): not part of the name.
        loc = ".".join(str(p) for p in err.get("loc", [])[1:])
        fields.append({"field": loc, "message": _field_message(request, err)})
    named = [f["field"] for f in fields if f["field"]]
    # Each language joins the names with its own list comma.
    names, names_en = "、".join(named) or "?", ", ".join(named) or "?"
    # The constrained types of core/schemas.py carry their message in both languages.
    ctx = (exc.errors[0].get("ctx") or {}) if len(exc.errors) == 1 else {}
    if isinstance(ctx.get("zh"), str) and isinstance(ctx.get("en"), str):
        return problem(
            request, status=422, code=exc.errors[0].get("type") or "invalid_input",
            message_zh=f"{names}：{ctx['zh']}", message_en=f"{names_en}: {ctx['en']}",
            extra={"errors": fields},
        )
    return problem(
        request, status=422, code="invalid_input",
        message_zh=f"输入有误：{names}。", message_en=f"Invalid input: {names_en}.",
        extra={"errors": fields},
    )


def on_auth_error(request, exc):
    """401 with the Bearer challenge; a token that was sent but is not valid is named so
    (RFC 6750 `error="invalid_token"`)."""
    bad_token = "authorization" in request.headers
    error = NotAuthenticated(_("令牌无效或已过期，请重新登录。") if bad_token else None,
                             code="invalid_token" if bad_token else None)
    response = problem_from_error(request, error)
    if bad_token:
        response["WWW-Authenticate"] = 'Bearer realm="warmstation", error="invalid_token"'
    return response


def on_404(request, exc):
    return problem_from_error(request, NotFound())


# What ninja itself may raise or answer, in both languages (its own texts are English only).
HTTP_MESSAGES = {
    400: ("bad_request", _("请求无效。")),
    403: ("forbidden", _("您的角色无权执行此操作。")),
    404: ("not_found", _("未找到该记录。")),
    405: ("method_not_allowed", _("该地址不支持此请求方法。")),
    413: ("too_large", _("请求体过大。")),
    415: ("unsupported_media_type", _("请求体须为 JSON（Content-Type: application/json）。")),
    429: ("rate_limited", _("操作过于频繁，请稍后再试。")),
}


def on_http_error(request, exc: HttpError):
    cause = exc.__cause__
    if isinstance(cause, BodyRefused):
        return protocol_problem(request, status=cause.status, code=cause.code,
                                message=cause.message)
    if exc.status_code == 400 and exc.__cause__ is not None:  # ninja could not parse the body
        return protocol_problem(request, status=400, code="malformed_body",
                                message=_("请求体须为 JSON 对象，无法解析。"))
    code, message = HTTP_MESSAGES.get(exc.status_code, ("http_error", _("请求无效。")))
    return protocol_problem(request, status=exc.status_code, code=code, message=message)


def api_problem_middleware(get_response):
    """Paths under the APIs that no operation answers (404) or methods a path does not have
    (405) come from Django's resolver and ninja's router as HTML or text: answer them as
    problem+json like everything else the API says."""
    prefixes = getattr(settings, "API_PREFIXES", ("/api/", "/hsds/"))

    def middleware(request):
        response = get_response(request)
        if response.status_code in (404, 405) and request.path.startswith(prefixes) and \
                not response.get("Content-Type", "").startswith("application/problem+json"):
            code, message = HTTP_MESSAGES[response.status_code]
            refused = protocol_problem(request, status=response.status_code, code=code,
                                       message=message)
            if response.has_header("Allow"):
                refused["Allow"] = response["Allow"]
            return refused
        return response

    return middleware


def install_problem_handlers(target: NinjaAPI) -> None:
    """Every API of ours answers errors as problem+json in Chinese and English."""
    # ninja's ExcHandler type says a handler may be given the exception class; ninja always
    # calls it with the instance, which is what ours take.
    target.add_exception_handler(ApplicationError, on_application_error)  # type: ignore[arg-type]
    target.add_exception_handler(ValidationError, on_validation_error)  # type: ignore[arg-type]
    target.add_exception_handler(AuthenticationError, on_auth_error)
    target.add_exception_handler(Http404, on_404)
    target.add_exception_handler(HttpError, on_http_error)  # type: ignore[arg-type]
    # A lost database connection is a 503 with Retry-After, not a 500 (core/outage.py).
    target.add_exception_handler(OperationalError, on_database_error)  # type: ignore[arg-type]
    target.add_exception_handler(InterfaceError, on_database_error)  # type: ignore[arg-type]


install_problem_handlers(api)

api.add_router("/auth", "warmstation.accounts.api.auth_router")
api.add_router("/me", "warmstation.accounts.api.me_router")
api.add_router("/workers", "warmstation.accounts.api.workers_router")
api.add_router("/areas", "warmstation.areas.api.router")
api.add_router("/places", "warmstation.stations.api.places_router")
api.add_router("/stations", "warmstation.stations.api.router")
api.add_router("/points", "warmstation.points.api.router")
api.add_router("/benefits", "warmstation.benefits.api.router")
api.add_router("/appeals", "warmstation.appeals.api.router")
api.add_router("/notices", "warmstation.outreach.api.router")
api.add_router("/volunteering", "warmstation.volunteering.api.router")
api.add_router("/housing", "warmstation.housing.api.router")
api.add_router("/union", "warmstation.union.api.router")
api.add_router("/reports", "warmstation.reports.api.router")
api.add_router("/data", "warmstation.dashboard.api_data.router")
