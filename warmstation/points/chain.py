"""The hash chain over the ledger's transactions, and the signed checkpoints that let
`ledger_verify` start where it last proved the ledger.

Each transaction's `hash` is SHA-256 (hex) of one line of text: the previous transaction's hash,
then its own position and fields, then its entries ordered by account, all joined by "|":

    prev_hash|seq|kind|points|user_id|action|source_ref|reverses_id|actor_id|memo|a:amount:after;…

(an absent id is the empty string). The same text is built in Python (here: SQLite postings and
every verification) and in SQL (the PostgreSQL posting function of migration 0004), so the two
must stay identical: `test_chain.py` checks one against the other. Removing or changing any
transaction, entry or `balance_after` changes a hash that the next transaction (or the head, or
a signed checkpoint) still names.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime

from django.conf import settings

GENESIS = "0" * 64


def tx_text(*, prev_hash: str, seq: int, kind: str, points: int, user_id: int | None,
            action: str, source_ref: str, reverses_id: int | None, actor_id: int | None,
            memo: str, entries: Iterable[tuple[int, int, int]]) -> str:
    """The line that is hashed; `entries` are (account_id, amount, balance_after)."""
    head = "|".join([prev_hash, str(seq), kind, str(points), _id(user_id), action, source_ref,
                     _id(reverses_id), _id(actor_id), memo])
    return head + "|" + ";".join(f"{a}:{amount}:{after}" for a, amount, after in sorted(entries))


def tx_hash(**fields: object) -> str:
    return hashlib.sha256(tx_text(**fields).encode()).hexdigest()  # type: ignore[arg-type]


def _id(value: int | None) -> str:
    return "" if value is None else str(value)


def _key() -> bytes:
    """settings.LEDGER_CHECKPOINT_KEY; derived from SECRET_KEY when unset (a demo needs no extra
    setting). Production sets its own, kept away from the database's backups."""
    key = getattr(settings, "LEDGER_CHECKPOINT_KEY", "") or ""
    if key:
        return key.encode()
    return hashlib.sha256(f"ledger-checkpoint:{settings.SECRET_KEY}".encode()).digest()


def checkpoint_signature(*, seq: int, hash: str, entry_id: int, full: bool,
                         created_at: datetime) -> str:
    at = created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    message = f"{seq}|{hash}|{entry_id}|{int(full)}|{at}"
    return hmac.new(_key(), message.encode(), hashlib.sha256).hexdigest()
