"""Production mode (issue 18 item 1): `check --deploy` clean under `make serve`'s settings, a key
required, the security headers, /metrics for the monitor only, and log lines that are JSON and
never hold a full mobile or ID number."""

import io
import json
import logging
import logging.config
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings as django_settings

from warmstation.core.logs import mask_text

MANAGE = [sys.executable, str(django_settings.BASE_DIR / "manage.py")]


def _production_env(tmp_path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "DATABASE_URL",
            "SECRET_KEY",
            "DJANGO_SETTINGS_MODULE",
            # set by the browser tests' plugin; a deployment never has it
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        )
    }
    return {
        **env,
        "WARMSTATION_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "warmstation.config.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "warm.fangshan.example",
        "CSRF_TRUSTED_ORIGINS": "https://warm.fangshan.example",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:6379/9",
        "WARMSTATION_VAR_DIR": str(tmp_path / "var"),
        **extra,
    }


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    result = subprocess.run(
        [*MANAGE, "check", "--deploy", "--fail-level", "WARNING"],
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=django_settings.BASE_DIR,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = _production_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [*MANAGE, "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=django_settings.BASE_DIR,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_settings_values(tmp_path):
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "import json; print(json.dumps([s.DEBUG, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, "
        "s.SESSION_COOKIE_NAME, s.CACHES['default']['BACKEND'], s.LOG_FORMAT]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=_production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=django_settings.BASE_DIR,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        False,
        True,
        True,
        31_536_000,
        True,
        "__Host-ws_session",
        "django_redis.cache.RedisCache",
        "json",
    ]


def test_pages_carry_a_strict_policy_and_the_security_headers(client, db):
    response = client.get("/login/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_hsts_and_https_redirect_when_configured(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    plain = client.get("/login/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    # The load balancer's checks over plain HTTP on the local network are not redirected.
    assert client.get("/healthz").status_code == 200
    secure = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_metrics_only_for_the_monitor(client, db, settings):
    client.get("/login/")
    local = client.get("/metrics")
    assert local.status_code == 200
    body = local.content.decode()
    assert "django_http_requests_total_by_method_total" in body
    assert "django_http_responses_total_by_status_total" in body
    outside = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert outside.status_code == 404
    settings.METRICS_TOKEN = "s3cret-token-for-the-scraper"
    token = client.get(
        "/metrics",
        REMOTE_ADDR="203.0.113.9",
        HTTP_AUTHORIZATION="Bearer s3cret-token-for-the-scraper",
    )
    assert token.status_code == 200
    wrong = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 404


@pytest.mark.parametrize(
    "text, masked",
    [
        ("SMS to 13800000001 sent", "SMS to 138****0001 sent"),
        ("+8613800000001", "138****0001"),
        ("id 110111199001011234 ok", "id 110111********1234 ok"),
        ("id 11011119900101123X", "110111********123X"),
        ("order 2024061512345678901 stays", "order 2024061512345678901 stays"),
        ("port 8000, 12 ms", "port 8000, 12 ms"),
    ],
)
def test_mask_text(text, masked):
    assert masked in mask_text(text)


@pytest.fixture
def production_logs():
    """The production LOGGING (JSON, masked), its console handler writing to a buffer."""
    from warmstation.config import settings as base

    config = {
        **base.LOGGING,
        "formatters": base.LOGGING["formatters"],
        "handlers": {"console": {**base.LOGGING["handlers"]["console"], "formatter": "json"}},
    }
    logging.config.dictConfig(config)
    buffer = io.StringIO()
    for name in ("warmstation", "django", ""):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(buffer)
    yield buffer
    logging.config.dictConfig(django_settings.LOGGING)


def test_log_lines_are_json_and_never_hold_a_full_mobile(client, db, production_logs):
    mobile, id_number = "13912345678", "110111199001011234"
    # Requests that log: an unknown page with the number in its path (django.request), a code
    # sent by the console SMS backend (the demo's "phone"), a failed staff sign-in.
    client.get(f"/no-such-page/{mobile}/")
    client.post("/api/v1/auth/sms-code", {"mobile": mobile}, content_type="application/json")
    client.post("/staff/login/", {"mobile": mobile, "password": "wrong-password-1"})
    logging.getLogger("warmstation.test").warning(
        "worker %s id %s", mobile, id_number, extra={"who": mobile}
    )
    try:
        raise ValueError(f"bad mobile {mobile}")
    except ValueError:
        logging.getLogger("warmstation.test").exception("failed")
    lines = [line for line in production_logs.getvalue().splitlines() if line.strip()]
    assert len(lines) >= 3
    for line in lines:
        record = json.loads(line)
        assert {"time", "level", "logger", "message"} <= record.keys()
    text = production_logs.getvalue()
    assert mobile not in text and id_number not in text
    assert "139****5678" in text and "110111********1234" in text
