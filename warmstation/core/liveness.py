"""Background processes that outlive the database: heartbeats, and waiting for it to come back.

The task worker and the periodic loop each keep a heartbeat file in `VAR_DIR/run/` (written by
a thread every few seconds, so it needs no database): its state is `running`, or `waiting` while
the database is unreachable. `/readyz` reads these files — they are on the machine's disk on
purpose, so readiness can say "waiting for the database" during the very outage it reports.

`wait_for_database()` is what both do on a lost connection: close the broken connection, log
"waiting for the database", try again with backoff (1 s, 2 s, 4 s … at most 10 s), and return
once `SELECT 1` answers. They never exit for good on a lost connection.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connections

logger = logging.getLogger("warmstation.liveness")

# Exceptions that mean "the database is not answering" (a restart, a dropped connection, a
# refused connect), as opposed to a bug in a query.
DATABASE_DOWN = (OperationalError, InterfaceError)
BEAT_SECONDS = 5.0
WAIT_MAX_SECONDS = 10.0


def is_database_down(exc: BaseException) -> bool:
    """True for a lost or refused connection (and a locked SQLite file: also "try again")."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, DATABASE_DOWN):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


# The queue of CPU-heavy tasks nobody waits on by the second (settings.TASK_QUEUES, ADR 0020).
BULK_QUEUE = "bulk"
BULK_WORKER = "worker-bulk"  # its worker's heartbeat


def lower_priority(queues: list[str] | None = None) -> int:
    """A task worker runs below the web workers' CPU priority (`nice`, by
    settings.TASK_WORKER_NICE, 10 by default; 0 leaves it): a burst of work then waits for the
    requests of the moment instead of slowing them, and takes every CPU nobody else wants. The
    bulk queue's worker (`queues` only the bulk queue, ADR 0020) runs by
    settings.TASK_BULK_WORKER_NICE instead (10 by default too). The new niceness.

    A niceness only weighs against processes of the same scheduling group. On Linux with
    autogroups (the default on Debian and most distributions) every session is a group of its
    own, and the supervisor starts each program in a new session: its own niceness alone would
    then change nothing against the web workers. So a worker that leads its session also lowers
    its session's group (`/proc/self/autogroup`) by the same step."""
    bulk = set(queues or ()) == {BULK_QUEUE}
    wanted = getattr(settings, "TASK_BULK_WORKER_NICE", 10) if bulk \
        else getattr(settings, "TASK_WORKER_NICE", 10)
    step = max(0, min(int(wanted), 19))
    niceness = os.nice(step)
    if step and os.getsid(0) == os.getpid():
        lower_autogroup(step)
    return niceness


def lower_autogroup(step: int) -> int | None:
    """Raise the niceness of this process's autogroup by `step` (at most 19); its new niceness,
    or None where the kernel has no autogroups (or refuses: the worker then keeps its own
    niceness only)."""
    path = Path("/proc/self/autogroup")
    try:
        current = int(path.read_text().split("nice")[-1])
        target = min(current + step, 19)
        path.write_text(str(target))
    except (OSError, ValueError):
        return None
    return target


def heartbeat_dir() -> Path:
    return Path(settings.VAR_DIR) / "run"


class Heartbeat:
    """A process's heartbeat file `VAR_DIR/run/<name>.json`, rewritten every BEAT_SECONDS by a
    daemon thread: `{"name", "pid", "state", "since", "beat_at", "every", "detail"}`.

    The main loop only sets `state` / `detail`; the thread keeps the file fresh even while the
    loop sleeps or waits, so a stale file means the process is gone or hung."""

    def __init__(self, name: str, *, every: float = BEAT_SECONDS) -> None:
        self.name = name
        self.every = every
        self.state = "starting"
        self.since = time.time()
        self.detail: dict[str, Any] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.path = heartbeat_dir() / f"{name}.json"

    def set(self, state: str, **detail: Any) -> None:
        with self._lock:
            if state != self.state:
                self.state, self.since = state, time.time()
            self.detail.update(detail)
        self.write()

    def write(self) -> None:
        with self._lock:
            body = {"name": self.name, "pid": os.getpid(), "state": self.state,
                    "since": self.since, "beat_at": time.time(), "every": self.every,
                    "detail": self.detail}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(body, ensure_ascii=False))
            os.replace(tmp, self.path)  # atomic: a reader never sees half a file
        except OSError:
            logger.warning("cannot write heartbeat %s", self.path, exc_info=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.write()

    def start(self) -> Heartbeat:
        self.write()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{self.name}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self, state: str = "stopped") -> None:
        self._stop.set()
        self.set(state)


def heartbeat_read(name: str, *, now: float | None = None) -> dict[str, Any]:
    """The heartbeat of `name` with its age; state `missing` without a file and `stale` when it
    has not been rewritten for 3 beats (the process died or hangs)."""
    now = now or time.time()
    try:
        beat = json.loads((heartbeat_dir() / f"{name}.json").read_text())
    except (OSError, ValueError):
        return {"state": "missing"}
    age = max(now - float(beat.get("beat_at", 0)), 0.0)
    state = beat.get("state", "unknown")
    if state != "stopped" and age > 3 * float(beat.get("every", BEAT_SECONDS)) + 2:
        state = "stale"
    return {"state": state, "age_s": round(age, 1),
            "since_s": round(max(now - float(beat.get("since", now)), 0.0), 1),
            "pid": beat.get("pid"), **({"detail": beat["detail"]} if beat.get("detail") else {})}


def database_answers(using: str = "default") -> bool:
    try:
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True
    except DATABASE_DOWN:
        return False


def close_broken_connections() -> None:
    """Drop every connection, so the next query opens a fresh one (a connection that saw the
    server go away is unusable, and Django only replaces it at the next request otherwise)."""
    for conn in connections.all(initialized_only=True):
        with contextlib.suppress(*DATABASE_DOWN):
            conn.close()
    close_old_connections()


def wait_for_database(*, who: str, error: BaseException | None = None,
                      heartbeat: Heartbeat | None = None,
                      stop: threading.Event | None = None) -> float:
    """Block until the database answers again (or `stop` is set); returns the seconds waited.

    Logs once when it starts waiting ("<who>: waiting for the database: <error>") and once
    when it is back; the heartbeat says `waiting` meanwhile."""
    started = time.monotonic()
    logger.warning("%s: waiting for the database: %s", who, str(error).strip() or type(error))
    if heartbeat:
        heartbeat.set("waiting", error=(str(error).strip() or repr(error))[:300])
    delay = 1.0
    while True:
        close_broken_connections()
        if database_answers():
            break
        if stop is not None:
            if stop.wait(delay):
                return time.monotonic() - started
        else:
            time.sleep(delay)
        delay = min(delay * 2, WAIT_MAX_SECONDS)
    waited = time.monotonic() - started
    logger.warning("%s: the database is back after %.1f s", who, waited)
    if heartbeat:
        heartbeat.set("running", error="", last_outage_s=round(waited, 1))
    return waited
