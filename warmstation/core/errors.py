"""Domain errors and their problem+json form (RFC 9457) with a Chinese and an English message.

Every service raises `ApplicationError` (or a subclass); API operations let it bubble up to the
handler registered on the NinjaAPI, pages show `error.message_zh` / `message_en` as a form error.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse


class ApplicationError(Exception):
    """A refusal the user can act on: bad input, a rule that forbids it, a limit reached."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message_zh: str,
        message_en: str,
        *,
        code: str | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en
        if code:
            self.code = code
        if status:
            self.status = status
        self.extra = extra or {}

    def message(self, language: str | None) -> str:
        return self.message_en if (language or "").startswith("en") else self.message_zh

    def __str__(self) -> str:
        return f"{self.message_zh} / {self.message_en}"


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
    status = 429
    code = "rate_limited"


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
