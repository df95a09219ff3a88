"""Plumbing for the system tests: the real processes (`manage.py supervise`: granian, db_worker,
run_periodic) on a free port with their own var dir, talked to over real sockets."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from warmstation.core.supervisor import group_members

ROOT = Path(__file__).resolve().parent.parent
MANAGE = [sys.executable, str(ROOT / "manage.py")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Nothing listens on it: a new server could bind it (SO_REUSEADDR, as servers do, so
    closing connections of the old one do not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def system_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a real deployment (not the test settings): its own var dir and
    database, the database task backend, console SMS."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"DJANGO_SETTINGS_MODULE", "TASKS_BACKEND", "DATABASE_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="warmstation.config.settings",
               WARMSTATION_VAR_DIR=str(var_dir), SMS_BACKEND="console", PYTHONUNBUFFERED="1",
               SMS_CODE_PER_IP_HOUR="1000", **extra)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> None:
    subprocess.run([*MANAGE, *args], env=env, check=True, timeout=timeout, cwd=ROOT,
                   stdout=subprocess.DEVNULL)


_migrated: Path | None = None


def ready_var(env: dict[str, str], *, migrate: bool = True) -> None:
    """Make the env's var dir what `make run` leaves before it starts the processes: the
    static files collected and, on SQLite, the database migrated. Both are the same for every
    system test, so they are done once per test run: the static files are the suite's own
    collection (same storage, same hashed names; conftest.py collects them), linked; the SQLite
    database is copied from one migrated at the first call (`migrate` takes ~15 s here)."""
    from django.conf import settings

    global _migrated
    var = Path(env["WARMSTATION_VAR_DIR"])
    var.mkdir(parents=True, exist_ok=True)
    (var / "static").symlink_to(Path(settings.STATIC_ROOT).resolve(), target_is_directory=True)
    if not migrate:
        return
    if "DATABASE_URL" in env:
        manage(env, "migrate", "-v0")
        return
    if _migrated is None:
        template = Path(tempfile.mkdtemp(prefix="ws-migrated-"))
        manage({**env, "WARMSTATION_VAR_DIR": str(template)}, "migrate", "-v0")
        _migrated = template / "warmstation.sqlite3"
    shutil.copyfile(_migrated, var / "warmstation.sqlite3")


def request(port: int, method: str, path: str, body: dict | None = None, *,
            timeout: float = 5.0, headers: dict[str, str] | None = None,
            ) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {**({"Content-Type": "application/json"} if body is not None else {}),
                   **(headers or {})}
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def wait_for(predicate, *, timeout: float, every: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except (OSError, http.client.HTTPException) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


class System:
    """`manage.py supervise` in its own session, as `make run` starts it."""

    def __init__(self, env: dict[str, str], port: int, log: Path, *args: str) -> None:
        self.port = port
        self.log_path = log
        self.process = subprocess.Popen(
            [*MANAGE, "supervise", "--port", str(port), *args], env=env, cwd=ROOT,
            stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_serving(self, timeout: float = 90) -> None:
        # Generous: only a failing start waits it out, and a start under the load of a full
        # parallel suite on 2 cores has taken more than 40 s.
        try:
            wait_for(lambda: request(self.port, "GET", "/healthz", timeout=2)[0] == 200,
                     timeout=timeout, what=f"/healthz on :{self.port}")
        except AssertionError as exc:  # the log as it is now, not as it was at the start
            raise AssertionError(f"{exc}\n{self.log()[-3000:]}") from None

    def children(self) -> list[int]:
        """Every live process below the supervisor (each program leads its own group)."""
        found, frontier = [], [self.process.pid]
        while frontier:
            parent = frontier.pop()
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                fields = stat[stat.rfind(")") + 2:].split()
                if int(fields[1]) == parent and fields[0] != "Z":
                    found.append(int(entry))
                    frontier.append(int(entry))
        return found

    def groups(self) -> set[int]:
        return {os.getpgid(pid) for pid in self.children() if _exists(pid)}

    def alive(self, groups: set[int]) -> list[int]:
        return [pid for pgid in groups for pid in group_members(pgid)]

    def kill(self) -> None:
        """Last resort in a test's teardown: nothing may outlive the test."""
        groups = self.groups() | {self.process.pid}
        for pgid in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


def _exists(pid: int) -> bool:
    try:
        os.getpgid(pid)
    except ProcessLookupError:
        return False
    return True
