"""Domain errors and their problem+json form (RFC 9457) with a Chinese and an English message.

Every service raises `ApplicationError` (or a subclass); API operations let it bubble up to the
handler registered on the NinjaAPI, pages show `error.message_zh` / `message_en` as a form error.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import translation


class ApplicationError(Exception):
    """A refusal the user can act on: bad input, a rule that forbids it, a limit reached.

    Raise one of the subclasses below; each has one HTTP status. The message is either one
    gettext string (`InvalidInput(_("请输入正确的11位手机号。"))`, translated into both languages
    when the error is raised) or, where an interpolated value itself differs by language (a
    Chinese and an English item name), an explicit pair `(message_zh, message_en)`.
    """

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message_zh: Any,
        message_en: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        field: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        if message_en is None:
            # One gettext (lazy) string: render it in each language now, so the error carries
            # both whatever language the request that sees it is in.
            with translation.override("zh-hans"):
                zh = str(message_zh)
            with translation.override("en"):
                message_en = str(message_zh)
            message_zh = zh
        super().__init__(message_en)
        self.message_zh = str(message_zh)
        self.message_en = message_en
        if code:
            self.code = code
        if status:
            self.status = status
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


class Conflict(ApplicationError):
    """Well-formed, but a rule or the object's current state forbids it: 409.

    Give a specific `code` (`already_returned`, `invalid_transition`, `out_of_stock`)."""

    status = 409
    code = "conflict"


class NotFound(ApplicationError):
    """Missing or out of scope: the two look the same on purpose."""

    status = 404
    code = "not_found"

    def __init__(self) -> None:
        super().__init__("未找到该记录。", "Not found.")


class PermissionDenied(ApplicationError):
    status = 403
    code = "forbidden"

    def __init__(self) -> None:
        super().__init__("您的角色无权执行此操作。", "Your role does not allow this.")


class NotAuthenticated(ApplicationError):
    status = 401
    code = "not_authenticated"

    def __init__(self) -> None:
        super().__init__("请先登录。", "Please sign in first.")


class RateLimited(ApplicationError):
    """Too soon or too many: 429, with `retry_after` seconds in the body and a Retry-After header."""

    status = 429
    code = "rate_limited"


class ServiceUnavailable(ApplicationError):
    """A dependency (the database) does not answer: 503 with Retry-After; try again shortly."""

    status = 503
    code = "unavailable"


def problem(
    request: HttpRequest | None,
    *,
    status: int,
    code: str,
    message_zh: str,
    message_en: str,
    extra: dict[str, Any] | None = None,
) -> JsonResponse:
    language = getattr(request, "LANGUAGE_CODE", "zh-hans") if request else "zh-hans"
    body = {
        "type": f"https://warmstation.example/problems/{code}",
        "title": message_en if language.startswith("en") else message_zh,
        "status": status,
        "code": code,
        "detail": {"zh": message_zh, "en": message_en},
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


def problem_from_error(request: HttpRequest | None, error: ApplicationError) -> JsonResponse:
    return problem(
        request,
        status=error.status,
        code=error.code,
        message_zh=error.message_zh,
        message_en=error.message_en,
        extra=error.extra,
    )
