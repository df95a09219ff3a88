"""Domain errors and their problem+json form (RFC 9457) with a Chinese and an English message.

One class per kind of refusal, one HTTP status per class (docs/decisions/0003-error-model.md):

    InvalidInput        422  the input itself is wrong: format, range, length, unknown value
    Conflict            409  well-formed, but a rule or the object's state forbids it
    NotFound            404  missing or out of scope (the same answer on purpose)
    PermissionDenied    403  the role does not allow it
    NotAuthenticated    401  no credentials, or wrong ones (API: with a Bearer challenge)
    RateLimited         429  too soon or too many (`extra={"retry_after": seconds}`)
    ServiceUnavailable  503  a dependency does not answer (`retry_after` too)

Services raise them; the API maps them in one handler (`warmstation/config/api.py`), pages in
one decorator (`warmstation/core/forms.py`, `refusal_page`). Nobody builds a status by hand.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import translation
from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    """A refusal the user can act on. Raise one of the subclasses below, never this class.

    The message is either one gettext string (`InvalidInput(_("请输入正确的11位手机号。"))`,
    rendered in both languages when the error is raised) or, where an interpolated value itself
    differs by language (a Chinese and an English item name), an explicit pair
    `(message_zh, message_en)`. Without a message the class's default is used. `field` names the
    form field (or body key) at fault: pages show the message beside it, the API returns it.
    A value that is the same in both languages goes in `params`:
    `Conflict(_("每个驿站最多 %(n)s 张照片。"), params={"n": 12}, code="too_many")`.
    """

    status = 400
    code = "bad_request"
    default_message: Any = _("请求无效。")

    def __init__(
        self,
        message_zh: Any = None,
        message_en: str | None = None,
        *,
        code: str | None = None,
        field: str | None = None,
        params: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        if message_zh is None:
            message_zh = self.default_message
        if message_en is None:
            # One gettext (lazy) string: render it in each language now, so the error carries
            # both whatever language the request that sees it is in. `params` fill its
            # %(name)s placeholders after translation.
            message_zh, message_en = both_languages(message_zh, params)
        super().__init__(message_en)
        self.message_zh = str(message_zh)
        self.message_en = str(message_en)
        if code:
            self.code = code
        self.field = field
        self.extra = extra or {}

    def message(self, language: str | None) -> str:
        return self.message_en if (language or "").startswith("en") else self.message_zh

    def __str__(self) -> str:
        return f"{self.message_zh} / {self.message_en}"


class InvalidInput(ApplicationError):
    """The input itself is wrong (format, range, length, a value that does not exist): 422."""

    status = 422
    code = "invalid_input"
    default_message = _("输入有误。")


class Conflict(ApplicationError):
    """Well-formed, but a rule or the object's current state forbids it: 409.

    Give a specific `code` (`already_returned`, `invalid_transition`, `out_of_stock`)."""

    status = 409
    code = "conflict"
    default_message = _("当前状态不允许此操作。")


class NotFound(ApplicationError):
    """Missing or out of scope: the two look the same on purpose."""

    status = 404
    code = "not_found"
    default_message = _("未找到该记录。")


class PermissionDenied(ApplicationError):
    """Signed in, but the role (or the person's category) does not allow it: 403."""

    status = 403
    code = "forbidden"
    default_message = _("您的角色无权执行此操作。")


class NotAuthenticated(ApplicationError):
    """No credentials, or credentials that are not valid: 401 (with `WWW-Authenticate`)."""

    status = 401
    code = "not_authenticated"
    default_message = _("请先登录。")


class RateLimited(ApplicationError):
    """Too soon or too many: 429, with `retry_after` seconds in the body and a Retry-After header."""

    status = 429
    code = "rate_limited"
    default_message = _("操作过于频繁，请稍后再试。")


class ServiceUnavailable(ApplicationError):
    """A dependency (the database) does not answer: 503 with Retry-After; try again shortly."""

    status = 503
    code = "unavailable"
    default_message = _("服务暂时不可用，请稍后再试。")


ERROR_CLASSES: tuple[type[ApplicationError], ...] = (
    InvalidInput, Conflict, NotFound, PermissionDenied, NotAuthenticated, RateLimited,
    ServiceUnavailable,
)


def error_for_status(status: int, message_zh: str, message_en: str, *, code: str | None = None,
                     field: str | None = None,
                     extra: dict[str, Any] | None = None) -> ApplicationError:
    """Rebuild a refusal from what was stored of it (an idempotent replay): the class is the one
    whose status it had."""
    cls = next((c for c in ERROR_CLASSES if c.status == status), ApplicationError)
    return cls(message_zh, message_en, code=code, field=field, extra=extra)


def problem(
    request: HttpRequest | None,
    *,
    status: int,
    code: str,
    message_zh: str,
    message_en: str,
    field: str | None = None,
    extra: dict[str, Any] | None = None,
) -> JsonResponse:
    """The problem+json answer. 401 carries the Bearer challenge; 429 and 503 a Retry-After."""
    language = getattr(request, "LANGUAGE_CODE", "zh-hans") if request else "zh-hans"
    body = {
        "type": f"https://warmstation.example/problems/{code}",
        "title": message_en if language.startswith("en") else message_zh,
        "status": status,
        "code": code,
        "detail": {"zh": message_zh, "en": message_en},
        **({"field": field} if field else {}),
        **(extra or {}),
    }
    response = JsonResponse(
        body,
        status=status,
        content_type="application/problem+json",
        json_dumps_params={"ensure_ascii": False},
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="warmstation"'
    retry_after = (extra or {}).get("retry_after")
    if retry_after is not None and status in (429, 503):
        response["Retry-After"] = str(int(retry_after))
    return response


def both_languages(message: Any, params: dict[str, Any] | None = None) -> tuple[str, str]:
    """A gettext (lazy) string rendered in Chinese and in English."""
    rendered = []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            rendered.append(str(message) % params if params else str(message))
    return rendered[0], rendered[1]


def protocol_problem(request: HttpRequest | None, *, status: int, code: str, message: Any,
                     extra: dict[str, Any] | None = None) -> JsonResponse:
    """A refusal of the request's form rather than its content (a body that is not JSON, a
    method the path does not have): only the API layer answers these (400, 405, 415)."""
    zh, en = both_languages(message)
    return problem(request, status=status, code=code, message_zh=zh, message_en=en, extra=extra)


def problem_from_error(request: HttpRequest | None, error: ApplicationError) -> JsonResponse:
    return problem(
        request,
        status=error.status,
        code=error.code,
        message_zh=error.message_zh,
        message_en=error.message_en,
        field=error.field,
        extra=error.extra,
    )
