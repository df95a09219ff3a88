"""The supervisor `make run` uses: restart with backoff, stop within the timeout, kill the rest."""

import signal
import subprocess
import sys
import time

import pytest

from tests.system import ROOT, wait_for
from warmstation.core.supervisor import group_members

SCRIPT = """
import sys
from warmstation.core.supervisor import Program, Supervisor
py = sys.executable
Supervisor([
    Program("crasher", [py, "-c", "import sys; sys.exit(3)"]),
    Program("sleeper", [py, "-c", "import time; time.sleep(60)"]),
    Program("stubborn", [py, "-c", "import signal, time; "
                         "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"]),
], stop_timeout=1.5).run()
"""


@pytest.fixture
def supervisor(tmp_path):
    log = tmp_path / "supervise.log"
    process = subprocess.Popen([sys.executable, "-c", SCRIPT], cwd=ROOT, stdout=log.open("w"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    process.log = log
    yield process
    process.kill()
    process.wait()


def test_a_program_that_exits_is_restarted_with_backoff_and_stop_kills_a_stubborn_one(supervisor):
    # Given a program that keeps exiting: restarted after 1 s, then 2 s
    wait_for(lambda: "restarting in 2 s" in supervisor.log.read_text(), timeout=20,
             what="the second restart")
    text = supervisor.log.read_text()
    assert "crasher exited with 3" in text and "restarting in 1 s" in text
    pids = [int(line.rsplit("pid ", 1)[1].rstrip(")")) for line in text.splitlines()
            if " started (pid " in line]
    # When it is told to stop
    sent = time.monotonic()
    supervisor.send_signal(signal.SIGTERM)
    supervisor.wait(timeout=10)
    # Then the stubborn program is killed after the stop timeout, and nothing is left
    took = time.monotonic() - sent
    assert 1.4 < took < 5, took
    text = supervisor.log.read_text()
    assert "stubborn: 1 process(es) still running, killing them" in text
    assert "sleeper" not in text.split("stopping")[1]  # it stopped when asked
    assert pids and not any(group_members(pid) for pid in pids)


def test_the_systemd_web_unit_uses_the_numbers_make_run_uses():
    from warmstation.core.management.commands.supervise import WEB_OPTIONS

    unit = (ROOT / "deploy" / "systemd" / "warmstation-web.service").read_text()
    exec_start = next(line for line in unit.replace("\\\n", " ").splitlines()
                      if line.startswith("ExecStart="))
    assert " ".join(WEB_OPTIONS) in " ".join(exec_start.split())
    assert "--workers 2" in " ".join(exec_start.split())
