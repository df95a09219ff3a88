"""The counter's redemption on SQLite as the same set-based statements as PostgreSQL's
`benefits_redeem` (benefits migration 0002), run from Python in one transaction: ~14 plain
statements through one cursor instead of the ORM path's ~19 ORM queries and ~12,000 Python
calls. Called only by `services._redeem_sql`, with the function's arguments; returns what the
function returns — (outcome, status_code, response, request_hash) — or None when it hands the
request back to the Python path (a hold no longer active, not enough points, no chain head yet),
having written nothing.

Keep this and the PL/pgSQL in step: the same statements in the same order, the same refusals,
the same rows written. The chain's text is points.chain.tx_text, here called directly.
SQLite has no row locks: Django opens every transaction here with BEGIN IMMEDIATE
(settings.py), so this one holds the database's write lock from its first statement, and the
reads below are as current as the PL/pgSQL's under its row locks.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from warmstation.benefits.models import Redemption
from warmstation.core.models import AuditEvent
from warmstation.points.chain import tx_hash
from warmstation.points.models import (
    Entry,
    Hold,
    IdempotencyKey,
    LedgerHead,
    LedgerTransaction,
    PointsAccount,
)

T_KEY = IdempotencyKey._meta.db_table
T_REDEMPTION = Redemption._meta.db_table
T_HOLD = Hold._meta.db_table
T_ACCOUNT = PointsAccount._meta.db_table
T_HEAD = LedgerHead._meta.db_table
T_TX = LedgerTransaction._meta.db_table
T_ENTRY = Entry._meta.db_table
T_AUDIT = AuditEvent._meta.db_table
CENTS = Decimal("0.01")  # Redemption.price and normal_price: decimal_places=2


class _HandBack(Exception):  # noqa: N818 — not an error: the Python path takes over
    """Raised inside the transaction so that it rolls back whatever it wrote."""


def _money(value: Any) -> str | None:
    """A price as PostgreSQL's `numeric::text` gives it ('12.00'): SQLite hands back the
    column's number (12 or 12.5)."""
    return None if value is None else str(Decimal(str(value)).quantize(CENTS))


def redeem_inline(*, scope: str, owner_id: int, key: str, digest: str, merchant_id: int,
                  by_token: bool, code_hash: str, actor_id: int, now: datetime,
                  ip: str | None, invalid: str, expired: str,
                  ) -> tuple[str, int, dict[str, Any], str] | None:
    """benefits_redeem(...), statement for statement (see the module's docstring)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            return _redeem(cursor, scope, owner_id, key, digest, merchant_id, by_token,
                           code_hash, actor_id, now, ip, invalid, expired)
    except _HandBack:
        return None


def _redeem(cursor: Any, scope: str, owner_id: int, key: str, digest: str, merchant_id: int,
            by_token: bool, code_hash: str, actor_id: int, now: datetime, ip: str | None,
            invalid: str, expired: str) -> tuple[str, int, dict[str, Any], str]:
    at = connection.ops.adapt_datetimefield_value(now)
    cursor.execute(
        f"INSERT INTO {T_KEY} (scope, owner_id, key, request_hash, status_code, response, "  # noqa: S608
        "created_at) VALUES (%s, %s, %s, %s, 0, '{}', %s) "
        "ON CONFLICT (scope, owner_id, key) DO NOTHING RETURNING id",
        [scope, owner_id, key, digest, at])
    row = cursor.fetchone()
    if row is None:
        cursor.execute(f"SELECT status_code, response, request_hash FROM {T_KEY} "  # noqa: S608
                       "WHERE scope = %s AND owner_id = %s AND key = %s", [scope, owner_id, key])
        status, response, stored = cursor.fetchone()
        return "replay", status, json.loads(response), stored
    key_id = row[0]
    code_column = "token_hash" if by_token else "digits_hash"

    cursor.execute(
        f"UPDATE {T_REDEMPTION} SET status = 'redeemed', redeemed_at = %s, redeemed_by_id = %s "  # noqa: S608
        f"WHERE merchant_id = %s AND status = 'issued' AND expires_at > %s AND {code_column} = %s "
        "RETURNING id, hold_id, title, price, normal_price, points",
        [at, actor_id, merchant_id, at, code_hash])
    found = cursor.fetchone()
    if found is None:
        # Why not: unknown, used (or being used), or expired while still issued.
        cursor.execute(
            f"SELECT status FROM {T_REDEMPTION} WHERE merchant_id = %s AND {code_column} = %s"  # noqa: S608
            + ("" if by_token else " AND status = 'issued'"), [merchant_id, code_hash])
        was = cursor.fetchone()
        refusal = expired if was is not None and was[0] == "issued" else invalid
        cursor.execute(f"UPDATE {T_KEY} SET status_code = 409, response = %s WHERE id = %s",  # noqa: S608
                       [refusal, key_id])
        return "refused", 409, json.loads(refusal), digest
    redemption_id, hold_id, title, price, normal_price, points = found

    tx_id = None
    if hold_id is not None:
        tx_id = _post_hold(cursor, hold_id, redemption_id, actor_id, at)

    cursor.execute(
        f"INSERT INTO {T_AUDIT} (at, actor_id, actor_label, subject_id, action, object_type, "  # noqa: S608
        "object_id, result, ip, detail) VALUES (%s, %s, '', NULL, 'redemption.redeem', "
        "'benefits.redemption', %s, 'ok', %s, %s)",
        [at, actor_id, str(redemption_id), ip,
         json.dumps({"merchant": merchant_id, "points": points, "transaction": tx_id})])
    response = {"redemption_id": redemption_id, "status": "redeemed", "title": title,
                "merchant_id": merchant_id, "price": _money(price),
                "normal_price": _money(normal_price), "points": points,
                "transaction_id": tx_id, "redeemed_at": now.isoformat()}
    cursor.execute(f"UPDATE {T_KEY} SET status_code = 200, response = %s WHERE id = %s",  # noqa: S608
                   [json.dumps(response, ensure_ascii=False), key_id])
    return "done", 200, response, digest


def _post_hold(cursor: Any, hold_id: int, redemption_id: int, actor_id: int, at: Any) -> int:
    """The hold posted as one balanced, chained transaction (points.services._post's order:
    the head, the entries, the balances to the entries' balance_after, the hold, the head's
    hash); raises _HandBack for anything the Python path must word."""
    cursor.execute(f"SELECT account_id, amount, payee_code, memo FROM {T_HOLD} WHERE id = %s",  # noqa: S608
                   [hold_id])
    account_id, amount, payee_code, memo = cursor.fetchone()
    cursor.execute(f"SELECT id, balance, held, user_id FROM {T_ACCOUNT} WHERE id = %s",  # noqa: S608
                   [account_id])
    worker_id, balance, held, user_id = cursor.fetchone()
    cursor.execute(f"SELECT 1 FROM {T_HOLD} WHERE id = %s AND status = 'active'", [hold_id])  # noqa: S608
    if cursor.fetchone() is None or held < amount or balance - amount < held - amount:
        raise _HandBack
    cursor.execute(f"SELECT id FROM {T_ACCOUNT} WHERE code = %s", [payee_code])  # noqa: S608
    payee = cursor.fetchone()
    cursor.execute(f"UPDATE {T_HEAD} SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")  # noqa: S608
    head = cursor.fetchone()
    if head is None or payee is None:
        raise _HandBack
    (payee_id,), (seq, prev_hash) = payee, head
    cursor.execute(f"SELECT balance FROM {T_ACCOUNT} WHERE id = %s", [payee_id])  # noqa: S608
    worker_after = balance - amount
    payee_after = cursor.fetchone()[0] + amount
    source_ref = f"benefits.redemption:{redemption_id}"[:96]
    memo = memo[:128]
    entries = [(worker_id, -amount, worker_after), (payee_id, amount, payee_after)]
    digest = tx_hash(prev_hash=prev_hash, seq=seq, kind="spend", points=-amount,
                     user_id=user_id, action="", source_ref=source_ref, reverses_id=None,
                     actor_id=actor_id, memo=memo, entries=entries)
    cursor.execute(
        f"INSERT INTO {T_TX} (kind, memo, user_id, action, points, source_ref, reverses_id, "  # noqa: S608
        "actor_id, created_at, seq, prev_hash, hash) "
        "VALUES ('spend', %s, %s, '', %s, %s, NULL, %s, %s, %s, %s, %s) RETURNING id",
        [memo, user_id, -amount, source_ref, actor_id, at, seq, prev_hash, digest])
    tx_id = cursor.fetchone()[0]
    cursor.execute(
        f"INSERT INTO {T_ENTRY} (transaction_id, account_id, amount, balance_after, created_at) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, %s), (%s, %s, %s, %s, %s)",
        [tx_id, worker_id, -amount, worker_after, at, tx_id, payee_id, amount, payee_after, at])
    cursor.execute(f"UPDATE {T_ACCOUNT} SET balance = %s, held = %s WHERE id = %s",  # noqa: S608
                   [worker_after, held - amount, worker_id])
    cursor.execute(f"UPDATE {T_ACCOUNT} SET balance = %s WHERE id = %s", [payee_after, payee_id])  # noqa: S608
    cursor.execute(f"UPDATE {T_HOLD} SET status = 'posted', settled_at = %s, transaction_id = %s "  # noqa: S608
                   "WHERE id = %s AND status = 'active'", [at, tx_id, hold_id])
    cursor.execute(f"UPDATE {T_HEAD} SET hash = %s WHERE id = 1", [digest])  # noqa: S608
    return tx_id
