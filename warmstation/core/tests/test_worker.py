"""The task worker hands a task interrupted by a lost connection back to the queue."""

import pytest
from django.db import OperationalError
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from warmstation.core.management.commands.db_worker import Worker


def _worker() -> Worker:
    return Worker(queue_names=["default"], interval=1, batch=True, backend_name="default",
                  startup_delay=False, max_tasks=None, worker_id="w1", excluded_queue_names=[])


def _task(status) -> DBTaskResult:
    return DBTaskResult.objects.create(
        args_kwargs={"args": [1], "kwargs": {}}, backend_name="default", status=status,
        task_path="warmstation.outreach.tasks.deliver_outbox_message", run_after=get_date_max(),
        exception_class_path="django.db.utils.OperationalError" if status == "FAILED" else "")


def test_an_interrupted_task_goes_back_to_the_queue(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    worker = _worker()
    for status in (TaskResultStatus.RUNNING, TaskResultStatus.FAILED):
        task = _task(status)
        worker.current_task_id = task.pk
        worker.hand_back()
        task.refresh_from_db()
        assert (task.status, task.exception_class_path) == (TaskResultStatus.READY, "")
        assert DBTaskResult.objects.ready().filter(pk=task.pk).exists()
        assert worker.current_task_id is None


def test_a_finished_task_is_left_alone(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    worker = _worker()
    task = _task(TaskResultStatus.SUCCESSFUL)
    worker.current_task_id = task.pk
    worker.hand_back()
    task.refresh_from_db()
    assert task.status == TaskResultStatus.SUCCESSFUL


def test_the_database_errors_the_worker_recognises_are_djangos():
    from warmstation.core.management.commands.db_worker import _DB_ERROR_PATHS

    assert f"{OperationalError.__module__}.{OperationalError.__qualname__}" in _DB_ERROR_PATHS


def test_a_task_worker_runs_below_the_web_workers_priority():
    """Both workers (db_worker, redis_worker) call lower_priority() first: a burst of photos
    to re-encode waits for the requests of the moment. Measured in a child process (niceness
    cannot be raised back)."""
    import os
    import subprocess
    import sys

    script = ("import django, os, sys; django.setup(); "
              "from warmstation.core.liveness import lower_priority; "
              "print(os.nice(0), lower_priority(sys.argv[1:] or None))")
    base = os.nice(0)
    # The default queue's worker by TASK_WORKER_NICE; the bulk queue's by TASK_BULK_WORKER_NICE
    # (ADR 0020), and one taking both queues as the default queue's.
    for setting, queues, expected in (("10", [], min(base + 10, 19)), ("0", [], base),
                                      ("10", ["default"], min(base + 10, 19)),
                                      ("10", ["bulk"], min(base + 15, 19)),
                                      ("10", ["default", "bulk"], min(base + 10, 19))):
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "warmstation.config.settings",
               "TASK_WORKER_NICE": setting, "TASK_BULK_WORKER_NICE": "15"}
        out = subprocess.run([sys.executable, "-c", script, *queues], env=env,
                             capture_output=True, text=True, check=True,
                             timeout=60).stdout.split()
        assert [int(v) for v in out] == [base, expected], queues


def _autogroup_nice(pid: str = "self") -> int | None:
    """The niceness of a process's autogroup; None where it has none: no autogroups in this
    kernel, or the process is in a cgroup with a CPU controller of its own (a container, a
    systemd unit), where the kernel shows the file empty and a niceness weighs within the
    cgroup."""
    from pathlib import Path

    try:
        text = Path(f"/proc/{pid}/autogroup").read_text()
    except OSError:
        return None
    return int(text.split("nice")[-1]) if "nice" in text else None


def test_a_task_worker_in_a_session_of_its_own_lowers_its_group_too():
    """The supervisor starts every program in a new session, and with autogroups (Linux's
    default) a session is a scheduling group of its own, where a process's own niceness weighs
    only against its group: the worker lowers the group as well. A worker that shares its
    session (started by hand beside a shell) leaves the group alone."""
    import os
    import subprocess
    import sys

    if _autogroup_nice() is None:
        pytest.skip("no autogroup here (no autogroups, or a cgroup of its own): a niceness is "
                    "then enough")
    script = ("import django, os; django.setup(); "
              "from warmstation.core.liveness import lower_priority; lower_priority(); "
              "print(open('/proc/self/autogroup').read().split('nice')[-1].strip())")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "warmstation.config.settings",
           "TASK_WORKER_NICE": "10"}
    mine = _autogroup_nice()
    alone = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                           text=True, check=True, timeout=60, start_new_session=True)
    assert int(alone.stdout) == 10  # a new session's group starts at 0
    shared = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, check=True, timeout=60)
    assert int(shared.stdout) == mine == _autogroup_nice()  # this session's group untouched
