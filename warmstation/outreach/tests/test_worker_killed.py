"""A task worker killed (SIGKILL) while a robot is answering its post: after the claim timeout
the message is sent again and reaches the robot exactly once (the robot had not posted it: its
answer had not been written when the worker died). Real processes (`manage.py db_worker`,
`run_periodic`) on their own SQLite file, the fake robot in this process."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from django.db import connection

from tests.system import MANAGE, ROOT, manage, ready_var, system_env, wait_for
from warmstation.outreach.tests.robots import start_robot

pytestmark = [
    pytest.mark.system,
    pytest.mark.skipif(connection.vendor != "sqlite",
                       reason="process-level behaviour: run once, on the SQLite pass"),
]

SETUP = """
from django.db import transaction
from warmstation.areas.services import area_upsert
from warmstation.outreach import services
from warmstation.outreach.models import OutboxMessage
root = area_upsert(code="110111", name_zh="房山区", level="district", parent=None)
area = area_upsert(code="YLJ", name_zh="伊林郡社区", level="community", parent=root)
with transaction.atomic():
    group = services.group_create(actor=None, area=area, name="小哥群")
    services.channel_create(actor=None, group=group, kind="wecom", name="群", webhook_url="{url}")
    from warmstation.outreach.models import Notice
    from django.utils import timezone
    notice = Notice.objects.create(kind="tip", audience="group", area=area, group=group,
                                   title="明天降温", body="驿站有热水。", status="scheduled",
                                   publish_at=timezone.now())
    services.notice_publish(notice_id=notice.pk)
print(OutboxMessage.objects.get().pk)
"""

STATUS = """
from warmstation.outreach.models import OutboxMessage
m = OutboxMessage.objects.get()
print(m.status, m.attempts)
"""


def _shell(env, code: str) -> str:
    out = subprocess.run([*MANAGE, "shell", "-v0", "-c", code], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=120).stdout
    return out.strip().splitlines()[-1]


def _worker(env, log):
    return subprocess.Popen([*MANAGE, "db_worker", "--interval", "0.2", "--no-startup-delay"],
                            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def test_a_worker_killed_mid_delivery_delivers_once_after_restart(tmp_path):
    robot, stop = start_robot()
    env = system_env(tmp_path / "var", OUTBOX_CLAIM_TIMEOUT_S="2")
    workers = []
    try:
        ready_var(env)
        robot.stall = 4.0  # the first post hangs: the worker is killed while waiting for it
        _shell(env, SETUP.replace("{url}", robot.url))
        log = (tmp_path / "worker.log").open("ab")
        workers.append(_worker(env, log))

        # when: the worker has posted and waits for the answer, it is killed
        wait_for(lambda: len(robot.requests) == 1, timeout=60, what="the first post")
        os.killpg(workers[0].pid, signal.SIGKILL)
        workers[0].wait(timeout=10)
        assert _shell(env, STATUS).startswith("sending")
        time.sleep(4.5)  # the robot's stalled answer finds the worker gone
        assert robot.accepted == []

        # then: after the claim timeout the periodic job hands it back, a new worker sends it
        workers.append(_worker(env, log))
        time.sleep(2.5)
        manage(env, "run_periodic", "--only", "outbox")
        wait_for(lambda: len(robot.accepted) == 1, timeout=60, what="the retried post")
        time.sleep(1.5)
        assert len(robot.accepted) == 1 and len(robot.requests) == 2
        assert _shell(env, STATUS) == "sent 2"
    finally:
        for w in workers:
            if w.poll() is None:
                os.killpg(w.pid, signal.SIGKILL)
                w.wait(timeout=10)
        stop()
