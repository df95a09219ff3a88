"""Idempotency keys for every call that moves points.

`idempotent(...)` runs a piece of work at most once per (scope, caller, key) and remembers its
response — a refusal (ApplicationError) included, so a retried refusal is the same refusal.
The same key with a different body is a 422. Concurrent duplicates meet at the unique
constraint: `INSERT … ON CONFLICT DO NOTHING` waits for the first transaction holding the key,
then inserts nothing, and the late-comer replays what the first one stored.

Retention: a client may retry a request with the same key for up to RETRY_WINDOW (24 hours;
documented in docs/points-ledger.md). Keys are kept settings.POINTS_IDEMPOTENCY_RETENTION_DAYS
(default 7, never less than the window) and then deleted by `idempotency_purge_due`, a periodic
job: a key older than that is a new request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from warmstation.core.errors import ApplicationError, InvalidInput, error_for_status
from warmstation.points.models import IdempotencyKey


class KeyReused(InvalidInput):
    code = "idempotency_key_reused"
    default_message = _("该幂等键已用于另一个请求。")


class KeyInvalid(InvalidInput):
    code = "idempotency_key_invalid"
    default_message = _("请提供有效的幂等键（Idempotency-Key，1–128 个可见 ASCII 字符）。")


def request_hash(body: dict[str, Any]) -> str:
    raw = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def canonical(response: dict) -> dict:
    """Keys sorted, as JSON round-trips them: a replay (read back from a jsonb column, which
    reorders keys) and the first answer are then the same dict in the same order."""
    return json.loads(json.dumps(response, sort_keys=True, ensure_ascii=False, default=str))


def check_key(key: str | None) -> str:
    if not key or len(key) > 128 or not all("!" <= c <= "~" for c in key):
        raise KeyInvalid()
    return key


def _claim(scope: str, owner_id: int, key: str, digest: str) -> int | None:
    """Insert the key row; None if it exists (after waiting for its writer to finish)."""
    table = IdempotencyKey._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (scope, owner_id, key, request_hash, status_code, response, "  # noqa: S608
            "created_at) VALUES (%s, %s, %s, %s, 0, %s, %s) "
            "ON CONFLICT (scope, owner_id, key) DO NOTHING RETURNING id",
            [scope, owner_id, key, digest, "{}", timezone.now()],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def replay(record: IdempotencyKey, digest: str) -> dict:
    if record.request_hash != digest:
        raise KeyReused()
    if record.status_code >= 400:
        r = record.response
        raise error_for_status(record.status_code, r.get("message_zh", ""),
                               r.get("message_en", ""), code=r.get("code"),
                               field=r.get("field"), extra=r.get("extra") or None)
    return canonical(record.response)


def idempotent(*, scope: str, owner_id: int, key: str | None, body: dict[str, Any],
               work: Callable[[], dict]) -> tuple[dict, bool]:
    """Run `work()` (which returns a JSON-able dict) once for this key; returns (response,
    replayed). Must not be called inside a transaction that already holds the key."""
    key = check_key(key)
    digest = request_hash(body)
    error: ApplicationError | None = None
    with transaction.atomic():
        record_id = _claim(scope, owner_id, key, digest)
        if record_id is not None:
            try:
                # A savepoint: a refusal undoes the work's writes but keeps the key row, so the
                # refusal itself is remembered (raised below, after the block commits).
                with transaction.atomic():
                    response = canonical(work())
                status = 200
            except ApplicationError as exc:
                error, status = exc, exc.status
                response = {"code": exc.code, "message_zh": exc.message_zh,
                            "message_en": exc.message_en, "field": exc.field,
                            "extra": exc.extra}
            IdempotencyKey.objects.filter(pk=record_id).update(status_code=status,
                                                               response=response)
    if record_id is None:
        return replay(IdempotencyKey.objects.get(scope=scope, owner_id=owner_id, key=key),
                       digest), True
    if error is not None:
        raise error
    return response, False


RETRY_WINDOW = timedelta(hours=24)
PURGE_BATCH = 10_000


def idempotency_retention() -> timedelta:
    days = timedelta(days=int(getattr(settings, "POINTS_IDEMPOTENCY_RETENTION_DAYS", 7)))
    return max(days, RETRY_WINDOW)


def idempotency_purge_due(*, now: datetime | None = None) -> int:
    """Delete idempotency keys past their retention, oldest first, in short batches (each an
    indexed range on created_at); returns how many were deleted."""
    cutoff = (now or timezone.now()) - idempotency_retention()
    done = 0
    while True:
        ids = list(IdempotencyKey.objects.filter(created_at__lt=cutoff).order_by("created_at")
                   .values_list("pk", flat=True)[:PURGE_BATCH])
        if not ids:
            return done
        done += IdempotencyKey.objects.filter(pk__in=ids).delete()[0]
        if len(ids) < PURGE_BATCH:
            return done
