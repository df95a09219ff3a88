"""How pages show a refusal: the page side of the error model (docs/decisions/0003-error-model.md).

- A form whose service refuses it is rendered again by `refused(...)`: the same template, the
  user's input kept (`data`), the message beside the field the error names (`error.field`, when
  the form has that field) or at the top, and the error's own status (422, 409, 429, 403).
- `NotFound` anywhere in a page view becomes the site's 404 page, `PermissionDenied` outside a
  form the 403 page, any other uncaught refusal the error page with its message and status:
  `RefusalMiddleware` does that once, so views do not catch `NotFound` themselves.
- An action that is a button, not a form, redirects with `refused_message(...)`: the message
  is the page's error flash (one flash style: `messages.success` / `messages.error` with a
  gettext string, never a "中文。 English." pair).
- htmx swaps the answer of a refused form like a success: base.html sets
  `htmx.config.responseHandling` so that 409, 422 and 429 are swapped (htmx ignores 4xx bodies by
  default) while other 4xx/5xx are not.

The API maps the same classes to problem+json in warmstation/config/api.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from warmstation.core.errors import ApplicationError, NotFound, PermissionDenied


def not_found_page(request: HttpRequest) -> HttpResponse:
    return render(request, "core/error.html", {"status": 404}, status=404)


def forbidden_page(request: HttpRequest) -> HttpResponse:
    return render(request, "core/error.html", {"status": 403}, status=403)


def refusal_context(request: HttpRequest, error: ApplicationError, *,
                    fields: Iterable[str] = (), data: Any = None) -> dict[str, Any]:
    """What a form template needs to show a refusal: `error` (the message in the page's
    language), `error_field` and `error_beside` (the message goes beside that field instead of
    at the top), `error_code`, and `data` (what the user typed, to fill the form again)."""
    return {
        "error": error.message(getattr(request, "LANGUAGE_CODE", "")),
        "error_code": error.code,
        "error_field": error.field,
        "error_beside": bool(error.field) and error.field in set(fields),
        "data": request.POST if data is None else data,
    }


def refused(request: HttpRequest, template: str, ctx: dict[str, Any], error: ApplicationError,
            *, fields: Iterable[str] = (), data: Any = None) -> HttpResponse:
    """Render `template` again for a refused form, with its status. `fields` are the form's
    field names (where a message can go beside its field). A NotFound is not a form error: it
    is raised on, and the middleware answers the 404 page."""
    if isinstance(error, NotFound):
        raise error
    response = render(request, template, {**ctx, **refusal_context(request, error, fields=fields,
                                                                   data=data)},
                      status=error.status)
    retry_after = error.extra.get("retry_after")
    if retry_after is not None and error.status in (429, 503):
        response["Retry-After"] = str(int(retry_after))
    return response


def refused_message(request: HttpRequest, error: ApplicationError) -> None:
    """For an action that is a button rather than a form (take a code, a step on a case): the
    refusal becomes the error flash message of the page it redirects to. NotFound is raised."""
    if isinstance(error, NotFound):
        raise error
    messages.error(request, error.message(getattr(request, "LANGUAGE_CODE", "")))


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(getattr(settings, "API_PREFIXES", ("/api/", "/hsds/")))


class RefusalMiddleware:
    """Refusals a page view did not handle, answered once for every page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, ApplicationError) or _is_api(request):
            return None
        if isinstance(exc, NotFound):
            return not_found_page(request)
        if isinstance(exc, PermissionDenied) and exc.code == PermissionDenied.code:
            return forbidden_page(request)
        response = render(request, "core/error.html", {"status": exc.status,
                                                       "message": exc.message(
                                                           getattr(request, "LANGUAGE_CODE",
                                                                   ""))},
                          status=exc.status)
        retry_after = exc.extra.get("retry_after")
        if retry_after is not None and exc.status in (429, 503):
            response["Retry-After"] = str(int(retry_after))
        return response
