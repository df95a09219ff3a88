"""A person's data across the apps (PIPL art. 45 copy, art. 47 erasure): each app registers how
it exports and how it erases what it holds about one person, and accounts' `worker_data_export`
and `account_close` go through every registration.

core imports no app: each app registers from its own `privacy.py`, which CoreConfig.ready()
imports by name (`autodiscover_modules("privacy")`, as the Django admin finds `admin.py`).
`covers` names the app's models that point at a person; tests/test_privacy_registry.py fails
when a model with a foreign key to the user model is covered by no registration, so a new app
cannot forget to say how its data leaves with the person.

Erasure unlinks, it does not delete what others rely on: ledger entries, cases, check-ins and
audit lines stay (balances and counts do not change), and the user row they point at becomes an
anonymous tombstone. Each eraser removes the person's copies that its app holds elsewhere: a
mobile in an outbox row, a name typed into a case's text, a subject of the audit trail.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from warmstation.core.masking import mask_mobile, mask_name


@dataclass(frozen=True)
class Person:
    """Who is being exported or erased, captured before any eraser runs (the accounts eraser
    blanks the user row last)."""

    user: Any
    mobile: str
    real_name: str

    @classmethod
    def of(cls, user: Any) -> Person:
        return cls(user=user, mobile=user.mobile, real_name=user.real_name)

    def needles(self) -> list[str]:
        """The forms in which this person can appear in free text: full and masked."""
        found = [self.mobile, mask_mobile(self.mobile)]
        if len(self.real_name) >= 2:
            found += [self.real_name, mask_name(self.real_name)]
        return [n for n in found if n]

    def redact(self, text: str) -> str:
        """`text` with every form of this person's mobile and name starred out, length kept
        (so a redacted value still fits its column)."""
        if not text:
            return text
        pattern = "|".join(re.escape(n) for n in sorted(self.needles(), key=len, reverse=True))
        return re.sub(pattern, lambda m: "*" * len(m.group(0)), text) if pattern else text

    def mentioned_in(self, text: str) -> bool:
        return bool(text) and any(n in text for n in self.needles())


@dataclass(frozen=True)
class Registration:
    app_label: str
    export: Callable[[Person], dict[str, Any]]
    erase: Callable[[Person], None]
    covers: frozenset[str] = field(default_factory=frozenset)
    # Erasers run in ascending order; accounts blanks the user row last (order 100).
    order: int = 0


_registry: dict[str, Registration] = {}


def register(app_label: str, *, export: Callable[[Person], dict[str, Any]],
             erase: Callable[[Person], None], covers: tuple[str, ...] = (),
             order: int = 0) -> None:
    """Called once by each app's privacy.py. `export(person)` returns the sections it adds to
    the person's copy (JSON-ready); `erase(person)` unlinks the person from the app's rows, in
    the caller's transaction. `covers` lists the model labels ("stations.loan") it handles."""
    _registry[app_label] = Registration(app_label, export, erase,
                                        frozenset(c.lower() for c in covers), order)


def registrations() -> list[Registration]:
    return sorted(_registry.values(), key=lambda r: (r.order, r.app_label))


def covered_models() -> set[str]:
    return {label for r in _registry.values() for label in r.covers}


def person_export(user: Any) -> dict[str, Any]:
    """Every registered app's sections about `user`, merged in registration order."""
    person = Person.of(user)
    data: dict[str, Any] = {}
    for registration in registrations():
        data.update(registration.export(person))
    return data


def person_erase(user: Any) -> None:
    """Run every registered eraser for `user`. Call inside a transaction holding the user row's
    lock (accounts.services.account_close does)."""
    person = Person.of(user)
    for registration in registrations():
        registration.erase(person)
