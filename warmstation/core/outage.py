"""While the database does not answer: 503 with Retry-After, never a 500.

A lost or refused database connection (django.db OperationalError / InterfaceError) anywhere in
a request becomes
- for `/api/` and `/hsds/`: problem+json `503 database_unavailable` with `retry_after`;
- for pages: a short page in Chinese and English, "稍后再试 / try again in a moment".

Three places catch it, because an exception reaches Django by three roads: the ninja APIs'
exception handler (config/api.py: ninja answers its own exceptions before any middleware sees
them), `DatabaseUnavailableMiddleware.process_exception` (any other view), and `server_error`,
the 500 handler, for an exception raised inside a middleware (e.g. reading the session).

Nothing half-done is left: each request's writes are in one transaction (services own them),
which the database rolls back when the connection is lost. The response skips the session save
(Django does not save a session on a 5xx).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils.translation import gettext_lazy as _

from warmstation.core.errors import ServiceUnavailable, problem_from_error
from warmstation.core.liveness import is_database_down

logger = logging.getLogger("warmstation.outage")

RETRY_AFTER_SECONDS = 5
API_PREFIXES = ("/api/", "/hsds/")


def database_unavailable(request: HttpRequest | None) -> HttpResponse:
    path = getattr(request, "path", "") or ""
    if path.startswith(API_PREFIXES):
        return problem_from_error(request, ServiceUnavailable(
            _("数据库暂时无法连接，请稍后再试。"),
            code="database_unavailable", extra={"retry_after": RETRY_AFTER_SECONDS}))
    # Rendered without the request: no context processor may touch the session or the user.
    html = loader.get_template("core/unavailable.html").render(
        {"retry_after": RETRY_AFTER_SECONDS})
    response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def on_database_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The ninja exception handler (registered in config/api.py)."""
    logger.warning("database unavailable during %s %s: %s", request.method, request.path, exc)
    return database_unavailable(request)


class DatabaseUnavailableMiddleware:
    """Turns a database outage raised by a view into the 503 above."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_down(exception):
            logger.warning("database unavailable during %s %s: %s", request.method,
                           request.path, exception)
            return database_unavailable(request)
        return None


def server_error(request: HttpRequest) -> HttpResponse | None:
    """Part of the 500 handler: the 503 when the exception being handled is a database
    outage, else None (the caller answers its own 500)."""
    exc = sys.exc_info()[1]
    if exc is not None and is_database_down(exc):
        return database_unavailable(request)
    return None
