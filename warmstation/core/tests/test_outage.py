"""A database that does not answer: 503 with Retry-After everywhere, never a 500 (issue 9 item 3).

The connection is pointed, for the test, at a database that cannot be opened (a closed port on
PostgreSQL, a file in a missing directory on SQLite): the driver's own error, no mock. The
same against a real PostgreSQL restart, with a write in flight: tests/test_system_postgres.py.
"""

import json
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import Client

from tests.factories import build_area_tree, make_worker, signed_in
from warmstation.accounts.models import AuthLevel
from warmstation.core.liveness import Heartbeat, is_database_down
from warmstation.outreach.models import OutboxMessage


@contextmanager
def broken_database():
    """The default connection cannot reach its database inside the block."""
    saved_settings, saved_raw = connection.settings_dict, connection.connection
    broken = dict(saved_settings)
    if connection.vendor == "sqlite":
        broken["NAME"] = "/nonexistent-dir/warmstation.sqlite3"
    else:
        from tests.system import free_port

        broken.update(HOST="127.0.0.1", PORT=str(free_port()))  # nothing listens there
    # The next query connects anew, with the broken settings (the in-memory SQLite test
    # database lives in the saved connection, so it is set aside, not closed).
    connection.connection = None
    connection.settings_dict = broken
    try:
        yield
    finally:
        if connection.connection is not None:
            connection.connection.close()
        connection.settings_dict = saved_settings
        connection.connection = saved_raw
        connection.errors_occurred = False
        connection.needs_rollback = False
        connection.in_atomic_block = False


@pytest.fixture
def database_down(transactional_db):
    with broken_database():
        yield


def test_the_api_answers_503_problem_json_with_retry_after(database_down):
    response = Client().post("/api/v1/auth/sms-code", {"mobile": "13900000001"},
                             content_type="application/json")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "5"
    body = response.json()
    assert body["code"] == "database_unavailable"
    assert body["retry_after"] == 5
    assert body["detail"]["zh"] == "数据库暂时无法连接，请稍后再试。"
    assert body["detail"]["en"].startswith("The database cannot be reached")


def test_hsds_answers_503_problem_json(database_down):
    response = Client().get("/hsds/services")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"


def test_a_page_answers_the_bilingual_try_again_page(database_down):
    response = Client().get("/stations/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    html = response.content.decode()
    assert "稍后再试" in html and "Try again in a moment" in html


def test_a_signed_in_page_whose_session_cannot_be_read_is_503_too(transactional_db):
    worker = make_worker([build_area_tree()["ylj"]])
    client = signed_in(worker, AuthLevel.CODE)
    client.raise_request_exception = False  # answer as the server would, not re-raise
    # The session is read inside a middleware, before any view: the 500 handler's road.
    with broken_database():
        response = client.get("/me/")
    assert response.status_code == 503
    assert "Try again in a moment" in response.content.decode()


def test_healthz_keeps_its_contract_and_readyz_says_unavailable(database_down):
    response = Client().get("/healthz")
    assert (response.status_code, response.json()) == (503, {"status": "unavailable"})
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["database"] == "unavailable"


def test_readyz_waits_for_the_background_processes_then_is_ready(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    # Given no task worker and no periodic loop have ever run here
    body = Client().get("/readyz").json()
    assert body["status"] == "waiting"
    assert body["waiting_for"] == ["worker", "worker-bulk", "periodic"]
    assert body["processes"]["worker"] == {"state": "missing"}
    # When the worker waits for the database, and the bulk queue's worker and the periodic loop
    # run
    Heartbeat("worker").set("waiting", error="connection refused")
    Heartbeat("worker-bulk").set("running")
    Heartbeat("periodic").set("running", rounds=3)
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["waiting_for"] == ["worker"]
    assert response.json()["processes"]["worker"]["state"] == "waiting"
    # Then, both running, it is ready, with the outbox's depth
    Heartbeat("worker").set("running")
    OutboxMessage.objects.create(channel="sms", recipient="13900000001", body="x",
                                 status=OutboxMessage.Status.DEAD)
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    body = json.loads(response.content)
    assert body["status"] == "ready"
    assert body["outbox"] == {"pending": 0, "sending": 0, "dead": 1,
                              "oldest_unattempted_s": 0, "ok": True}


def test_a_stale_heartbeat_is_not_running(settings, tmp_path):
    from warmstation.core.liveness import heartbeat_read

    settings.VAR_DIR = tmp_path
    beat = Heartbeat("worker", every=1)
    beat.set("running")
    assert heartbeat_read("worker")["state"] == "running"
    assert heartbeat_read("worker", now=beat.since + 60)["state"] == "stale"


def test_only_connection_errors_count_as_the_database_being_down():
    from django.db import IntegrityError, InterfaceError, OperationalError

    assert is_database_down(OperationalError("server closed the connection unexpectedly"))
    assert is_database_down(InterfaceError("connection already closed"))
    wrapped = RuntimeError("while delivering")
    wrapped.__cause__ = OperationalError("terminating connection")
    assert is_database_down(wrapped)
    assert not is_database_down(IntegrityError("duplicate key"))
    assert not is_database_down(ValueError("bad"))
