"""`manage.py redis_worker` — django-tasks-redis's worker (`run_redis_tasks`), made to behave like
our `db_worker` (ADR 0014): the worker `supervise` starts when `TASKS_BACKEND=redis`.

Its own loop already does the broker's part: it reads the stream through a consumer group,
claims a task READY → RUNNING in one script, acknowledges the message only after the task has
run, and every `--claim-interval` takes over the messages of workers that died, handing their
RUNNING tasks back as READY (after `TASKS_CLAIM_TIMEOUT_S`). On SIGTERM it finishes the task in
hand and exits. What this adds, and why:

- Database connections are treated as a request would treat them: old or broken ones are closed
  before each task (`close_old_connections`), so a worker that sat idle through a PostgreSQL
  restart does not fail its next task on a dead connection.
- A task that failed because the database went away is not the task's fault: the worker waits
  for the database (logging "task worker: waiting for the database", as db_worker does) and
  hands the task back to the queue, READY, to run again (our tasks are idempotent).
- A heartbeat file (`VAR_DIR/run/worker.json`, or `$WARMSTATION_HEARTBEAT`) for `/readyz`,
  written between stream reads (each read blocks at most `REDIS_BLOCK_TIMEOUT`, 2 s).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from django.db import close_old_connections
from django.tasks.base import TaskResultStatus
from django_tasks_redis.management.commands import run_redis_tasks as upstream

from warmstation.core.liveness import (
    DATABASE_DOWN,
    Heartbeat,
    lower_priority,
    wait_for_database,
)

logger = logging.getLogger("warmstation.worker")

_DB_ERROR_PATHS = {f"{cls.__module__}.{cls.__qualname__}" for cls in DATABASE_DOWN}


class Command(upstream.Command):  # type: ignore[misc]  # the package ships no types
    @property
    def help(self) -> str:
        return ("Run a task worker on the Redis task backend (django-tasks-redis); waits for the "
                "database when it goes away, hands a task it interrupted back to the queue, and "
                "keeps a heartbeat for /readyz")

    def handle(self, *args: Any, **options: Any) -> None:
        lower_priority([options["queue_name"]] if options.get("queue_name") else None)
        self.heartbeat = Heartbeat(os.environ.get("WARMSTATION_HEARTBEAT", "worker"))
        self.tasks_run = 0
        self.heartbeat.start()
        self.heartbeat.set("running", backend="redis")
        try:
            super().handle(*args, **options)
        finally:
            self.heartbeat.stop()

    def _run_broker_message(self, backend: Any, broker: Any, message: Any,
                            worker_id: str) -> Any:
        close_old_connections()
        self.heartbeat.set("running", task=message.raw.get("task_path", ""))
        result = super()._run_broker_message(backend, broker, message, worker_id)
        if result is not None and result.status == TaskResultStatus.FAILED and any(
                error.exception_class_path in _DB_ERROR_PATHS for error in result.errors):
            wait_for_database(who="task worker", error=RuntimeError(
                result.errors[-1].exception_class_path), heartbeat=self.heartbeat)
            if backend.reset_task_status(result.id):
                logger.warning("task worker: task %s handed back to the queue after the "
                               "database went away", result.id)
        self.tasks_run += 1
        self.heartbeat.set("running", task="", tasks_run=self.tasks_run)
        return result
