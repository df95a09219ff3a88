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


def expected_processes() -> list[str]:
    """The heartbeats this machine should have (READINESS_PROCESSES, default both): on a web-only
    host, set READINESS_PROCESSES= (empty) or to what runs there."""
    raw = os.environ.get("READINESS_PROCESSES", "worker,periodic")
    return [name.strip() for name in raw.split(",") if name.strip()]


def readiness_report() -> tuple[int, dict[str, Any]]:
    processes = {name: heartbeat_read(name) for name in expected_processes()}
    report: dict[str, Any] = {"database": "ok" if database_answers() else "unavailable",
                              "processes": processes}
    ok = report["database"] == "ok"
    if ok:
        for name, check in _CHECKS.items():
            try:
                report[name] = check()
            except Exception as exc:  # noqa: BLE001 — a failing check is a finding, not a 500
                report[name] = {"ok": False, "error": type(exc).__name__}
            ok = ok and report[name].get("ok", True)
    waiting = [n for n, beat in processes.items() if beat["state"] != "running"]
    if report["database"] != "ok":
        report["status"] = "unavailable"
    elif waiting or not ok:
        report["status"] = "waiting"
        report["waiting_for"] = waiting
    else:
        report["status"] = "ready"
    return (200 if report["status"] == "ready" else 503), report
