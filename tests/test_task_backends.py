"""The task backend is chosen by configuration (ADR 0014): the settings, the worker `supervise`
starts for each, readiness on the Redis backend, and a real `manage.py redis_worker` process —
its own interpreter, the production settings — delivering an SMS from the outbox and stopping
on SIGTERM. The apps' own task tests run through the broker as their `[redis]` variants
(tests/brokered.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from tests import brokered

ROOT = Path(__file__).resolve().parent.parent


def _settings_in_a_fresh_process(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if k not in {"DJANGO_SETTINGS_MODULE", "TASKS_BACKEND", "REDIS_URL",
                          "TASKS_REDIS_URL"}}
    code = ("import json, django; django.setup(); from django.conf import settings; "
            "print(json.dumps([settings.TASKS, 'django_tasks_redis' in settings.INSTALLED_APPS]))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=ROOT,
                          env={**clean, "DJANGO_SETTINGS_MODULE": "warmstation.config.settings",
                               **env})


def test_the_database_backend_is_the_default_and_redis_is_one_setting_away():
    default = _settings_in_a_fresh_process()
    assert json.loads(default.stdout) == [
        {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                     "QUEUES": ["default", "bulk"]}}, False]

    redis = _settings_in_a_fresh_process(TASKS_BACKEND="redis",
                                         REDIS_URL="redis://127.0.0.1:6379/3")
    tasks, app_installed = json.loads(redis.stdout)
    assert tasks["default"]["BACKEND"] == "django_tasks_redis.RedisTaskBackend"
    assert tasks["default"]["OPTIONS"]["REDIS_URL"] == "redis://127.0.0.1:6379/3"
    assert tasks["default"]["OPTIONS"]["REDIS_KEY_PREFIX"] == "ws:tasks"
    assert tasks["default"]["QUEUES"] == ["default", "bulk"]
    assert app_installed

    own = _settings_in_a_fresh_process(TASKS_BACKEND="redis", REDIS_URL="redis://a:6379/0",
                                       TASKS_REDIS_URL="redis://b:6379/1")
    assert json.loads(own.stdout)[0]["default"]["OPTIONS"]["REDIS_URL"] == "redis://b:6379/1"


def test_the_redis_backend_without_a_redis_address_refuses_to_start():
    refused = _settings_in_a_fresh_process(TASKS_BACKEND="redis")
    assert refused.returncode != 0
    assert "TASKS_BACKEND=redis needs TASKS_REDIS_URL (or REDIS_URL)" in refused.stderr


def test_supervise_starts_the_worker_of_the_configured_backend(settings):
    from warmstation.core.management.commands.supervise import programs

    def workers() -> list[list[str]]:
        return [p.argv[2:] for p in programs(host="127.0.0.1", port=8111, web_workers=1,
                                             periodic_every=30, task_workers=2)
                if p.name.startswith("worker")]

    db = ["db_worker", "--interval", "1", "--no-reload", "--queue-name"]
    assert workers() == [[*db, "default"], [*db, "default"], [*db, "bulk"]]
    settings.TASKS = {"default": {"BACKEND": "django_tasks_redis.RedisTaskBackend",
                                  "OPTIONS": {"REDIS_URL": brokered.REDIS_URL}}}
    redis = ["redis_worker", "--continuous", "--claim-interval", "30", "--queue"]
    assert workers() == [[*redis, "default"], [*redis, "default"], [*redis, "bulk"]]


def test_the_bulk_queue_has_a_worker_of_its_own_further_below_the_web_workers(settings):
    """ADR 0020: photos to re-encode wait in their own queue, for a worker that takes only the
    CPU the requests leave; the SMS of a sign-in never waits behind them."""
    from warmstation.core.management.commands.supervise import programs
    from warmstation.dashboard.tasks import refresh_figures
    from warmstation.documents.tasks import regenerate_handbook
    from warmstation.outreach.tasks import deliver_outbox_message
    from warmstation.reports.tasks import process_photo

    assert {t.queue_name for t in (process_photo, refresh_figures, regenerate_handbook)} == \
        {"bulk"}
    assert deliver_outbox_message.queue_name == "default"
    (bulk,) = [p for p in programs(host="127.0.0.1", port=8111, web_workers=1,
                                   periodic_every=30) if p.name == "worker-bulk"]
    assert bulk.env == {"WARMSTATION_HEARTBEAT": "worker-bulk"}
    assert bulk.argv[-2:] == ["--queue-name", "bulk"]


@pytest.fixture
def redis_backend(settings):
    if reason := brokered.redis_unreachable():
        pytest.skip(reason)
    prefix = f"wstest:{uuid.uuid4().hex}"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_redis.RedisTaskBackend",
                                  "OPTIONS": {"REDIS_URL": brokered.REDIS_URL,
                                              "REDIS_KEY_PREFIX": prefix}}}
    yield settings.TASKS["default"]["OPTIONS"]
    brokered.forget(settings.TASKS["default"]["OPTIONS"])


def test_readiness_reads_the_queue_from_redis(redis_backend):
    from warmstation.core.readiness import tasks_check
    from warmstation.outreach.tasks import publish_notice

    assert tasks_check() == {"backend": "redis", "ready": 0, "deferred": 0, "running": 0,
                             "failed": 0, "oldest_ready_s": 0, "ok": True}
    publish_notice.enqueue(1)
    publish_notice.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(2)
    check = tasks_check()
    assert (check["ready"], check["deferred"], check["ok"]) == (1, 1, True)


def test_readiness_says_so_when_redis_does_not_answer(settings):
    from warmstation.core.readiness import tasks_check

    settings.TASKS = {"default": {"BACKEND": "django_tasks_redis.RedisTaskBackend",
                                  "OPTIONS": {"REDIS_URL": "redis://127.0.0.1:1/0",
                                              "REDIS_SOCKET_CONNECT_TIMEOUT": 0.5}}}
    assert tasks_check() == {"ok": False, "state": "unavailable", "error": "ConnectionError"}


@pytest.mark.tasks
def test_the_dashboard_refresh_runs_as_a_task(db, django_capture_on_commit_callbacks):
    """The periodic job enqueues the dashboard's rebuild; the task runs it."""
    from warmstation.dashboard import services
    from warmstation.dashboard.models import FigureRefresh

    with django_capture_on_commit_callbacks(execute=True):
        assert services.figures_refresh_due() == 1
    state = FigureRefresh.objects.get(pk=1)
    assert state.rebuilt_at is not None and state.refreshed_at is not None


@pytest.mark.postgres
def test_a_worker_process_delivers_from_the_outbox_and_stops_on_sigterm(
        transactional_db, redis_backend, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the worker process opens the test database: PostgreSQL only")
    from warmstation.outreach.models import OutboxMessage
    from warmstation.outreach.services import outbox_enqueue

    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    env.update(DJANGO_SETTINGS_MODULE="warmstation.config.settings", PYTHONUNBUFFERED="1",
               DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
               TASKS_BACKEND="redis", TASKS_REDIS_URL=redis_backend["REDIS_URL"],
               TASKS_REDIS_PREFIX=redis_backend["REDIS_KEY_PREFIX"], SMS_BACKEND="console",
               WARMSTATION_VAR_DIR=str(tmp_path), WARMSTATION_HEARTBEAT="worker")
    # The default queue's worker, as supervise starts it (ADR 0020).
    worker = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "redis_worker",
                               "--continuous", "--claim-interval", "5", "--queue", "default"],
                              env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # when: a message is written and committed; its delivery task goes to Redis
        message = outbox_enqueue(channel=OutboxMessage.Channel.SMS, recipient="13812341234",
                                 body="驿站通知", purpose="notice")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            message.refresh_from_db()
            if message.status == OutboxMessage.Status.SENT:
                break
            time.sleep(0.2)
        # then: the worker process took it from the stream and sent it, once
        assert message.status == OutboxMessage.Status.SENT, message.last_error
        assert message.attempts == 1
        beat = json.loads((tmp_path / "run" / "worker.json").read_text())
        assert beat["state"] == "running"
        # and SIGTERM stops it, cleanly, well within the supervisor's 8 s
        started = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=10)
        assert worker.returncode == 0, output
        assert time.monotonic() - started < 8
        assert "Processed task" in output
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
