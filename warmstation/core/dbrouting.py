"""Reads to a streaming replica, writes to the primary, and a writer's next reads to the primary
too (read-your-writes).

Configured by `DATABASE_REPLICA_URL` (settings.py adds a `replica` database and this router);
without it there is one database and nothing here runs. The rules, in order:

1. Writes go to the primary (`default`), always; so does everything outside a web request
   (task workers, periodic jobs, commands): a task reads what was committed a moment ago.
2. A read inside a transaction on the primary stays on the primary: services own their
   transactions, and what they read (a balance they lock, a code they claim) must be the
   primary's, never a replica's that may be a few milliseconds behind.
3. After a request has written anything, the rest of it reads from the primary, and so do the
   same browser's requests for `REPLICA_PIN_SECONDS` (a cookie, `ws_primary`): the worker who
   raised a need sees it on the next page. The cookie only says where reads go, so a forged one
   costs its sender nothing but a little speed.
4. Otherwise a read goes to the replica, unless the replica failed to connect in the last
   `REPLICA_RETRY_SECONDS`: then reads fall back to the primary until it answers again. A read
   of a GET that finds the replica gone mid-query is answered again, once, by the primary.

What this is for, and what it costs, is in docs/scaling.md."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.db.utils import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
PIN_COOKIE = "ws_primary"

_state = threading.local()
_replica_down_until = 0.0
_down_lock = threading.Lock()


def _pinned() -> bool:
    return getattr(_state, "pinned", False)


def pin_to_primary() -> None:
    """From now on, this request (and, through the cookie, the next ones) reads the primary."""
    _state.pinned = True
    _state.wrote = True


def replica_usable() -> bool:
    return time.monotonic() >= _replica_down_until


def replica_failed() -> None:
    """The replica did not answer: reads use the primary for `REPLICA_RETRY_SECONDS`."""
    global _replica_down_until
    with _down_lock:
        _replica_down_until = time.monotonic() + settings.REPLICA_RETRY_SECONDS
    with contextlib.suppress(Exception):  # a dead connection may fail to close; it is dropped
        connections[REPLICA].close()


def _replica_connects() -> bool:
    """Connected already (Django's health check drops a dead connection at each request's
    start), or connects now; a failure marks the replica down."""
    connection = connections[REPLICA]
    if connection.connection is not None:
        return True
    try:
        connection.ensure_connection()
    except (OperationalError, InterfaceError):
        replica_failed()
        return False
    return True


class PrimaryReplicaRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        if (not getattr(_state, "in_request", False) or _pinned()
                or connections[DEFAULT_DB_ALIAS].in_atomic_block):
            return DEFAULT_DB_ALIAS
        if not replica_usable() or not _replica_connects():
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        pin_to_primary()
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # the same data on both: an object read from either may point at the other

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS  # the replica is a copy; only the primary is migrated


def replica_routing_middleware(
        get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Rule 3: the pin, from the cookie at the start, into the cookie at the end; and rule 4's
    second chance: a GET or HEAD that failed because the replica went away mid-request is
    answered again, once, from the primary. Placed above the session middleware so a session
    written on the way out (a sign-in) pins as well."""

    if REPLICA not in settings.DATABASES:
        raise MiddlewareNotUsed  # one database: nothing to route

    def middleware(request: HttpRequest) -> HttpResponse:
        _state.in_request = True
        _state.pinned = _cookie_pins(request)
        _state.wrote = False
        try:
            response = get_response(request)
            if (response.status_code >= 500 and request.method in ("GET", "HEAD")
                    and connections[REPLICA].errors_occurred):
                # The replica failed this read (connecting, or mid-query): answer it again
                # from the primary, which now serves reads until the replica is back.
                replica_failed()
                connections[REPLICA].errors_occurred = False
                response = get_response(request)
            if _state.wrote:
                response.set_cookie(
                    PIN_COOKIE, str(int(time.time()) + settings.REPLICA_PIN_SECONDS),
                    max_age=settings.REPLICA_PIN_SECONDS, httponly=True, samesite="Lax",
                    secure=request.is_secure())
            return response
        finally:
            _state.in_request = False
            _state.pinned = False
            _state.wrote = False

    return middleware


def _cookie_pins(request: HttpRequest) -> bool:
    try:
        return int(request.COOKIES.get(PIN_COOKIE, "0")) > time.time()
    except ValueError:
        return False
