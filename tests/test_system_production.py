"""`make serve`'s processes for real (issue 18 item 1): `manage.py supervise --production` with
production settings from the environment — two granian workers, two task workers, the periodic
jobs, Redis — talked to over sockets: HTTPS redirect and security headers, a sign-in limit shared
by both web workers through Redis (429 with Retry-After), metrics summed across the workers,
/readyz expecting every task worker, and a clean stop.

Runs once, on the SQLite pass, like tests/test_system.py (the server's own database is a file in
its var dir; the production settings do not depend on the database engine)."""

import secrets
import signal
import time
import uuid

import pytest
from django.db import connection

from tests.system import System, free_port, manage, system_env, wait_for
from tests.test_rate_limits import REDIS, _redis_up

pytestmark = [
    pytest.mark.system,
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="server-level behaviour: run once, on the SQLite pass"
    ),
    pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379"),
]


def _request(port, method, path, body=None, headers=None):
    import http.client
    import json

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        all_headers = {"Host": "warm.fangshan.example", **(headers or {})}
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        conn.request(
            method, path, body=json.dumps(body) if body is not None else None, headers=all_headers
        )
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_make_serve_processes(tmp_path):
    prefix = f"ws-sys-{uuid.uuid4().hex[:8]}"
    env = system_env(
        tmp_path / "var",
        WARMSTATION_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="warm.fangshan.example,127.0.0.1",
        REDIS_URL=REDIS,
        CACHE_KEY_PREFIX=prefix,
        RATE_LIMIT_SIGN_IN="3/300",
    )
    manage(env, "migrate", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    port = free_port()
    system = System(
        env,
        port,
        tmp_path / "serve.log",
        "--production",
        "--web-workers",
        "2",
        "--task-workers",
        "2",
        "--periodic-every",
        "2",
    )
    https = {"X-Forwarded-Proto": "https"}
    try:
        wait_for(
            lambda: _request(port, "GET", "/healthz")[0] == 200,
            timeout=60,
            what=f"/healthz\n{system.log()[-3000:]}",
        )
        # Plain HTTP is sent to HTTPS; behind the TLS proxy, pages carry HSTS and the policy.
        status, headers, _ = _request(port, "GET", "/login/")
        assert status == 301 and headers["location"].startswith("https://")
        status, headers, _ = _request(port, "GET", "/login/", headers=https)
        assert status == 200
        assert headers["strict-transport-security"].startswith("max-age=31536000")
        assert "default-src 'self'" in headers["content-security-policy"]
        # Four tries on fresh connections (granian spreads them over its two workers): the
        # limit of 3 is shared through Redis, so the 4th is refused whichever worker answers.
        answers = [
            _request(
                port,
                "POST",
                "/api/v1/auth/staff-token",
                {"mobile": "13900000001", "password": "wrong-password-9"},
                headers=https,
            )
            for _ in range(4)
        ]
        assert [a[0] for a in answers[:3]] == [422, 422, 422], answers
        assert answers[3][0] == 429 and int(answers[3][1]["retry-after"]) >= 1
        # Metrics count the requests of both workers (multiprocess directory).
        status, _, body = _request(port, "GET", "/metrics")
        assert status == 200
        assert b"django_http_requests_total_by_method_total" in body
        # /readyz expects both task workers, the bulk queue's and the periodic jobs.
        wait_for(
            lambda: _request(port, "GET", "/readyz")[0] == 200,
            timeout=40,
            what=f"/readyz ready\n{_request(port, 'GET', '/readyz')[2][:800]!r}",
        )
        ready = __import__("json").loads(_request(port, "GET", "/readyz")[2])
        assert set(ready["processes"]) == {"worker", "worker-2", "worker-bulk", "periodic"}
        assert ready["cache"]["state"] == "ok"
        groups = system.groups()
        assert len(groups) == 5, system.log()  # web, two task workers, bulk worker, periodic
        sent_at = time.monotonic()
        system.process.send_signal(signal.SIGTERM)
        system.process.wait(timeout=15)
        assert time.monotonic() - sent_at < 10.5
        wait_for(lambda: not system.alive(groups), timeout=5, what="every process gone")
    finally:
        system.kill()
        import redis

        client = redis.Redis.from_url(REDIS)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
