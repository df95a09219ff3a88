"""The real system through PostgreSQL restarts (issue 9): it comes back by itself.

A PRIVATE PostgreSQL cluster is started for this test (Debian's binaries, run as the `postgres`
user, a temp data dir, a free port): the shared server on 5432 is never touched. The system
(`manage.py supervise`: web server, task worker, periodic jobs) runs against it, and the cluster
is restarted three times:
1. under a light load of page and API requests;
2. with every process in the middle of a query: the test locks the outbox and task tables, so a
   sign-in code request blocks after writing its code row and the worker and the periodic jobs
   block in their polls — then the restart kills them all. The request answers 503 and leaves
   nothing half-done (no code row without its message);
3. stopped for a while: the API answers 503 problem+json with Retry-After, pages the bilingual
   page, /readyz says unavailable — then started again.
Afterwards a newly requested sign-in code is delivered, every message accepted before is sent,
the periodic jobs run again and /readyz is ready.
"""

import contextlib
import threading
import time

import pytest
from django.db import connection

from tests.pgcluster import Cluster, can_run_clusters
from tests.system import System, free_port, ready_var, request, system_env, wait_for

pytestmark = [
    pytest.mark.system,
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="PostgreSQL restarts: run on the PostgreSQL pass"),
    pytest.mark.skipif(not can_run_clusters(), reason="needs Debian's PostgreSQL binaries and root (to run them as "
                              "the postgres user)"),
]


@pytest.fixture
def cluster():
    cluster = Cluster()
    try:
        cluster.start()
        cluster.sql("CREATE DATABASE warmstation", dbname="postgres")
        yield cluster
    finally:
        cluster.destroy()


def sms_code(port: int, mobile: str, timeout: float = 10):
    return request(port, "POST", "/api/v1/auth/sms-code", {"mobile": mobile}, timeout=timeout)


def outbox_status(cluster: Cluster, mobile: str) -> list[str]:
    return [row[0] for row in cluster.sql(
        "SELECT status FROM outreach_outboxmessage WHERE recipient = %s", mobile)]


class Load(threading.Thread):
    """A light, steady load of pages and API reads while the database comes and goes."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port, self.done, self.statuses = port, threading.Event(), []

    def run(self) -> None:
        while not self.done.wait(0.1):
            for path in ("/healthz", "/login/", "/api/v1/areas"):
                with contextlib.suppress(OSError):
                    self.statuses.append(request(self.port, "GET", path, timeout=5)[0])


def test_the_system_comes_back_by_itself_after_database_restarts(cluster, tmp_path):
    env = system_env(tmp_path / "var", DATABASE_URL=cluster.url)
    ready_var(env)  # migrated, static files collected: as `make run` leaves it
    system = System(env, free_port(), tmp_path / "system.log", "--web-workers", "1",
                    "--periodic-every", "2")
    port = system.port
    load = Load(port)
    try:
        system.wait_serving()
        # Given a sign-in code accepted and delivered before any fault
        assert sms_code(port, "13900000001")[0] == 200
        wait_for(lambda: outbox_status(cluster, "13900000001") == ["sent"], timeout=20,
                 what="the first code sent")
        load.start()

        # 1. A restart under load, just after a code was accepted (not yet delivered, likely)
        assert sms_code(port, "13900000005")[0] == 200
        cluster.restart()

        # 2. A restart while every process is in the middle of a query, a write in flight
        wait_for(lambda: request(port, "GET", "/healthz")[0] == 200, timeout=20,
                 what="web back after restart 1")
        in_flight = {}
        import psycopg

        locker = psycopg.connect(host="127.0.0.1", port=cluster.port, user="postgres",
                                 dbname="warmstation")
        locker.execute("LOCK TABLE outreach_outboxmessage, django_tasks_database_dbtaskresult "
                       "IN ACCESS EXCLUSIVE MODE")
        writer = threading.Thread(target=lambda: in_flight.update(
            answer=sms_code(port, "13900000002", timeout=30)), daemon=True)
        writer.start()
        wait_for(lambda: cluster.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")[0][0] >= 2,
            timeout=15, what="the code request and a background poll waiting on the lock")
        cluster.restart()
        with contextlib.suppress(psycopg.Error):
            locker.close()
        writer.join(30)
        status, headers, body = in_flight["answer"]
        assert status == 503, body
        assert headers["content-type"] == "application/problem+json"
        assert headers["retry-after"] == "5"
        # nothing half-done: the code row was rolled back with its message
        assert cluster.sql("SELECT count(*) FROM accounts_smscode WHERE mobile = %s",
                           "13900000002")[0][0] == 0
        assert outbox_status(cluster, "13900000002") == []

        # 3. An outage that says so
        cluster.stop()
        stopped_at = time.monotonic()
        status, headers, body = sms_code(port, "13900000003")
        assert (status, headers["content-type"], headers["retry-after"]) == \
            (503, "application/problem+json", "5"), body
        assert b'"database_unavailable"' in body
        status, headers, body = request(port, "GET", "/stations/")  # a page that reads
        assert status == 503 and headers["retry-after"] == "5"
        assert "稍后再试" in body.decode() and "Try again in a moment" in body.decode()
        assert request(port, "GET", "/healthz")[:3:2] == (503, b'{"status": "unavailable"}')
        assert b'"unavailable"' in request(port, "GET", "/readyz")[2]
        time.sleep(max(0, 3 - (time.monotonic() - stopped_at)))  # the background processes wait
        cluster.start()
        back_at = time.monotonic()

        # Then a newly requested code is delivered, and the periodic jobs run again
        wait_for(lambda: sms_code(port, "13900000004")[0] == 200, timeout=20,
                 what="the code request accepted")
        wait_for(lambda: outbox_status(cluster, "13900000004") == ["sent"], timeout=30,
                 what=f"the new code sent\n{system.log()[-4000:]}")
        sent_after = time.monotonic() - back_at
        rounds_then = _periodic_rounds(port)
        wait_for(lambda: _periodic_rounds(port) > rounds_then, timeout=20,
                 what="a new round of periodic jobs")
        wait_for(lambda: request(port, "GET", "/readyz")[0] == 200, timeout=20,
                 what=f"/readyz ready\n{request(port, 'GET', '/readyz')[2]!r}")
        ready_after = time.monotonic() - back_at
        # nothing accepted was lost; the processes said they waited
        assert outbox_status(cluster, "13900000001") == ["sent"]
        wait_for(lambda: outbox_status(cluster, "13900000005") == ["sent"], timeout=20,
                 what="the code accepted just before the first restart sent")
        log = system.log()
        assert "task worker: waiting for the database" in log
        assert "periodic jobs: waiting for the database" in log
        assert "exited with" not in log  # none had to be restarted by the supervisor
        print(f"after the last restart: new code sent in {sent_after:.1f} s, /readyz ready in "
              f"{ready_after:.1f} s; load answers: "
              f"{ {s: load.statuses.count(s) for s in set(load.statuses)} }")
        assert 500 not in load.statuses, load.statuses  # a 503 during the outage, never a 500
    finally:
        load.done.set()
        system.kill()


def _periodic_rounds(port: int) -> int:
    import json

    beat = json.loads(request(port, "GET", "/readyz")[2])["processes"]["periodic"]
    return beat.get("detail", {}).get("rounds", 0)
