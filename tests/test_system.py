"""The real system under simple faults (issue 9): idle and slow clients cannot starve it, and
Ctrl-C or SIGTERM stops every process within 10 s, leaving no process and no held port.

These start `manage.py supervise` (what `make run` runs: granian, db_worker, run_periodic) with
their own SQLite file and var dir; the suite's database is not used, so they run once, on the
SQLite pass (`-m system` selects them)."""

import os
import signal
import socket
import threading
import time

import pytest
from django.db import connection

from tests.system import System, free_port, port_is_free, ready_var, request, system_env, wait_for

pytestmark = [
    pytest.mark.system,
    pytest.mark.skipif(connection.vendor != "sqlite",
                       reason="server-level behaviour: run once, on the SQLite pass"),
]

STOP_BUDGET_S = 10.0


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    var = tmp_path_factory.mktemp("system-var")
    env = system_env(var)
    ready_var(env)  # migrated, static files collected: as `make run` leaves it
    return env


@pytest.fixture
def system(env, tmp_path):
    started = System(env, free_port(), tmp_path / "system.log", "--periodic-every", "2")
    yield started
    started.kill()


class SlowClient(threading.Thread):
    """Sends its request headers one byte a second (a slowloris)."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.done = threading.Event()

    def run(self) -> None:
        for byte in b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 60:
            if self.done.wait(1):
                return
            try:
                self.sock.send(bytes([byte]))
            except OSError:
                return


def hold_idle_connections(port: int, count: int) -> list[socket.socket]:
    """`count` connections that hold a place and send nothing more: a third silent, a third
    with half a request, a third idle on keep-alive after a full request."""
    held = []
    for i in range(count):
        sock = socket.create_connection(("127.0.0.1", port))
        if i % 3 == 1:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        elif i % 3 == 2:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        held.append(sock)
    return held


def timed(port: int, path: str) -> tuple[int, float]:
    started = time.monotonic()
    status, _, _ = request(port, "GET", path, timeout=10)
    return status, time.monotonic() - started


def assert_stopped_cleanly(system: System, groups: set[int], sent_at: float) -> float:
    system.process.wait(timeout=STOP_BUDGET_S + 5)
    remaining = max(sent_at + STOP_BUDGET_S - time.monotonic(), 0.1)
    wait_for(lambda: not system.alive(groups), timeout=remaining, every=0.05,
             what=f"every process gone\n{system.log()[-3000:]}")
    took = time.monotonic() - sent_at
    assert took < STOP_BUDGET_S, system.log()[-3000:]
    assert port_is_free(system.port)
    return took


def test_idle_and_slow_clients_cannot_starve_it_and_sigterm_still_stops_it(system):
    # Given the system serving, warmed by a first page
    system.wait_serving()
    assert request(system.port, "GET", "/login/")[0] == 200
    # When 64 idle connections and 4 slowloris clients hold their places
    held = hold_idle_connections(system.port, 64)
    slow = [SlowClient(system.port) for _ in range(4)]
    for client in slow:
        client.start()
    time.sleep(0.5)
    try:
        # Then /healthz and a page still answer, each within a second
        answers = [(path, *timed(system.port, path)) for path in
                   ["/healthz", "/login/", "/healthz", "/login/", "/healthz", "/login/"]]
        print("with 64 idle + 4 slow connections:",
              ", ".join(f"{p} {s} {t * 1000:.0f} ms" for p, s, t in answers))
        assert all(status == 200 for _, status, _ in answers), answers
        assert max(t for _, _, t in answers) < 1.0, answers
        # And SIGTERM (what systemd sends) ends every process within 10 s, connections held
        groups = system.groups()
        assert len(groups) == 4, system.log()  # web, task worker, bulk worker, periodic
        sent_at = time.monotonic()
        system.process.send_signal(signal.SIGTERM)
        print(f"SIGTERM with idle connections held: stopped in "
              f"{assert_stopped_cleanly(system, groups, sent_at):.1f} s")
    finally:
        for client in slow:
            client.done.set()
        for sock in held + [c.sock for c in slow]:
            sock.close()


def test_ctrl_c_stops_every_process_and_frees_the_port(system):
    # Given the system serving, its worker and periodic jobs running
    system.wait_serving()
    wait_for(lambda: b'"processes"' in request(system.port, "GET", "/readyz")[2]
             and request(system.port, "GET", "/readyz")[0] == 200,
             timeout=30, what=f"/readyz ready\n{system.log()[-3000:]}")
    groups = system.groups()
    assert len(groups) == 4  # web, task worker, bulk worker, periodic
    # When Ctrl-C reaches the terminal's foreground group (the supervisor; its programs run
    # in their own groups)
    sent_at = time.monotonic()
    os.killpg(system.process.pid, signal.SIGINT)
    # Then every process is gone within 10 s and the port is free
    took = assert_stopped_cleanly(system, groups, sent_at)
    print(f"Ctrl-C: stopped in {took:.1f} s")
    assert system.process.returncode == 0
    assert "stopped in" in system.log()
