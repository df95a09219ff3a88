"""The task tests again, over the real broker (ADR 0014): tests marked `tasks` run twice, once
with the test settings' ImmediateBackend and once (`[redis]`) with django-tasks-redis on a real
Redis, each task taken from the stream and run by a real worker process.

The tests were written against the immediate backend's contract: when `enqueue` returns, the
task has run. `DrainingRedisBackend` keeps that contract over the broker: it enqueues into
Redis as production does, then runs our `redis_worker` command in a child process until no due
task is left (tasks that tasks enqueue included) and waits for it, bounded by
`DRAIN_TIMEOUT_S`. The child is a fork of the test process, so it has the test's settings (a
gateway on a free port, a limit lowered for the test); it opens its own database connections,
so the test runs in a transactional database (committed rows, as a worker sees them), which
needs PostgreSQL: SQLite's test database lives in the test process's memory.

The tests were also written inside a test transaction (pytest-django's `db`), where an on-commit
callback never runs unless `django_capture_on_commit_callbacks` runs it. In the transactional
database every service's transaction really commits, so `keep_test_transaction_semantics`
drops on-commit callbacks registered outside a capture, as the test transaction did: a test
that enqueues a message and then delivers it by hand sees the same thing either way. The worker
process registers and runs its own callbacks as production does.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import time
import traceback
import uuid
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from django_tasks_redis import RedisTaskBackend

DRAIN_TIMEOUT_S = 60.0
REDIS_URL = os.environ.get("TASKS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

_in_worker = False
_capturing = False
_original_on_commit = BaseDatabaseWrapper.on_commit


def _test_on_commit(self: BaseDatabaseWrapper, func: Any, robust: bool = False) -> None:
    if _in_worker or _capturing:
        _original_on_commit(self, func, robust)
    # else: dropped, as a test transaction that never commits drops it


def keep_test_transaction_semantics(monkeypatch: Any) -> None:
    monkeypatch.setattr(BaseDatabaseWrapper, "on_commit", _test_on_commit)


def redis_unreachable() -> str | None:
    """Why the broker variant cannot run here, or None."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001 — any failure to reach it is the reason to skip
        return f"Redis not reachable at {REDIS_URL} ({type(exc).__name__}); set TASKS_TEST_REDIS_URL"
    return None


def backend_settings() -> dict[str, Any]:
    """settings.TASKS for one test: its own key prefix, so tests and xdist workers never share
    a stream, and a short claim timeout."""
    return {"default": {
        "BACKEND": "tests.brokered.DrainingRedisBackend",
        "QUEUES": settings.TASK_QUEUES,
        "OPTIONS": {"REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": f"wstest:{uuid.uuid4().hex}",
                    "REDIS_BLOCK_TIMEOUT": 0, "REDIS_CLAIM_TIMEOUT": 30},
    }}


def forget(options: dict[str, Any]) -> None:
    """Delete every key of a test's prefix."""
    import redis

    client = redis.Redis.from_url(options["REDIS_URL"])
    keys = list(client.scan_iter(match=f"{options['REDIS_KEY_PREFIX']}:*", count=500))
    if keys:
        client.delete(*keys)


class DrainingRedisBackend(RedisTaskBackend):
    """django-tasks-redis, then a worker process drains the queue before `enqueue` returns."""

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        result = super().enqueue(task, args, kwargs)
        due = task.run_after is None or task.run_after <= timezone.now()
        if due and not _in_worker:
            connection = connections[DEFAULT_DB_ALIAS]
            if connection.in_atomic_block:
                # The worker could not see this transaction's rows yet (the immediate backend
                # would have run the task inside it): run the worker once it commits.
                def drain_on_commit() -> None:
                    drain(self.alias)

                drain_on_commit.drains = True  # type: ignore[attr-defined]
                _original_on_commit(connection, drain_on_commit)
            else:
                drain(self.alias)
        return result


def drain(alias: str) -> None:
    """Run `redis_worker` (no --continuous: it exits once nothing is due) in a child process and
    wait for it; fail the test if it does not finish in time or exits non-zero."""
    pid = os.fork()
    if pid == 0:  # the worker
        global _in_worker
        _in_worker = True
        code = 1
        try:
            # The parent's database connections are its own: set them aside (never closed
            # here, which would end the parent's session) and open new ones.
            kept = []
            for conn in connections.all(initialized_only=True):
                kept.append(conn.connection)
                conn.connection = None
            os.environ["WARMSTATION_HEARTBEAT"] = f"test-worker-{os.getpid()}"
            from django.core.management import call_command

            call_command("redis_worker", backend_name=alias, stdout=io.StringIO(),
                         stderr=io.StringIO())
            for conn in connections.all(initialized_only=True):
                with contextlib.suppress(Exception):
                    conn.close()
            code = 0
        except BaseException:  # noqa: BLE001 — reported to the parent through the exit code
            traceback.print_exc()
        finally:
            os._exit(code)
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            assert code == 0, f"the task worker exited with {code}"
            return
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"the task worker did not drain the queue in {DRAIN_TIMEOUT_S} s")
        time.sleep(0.005)


@contextlib.contextmanager
def capture_on_commit_callbacks(*, using: str = "default", execute: bool = False):
    global _capturing
    callbacks: list[Any] = []
    drains: list[Any] = []
    _capturing, outer = True, _capturing
    try:
        with transaction.atomic(using=using):
            start = len(connections[using].run_on_commit)
            yield callbacks
            # Read again: a rolled-back savepoint replaces the list without its callbacks.
            run_on_commit = connections[using].run_on_commit
            for _sids, callback, _robust in run_on_commit[start:]:
                (drains if getattr(callback, "drains", False) else callbacks).append(callback)
            del run_on_commit[start:]
        for callback in [*drains, *(callbacks if execute else [])]:
            callback()  # committed now; what each adds runs at once (no transaction is open)
    finally:
        _capturing = outer
