"""Rate limits: the one mechanism every limited endpoint uses (docs/decisions/0012).

`rate_limit(request, "sign_in")` counts one hit for the caller in the scope's current window and
raises `RateLimited` (429 with `Retry-After`) once the scope's limit is passed. The scopes and
their limits are `settings.RATE_LIMITS`: `{scope: (hits, window_seconds, key)}` where `key` is

- `"ip"`: the trusted client address (`core.audit.client_ip`: X-Forwarded-For only from
  `TRUSTED_PROXIES`, otherwise the connection's address);
- `"user"`: the signed-in person (their id), or the address when nobody is signed in — workers
  on mobile data share carrier-grade NAT addresses, so a per-address limit on signed-in writes
  would stop a whole street at once.

Counters live in the Django cache: Redis (`REDIS_URL`) shares them across web processes and
machines; local memory (the demo) counts per process. A fixed window (`rl:<scope>:<who>:<n>`,
`add` then `incr`, both atomic in Redis) costs one round trip and no clock agreement between
machines.

When the cache does not answer (Redis down), a scope in `RATE_LIMIT_FAIL_CLOSED` (the sign-in
and SMS-code scopes: unlimited guessing or SMS bombing is the harm) refuses with 429 and a
short Retry-After; every other scope lets the request through and logs it, so pages and reports
keep working during the outage.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from warmstation.core.audit import client_ip
from warmstation.core.errors import RateLimited

logger = logging.getLogger("warmstation.ratelimit")

# While the cache is down, a fail-closed scope asks the client to come back after this long.
UNAVAILABLE_RETRY_AFTER = 30


def _who(request: HttpRequest | None, key: str, ident: str | None) -> str:
    if ident is not None:
        # Mobiles and the like never reach the cache (or its keys) in clear.
        return "k" + hashlib.sha256(f"{settings.SECRET_KEY}:{ident}".encode()).hexdigest()[:24]
    user = getattr(request, "user", None)
    if key == "user" and user is not None and user.is_authenticated:
        return f"u{user.pk}"
    return f"ip{client_ip(request) or '-'}"


def rate_limit(request: HttpRequest | None, scope: str, *, ident: str | None = None) -> None:
    """Count one hit for the caller of `request` in `scope`; raise RateLimited past the limit.

    `ident` replaces the caller's address or id (e.g. a merchant's counter): it is hashed before
    it is used in a key. Without a request nor an `ident` (a service called from a command or
    a test, not by a client) there is nobody to count: no limit."""
    if request is None and ident is None:
        return
    hits, window, key = settings.RATE_LIMITS[scope]
    now = time.time()
    slot = int(now // window)
    cache_key = f"rl:{scope}:{_who(request, key, ident)}:{slot}"
    try:
        used = _count_hit(cache_key, window + 1)
    except Exception as exc:  # noqa: BLE001 — any cache failure: decide by the scope's rule
        if scope in settings.RATE_LIMIT_FAIL_CLOSED:
            logger.error(
                "rate limit %s: cache unavailable, refusing (%s)", scope, type(exc).__name__
            )
            raise RateLimited(
                _("服务繁忙，请稍后再试。"),
                code="rate_limit_unavailable",
                extra={"retry_after": UNAVAILABLE_RETRY_AFTER},
            ) from None
        logger.warning(
            "rate limit %s: cache unavailable, not limiting (%s)", scope, type(exc).__name__
        )
        return
    if used > hits:
        retry_after = max(1, int((slot + 1) * window - now) + 1)
        logger.info("rate limit %s reached (%s hits in %s s)", scope, hits, window)
        raise RateLimited(
            _("操作过于频繁，请 %(seconds)s 秒后再试。"),
            params={"seconds": retry_after},
            extra={"retry_after": retry_after},
        )


def _count_hit(cache_key: str, timeout: int) -> int:
    """The window's count after this hit. On Redis one round trip (SET NX EX and INCR in a
    pipeline, which any Redis version runs); on another cache its add and incr."""
    client: Any = getattr(cache, "client", None)
    if hasattr(client, "get_client") and hasattr(client, "make_key"):  # django-redis
        key = client.make_key(cache_key)
        pipe = client.get_client(write=True).pipeline(transaction=False)
        pipe.set(key, 0, ex=timeout, nx=True)
        pipe.incr(key)
        return int(pipe.execute()[1])
    cache.add(cache_key, 0, timeout=timeout)
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=timeout)
        return 1


def rate_limit_count(request: HttpRequest | None, scope: str, *, ident: str | None = None) -> int:
    """How many hits the caller has used in the scope's current window (0 if the cache is
    down); for limits that count only failures (check first, `rate_limit` on a failure)."""
    _hits, window, key = settings.RATE_LIMITS[scope]
    slot = int(time.time() // window)
    try:
        return int(cache.get(f"rl:{scope}:{_who(request, key, ident)}:{slot}") or 0)
    except Exception:  # noqa: BLE001
        if scope in settings.RATE_LIMIT_FAIL_CLOSED:
            raise RateLimited(
                _("服务繁忙，请稍后再试。"),
                code="rate_limit_unavailable",
                extra={"retry_after": UNAVAILABLE_RETRY_AFTER},
            ) from None
        return 0
