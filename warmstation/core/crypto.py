"""Encryption at rest for personal data (ID numbers): Fernet (AES-128-CBC + HMAC-SHA256)."""

import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@functools.cache
def _fernet() -> MultiFernet:
    keys = [k for k in settings.FIELD_ENCRYPTION_KEY.split(",") if k]
    if not keys:
        # Derived from SECRET_KEY so a demo needs no extra setting; production sets its own key
        # (a list: the first encrypts, all decrypt, so keys can be rotated).
        digest = hashlib.sha256(("field-encryption:" + settings.SECRET_KEY).encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(k) for k in keys])


def keyed_hash(purpose: str, value: str) -> str:
    """HMAC-SHA256 of `value` under a key derived from SECRET_KEY for `purpose`: the same value
    always gives the same hash (so it can be matched), but without the key nobody can test
    guesses against it — which matters for an 11-digit mobile or a 2-character name, whose plain
    hashes are brute-forced in minutes."""
    key = hashlib.sha256(f"keyed-hash:{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong key must not pass silently as empty data
        raise ValueError("cannot decrypt field: wrong FIELD_ENCRYPTION_KEY?") from exc


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A text column stored encrypted; the database never sees the plain value."""

    def from_db_value(self, value: str | None, expression: object, connection: object) -> str | None:
        # Empty stays "" (not None): the column is NOT NULL and a full save writes it back.
        return value if value in (None, "") else decrypt(value)

    def get_prep_value(self, value: object) -> object:
        value = super().get_prep_value(value)
        return value if value in (None, "") else encrypt(str(value))
