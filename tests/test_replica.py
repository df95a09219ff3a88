"""A city's database setup, started here (issue 18): a PostgreSQL primary, a streaming replica
of it (pg_basebackup), PgBouncer in transaction mode in front of the primary, and the real system
(`manage.py supervise`: two web processes, two task workers, the periodic jobs) against them.

- Reads go to the replica: with the replica's replay paused, a row written on the primary is not
  seen — until the reader has written (the pin cookie), which sends its reads to the primary.
- Writes and task workers go through PgBouncer: a sign-in code is delivered by a worker, and
  PgBouncer counted the transactions.
- The replica stopped: reads fall back to the primary, no request fails.

Private clusters on free ports (tests/pgcluster.py); the shared server on 5432 is not used, so
this runs once, on the PostgreSQL pass."""

from __future__ import annotations

import json
import shutil
import time

import pytest
from django.db import connection

from tests.pgcluster import PGBOUNCER, Cluster, PgBouncer, can_run_clusters
from tests.system import System, free_port, ready_var, request, system_env, wait_for
from warmstation.core.dbrouting import PIN_COOKIE

pytestmark = [
    pytest.mark.system,
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="a PostgreSQL city: run on the PostgreSQL pass"),
    pytest.mark.skipif(not can_run_clusters() or not shutil.which(PGBOUNCER),
                       reason="needs Debian's PostgreSQL binaries, pgbouncer and root"),
]

# A public read that shows a row of a managed list: the HSDS taxonomy terms (amenities).
NEW_TERM = "ReplicaProbe"


def _add_amenity(cluster: Cluster, code: str, name_en: str) -> None:
    cluster.sql('INSERT INTO stations_amenity (code, name_zh, name_en, "order") '
                "VALUES (%s, '探针', %s, 99)", code, name_en)


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    primary = Cluster()
    replica = bouncer = system = None
    try:
        primary.start()
        primary.sql("CREATE DATABASE warmstation", dbname="postgres")
        var = tmp_path_factory.mktemp("city-var")
        ready_var(system_env(var, DATABASE_URL=primary.url))  # migrations on the primary
        _add_amenity(primary, "probe-0", "FirstProbe")
        replica = Cluster(replica_of=primary)
        replica.start()
        bouncer = PgBouncer(primary)
        bouncer.start()
        env = system_env(var, DATABASE_URL=bouncer.url, DATABASE_POOL_MODE="transaction",
                         DATABASE_REPLICA_URL=replica.url, REPLICA_RETRY_SECONDS="2")
        system = System(env, free_port(), tmp_path_factory.mktemp("city") / "system.log",
                        "--web-workers", "2", "--task-workers", "2", "--periodic-every", "2")
        system.wait_serving(timeout=60)
        yield {"primary": primary, "replica": replica, "bouncer": bouncer, "system": system}
    finally:
        if system is not None:
            system.kill()
        if bouncer is not None:
            bouncer.stop()
        if replica is not None:
            replica.destroy()
        primary.destroy()


def _terms(port: int, cookie: str | None = None) -> str:
    headers = {"Cookie": f"{PIN_COOKIE}={cookie}"} if cookie else {}
    status, _, body = request(port, "GET", "/hsds/taxonomy_terms?search=Probe", headers=headers)
    assert status == 200, body[:300]
    return json.dumps(json.loads(body), ensure_ascii=False)


def test_reads_go_to_the_replica_and_a_writer_reads_the_primary(city):
    port, primary, replica = city["system"].port, city["primary"], city["replica"]
    wait_for(lambda: "FirstProbe" in _terms(port), timeout=20, what="the replica caught up")

    # Given the replica a little behind (replay paused) and a row only the primary has
    replica.sql("SELECT pg_wal_replay_pause()")
    try:
        _add_amenity(primary, "probe-1", NEW_TERM)
        # a reader that has written nothing reads the replica: not there yet
        assert NEW_TERM not in _terms(port)
        # a request that writes (a sign-in code) is told to read the primary for a while …
        status, headers, _ = request(port, "POST", "/api/v1/auth/sms-code",
                                     {"mobile": "13900000071"})
        assert status == 200
        cookie = headers["set-cookie"].split(f"{PIN_COOKIE}=")[1].split(";")[0]
        assert int(cookie) > time.time()
        # … and then sees what the primary has
        assert NEW_TERM in _terms(port, cookie)
    finally:
        replica.sql("SELECT pg_wal_replay_resume()")
    wait_for(lambda: NEW_TERM in _terms(port), timeout=20, what="the replica replayed")


def test_task_workers_deliver_through_pgbouncer(city):
    port, primary, bouncer = city["system"].port, city["primary"], city["bouncer"]
    assert request(port, "POST", "/api/v1/auth/sms-code", {"mobile": "13900000072"})[0] == 200
    wait_for(lambda: primary.sql("SELECT status FROM outreach_outboxmessage WHERE recipient = "
                                 "%s", "13900000072") == [("sent",)],
             timeout=30, what="the code delivered by a task worker")
    stats = {row[0]: row for row in bouncer.show("STATS")}
    assert stats["warmstation"][1] > 10  # total_xact_count: the traffic went through it


def test_with_the_replica_stopped_reads_fall_back_to_the_primary(city):
    port, replica = city["system"].port, city["replica"]
    replica.stop("immediate")
    statuses = [request(port, "GET", path)[0]
                for _ in range(5) for path in ("/hsds/taxonomy_terms", "/login/", "/healthz")]
    assert statuses == [200] * 15
    assert "FirstProbe" in _terms(port)
