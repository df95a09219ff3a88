"""`GET /readyz`: is the whole system doing its work, not only the web server?

`/healthz` (the load balancer's check, unchanged) answers "does this web process reach the
database". `/readyz` is for an operator or a monitor: the database, the background processes'
heartbeats (core/liveness.py: running, waiting for the database, stale or missing) and what the
apps register here (the outbox's queue depth and dead letters). Apps register a check in their
AppConfig.ready(), so core imports no app.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from warmstation.core.liveness import database_answers, heartbeat_read

_CHECKS: dict[str, Callable[[], dict[str, Any]]] = {}


def readiness_register(name: str, check: Callable[[], dict[str, Any]]) -> None:
    """`check()` returns a JSON-able dict; it may include `"ok": False` to make /readyz 503."""
    _CHECKS[name] = check


def cache_check() -> dict[str, Any]:
    """The cache (Redis when REDIS_URL is set) answers a write and a read. Not fatal for pages,
    but while it is down sign-in is refused (core/ratelimit.py), so readiness says so."""
    from django.core.cache import cache

    key = f"readyz:{os.getpid()}"
    try:
        cache.set(key, "1", timeout=10)
        ok = cache.get(key) == "1"
    except Exception as exc:  # noqa: BLE001 — a cache that does not answer is the finding
        return {"ok": False, "state": "unavailable", "error": type(exc).__name__}
    return {"ok": ok, "state": "ok" if ok else "unavailable"}


# A due task older than this that no worker has started: the queue is not being worked.
TASKS_STUCK_AFTER_SECONDS = 120


def tasks_check() -> dict[str, Any]:
    """The task queue (django-tasks-db): how many are due, running and failed (dead letters of
    the queue), and how long the oldest due one has waited."""
    from django.conf import settings

    if settings.TASKS["default"]["BACKEND"] == settings.TASK_BACKEND_ALIASES["redis"]:
        return redis_tasks_check()
    from django.db.models import Count, Min
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.order_by().values_list("status").annotate(n=Count("id"))
    counts = dict(rows.values_list("status", "n"))
    oldest = DBTaskResult.objects.ready().aggregate(at=Min("enqueued_at"))["at"]
    oldest_s = round((timezone.now() - oldest).total_seconds(), 1) if oldest else 0
    return {"ready": counts.get("READY", 0), "running": counts.get("RUNNING", 0),
            "failed": counts.get("FAILED", 0), "oldest_ready_s": max(oldest_s, 0),
            "ok": oldest_s <= TASKS_STUCK_AFTER_SECONDS}


def redis_tasks_check() -> dict[str, Any]:
    """The same figures from the Redis task backend (ADR 0014): its status index counts, and the
    oldest READY task's wait (a deferred one waits from its run_after, so it counts only once
    due). Redis not answering is a finding: nothing can be enqueued."""
    from django.tasks import task_backends
    from django.utils import timezone

    try:
        backend: Any = task_backends["default"]  # django_tasks_redis.RedisTaskBackend
        stats = backend.get_queue_stats()
    except Exception as exc:  # noqa: BLE001 — a broker that does not answer is the finding
        return {"ok": False, "state": "unavailable", "error": type(exc).__name__}
    oldest = stats["oldest_pending_waiting_since"]
    oldest_s = round((timezone.now() - oldest).total_seconds(), 1) if oldest else 0
    return {"backend": "redis", "ready": stats["pending_count"] - stats["delayed_count"],
            "deferred": stats["delayed_count"], "running": stats["running_count"],
            "failed": stats["failed_count"], "oldest_ready_s": max(oldest_s, 0),
            "ok": oldest_s <= TASKS_STUCK_AFTER_SECONDS}


def expected_processes() -> list[str]:
    """The heartbeats this machine should have (READINESS_PROCESSES, default the task worker, the
    bulk queue's worker and the periodic jobs): on a web-only host, set READINESS_PROCESSES=
    (empty) or to what runs there."""
    raw = os.environ.get("READINESS_PROCESSES", "worker,worker-bulk,periodic")
    return [name.strip() for name in raw.split(",") if name.strip()]


def readiness_report() -> tuple[int, dict[str, Any]]:
    processes = {name: heartbeat_read(name) for name in expected_processes()}
    report: dict[str, Any] = {"database": "ok" if database_answers() else "unavailable",
                              "processes": processes, "cache": cache_check()}
    ok = report["database"] == "ok" and report["cache"]["ok"]
    if report["database"] == "ok":
        for name, check in {"tasks": tasks_check, **_CHECKS}.items():
            try:
                report[name] = check()
            except Exception as exc:  # noqa: BLE001 — a failing check is a finding, not a 500
                report[name] = {"ok": False, "error": type(exc).__name__}
            ok = ok and report[name].get("ok", True)
    waiting = [n for n, beat in processes.items() if beat["state"] != "running"]
    if not report["cache"]["ok"]:
        waiting.append("cache")
    if report["database"] != "ok":
        report["status"] = "unavailable"
    elif waiting or not ok:
        report["status"] = "waiting"
        report["waiting_for"] = waiting
    else:
        report["status"] = "ready"
    return (200 if report["status"] == "ready" else 503), report
