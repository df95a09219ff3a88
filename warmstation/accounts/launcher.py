"""The worker home's task launcher: one big tile per task a worker comes for, all on the first
screen of a 360×740 phone.

The tasks are listed once, in settings.WORKER_TASKS, where the apps are assembled (like
PERIODIC_JOBS), so an app adds its task with one line and accounts imports none of its code:

    (url, label, icon, badge)

- url: a URL name, optionally with a query string ("stations:list?open=1"). An entry whose
  URL name does not resolve — its app is not installed or not built yet — is skipped, so a
  task can be listed before its app lands.
- label: a lazy gettext string (the app's catalogue translates it).
- icon: one plain symbol (♨ ¥ ✎ ☰; not colour emoji, which cheap phones lack) shown beside the label, hidden from screen readers.
- badge: "" or the dotted path of a function (user) -> int | None; a positive number is shown
  on the tile (e.g. open needs). A badge that fails is left out, never the page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from warmstation.accounts.models import User

log = logging.getLogger("warmstation.accounts.launcher")


@dataclass(frozen=True)
class Task:
    """One tile of the worker home."""

    name: str  # the URL name, e.g. "appeals:new" (tests and CSS classes use it)
    url: str
    label: str
    icon: str
    badge: int | None = None

    @property
    def slug(self) -> str:
        return self.name.replace(":", "-").replace("_", "-")


def _resolve(entry: str) -> str | None:
    name, _, query = entry.partition("?")
    try:
        url = reverse(name)
    except NoReverseMatch:
        return None
    return f"{url}?{query}" if query else url


def _badge(path: str, user: User) -> int | None:
    if not path:
        return None
    try:
        value = import_string(path)(user)
    except Exception:  # a badge is a hint: its failure must not take the home page down
        log.exception("launcher badge %s failed", path)
        return None
    return int(value) if value else None


def worker_tasks(user: User, entries=None) -> list[Task]:
    """The tiles for `user`, in the order of settings.WORKER_TASKS (or `entries`, e.g.
    settings.RESIDENT_TASKS for a resident's home), skipping entries whose URL does not
    resolve."""
    tasks = []
    for entry, label, icon, badge in (settings.WORKER_TASKS if entries is None else entries):
        url = _resolve(entry)
        if url is None:
            continue
        tasks.append(Task(name=entry.partition("?")[0], url=url, label=str(label), icon=icon,
                          badge=_badge(badge, user)))
    return tasks
