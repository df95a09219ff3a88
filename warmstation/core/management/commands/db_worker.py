"""`manage.py db_worker` — django-tasks-db's worker, made to outlive a database restart.

This command shadows django_tasks_db's own (warmstation.core comes first in INSTALLED_APPS),
keeping its options and its graceful stop. What it adds, and why:

- django-tasks-db's loop re-raises any OperationalError other than "database is locked", so one
  PostgreSQL restart ended the worker for good and no SMS was delivered afterwards. Here a lost
  connection closes the broken connections, logs "waiting for the database", waits with backoff
  and carries on (liveness.wait_for_database).
- A task that was running when the connection went away would be left `RUNNING` (or recorded
  `FAILED` with the OperationalError): it is handed back to the queue (`READY`) once the
  database answers. Our tasks take ids and are idempotent, so running one again is safe.
- A heartbeat file (`VAR_DIR/run/worker.json`) says running / waiting for `/readyz`.
"""

from __future__ import annotations

import logging
import os
import uuid
from typing import Any

from django.db import transaction
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands import db_worker as upstream
from django_tasks_db.models import DBTaskResult

from warmstation.core.liveness import (
    DATABASE_DOWN,
    Heartbeat,
    is_database_down,
    lower_priority,
    wait_for_database,
)

logger = logging.getLogger("warmstation.worker")

_DB_ERROR_PATHS = {f"{cls.__module__}.{cls.__qualname__}" for cls in DATABASE_DOWN}


class Worker(upstream.Worker):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Several workers on one machine (make serve --task-workers) each keep their own file.
        self.heartbeat = Heartbeat(os.environ.get("WARMSTATION_HEARTBEAT", "worker"))
        self.current_task_id: uuid.UUID | None = None
        self.tasks_run = 0

    def run(self) -> None:
        lower_priority(self.queue_names)
        self.heartbeat.start()
        self.heartbeat.set("running", worker_id=self.worker_id)
        try:
            while True:
                try:
                    super().run()
                    return  # --batch or --max-tasks finished, or a graceful stop
                except DATABASE_DOWN as exc:
                    if not self.running:
                        return
                    wait_for_database(who="task worker", error=exc, heartbeat=self.heartbeat)
                    self.hand_back()
        finally:
            self.heartbeat.stop()

    def run_task(self, db_task_result: DBTaskResult[..., Any]) -> None:
        self.current_task_id = db_task_result.pk
        self.heartbeat.set("running", task=db_task_result.task_path)
        super().run_task(db_task_result)
        # super() records any exception as the task's failure; one caused by the database going
        # away is not the task's fault: run it again (see the module docstring).
        if db_task_result.status == TaskResultStatus.FAILED and \
                db_task_result.exception_class_path in _DB_ERROR_PATHS:
            self.hand_back()
        self.current_task_id = None
        self.tasks_run += 1
        self.heartbeat.set("running", task="", tasks_run=self.tasks_run)

    def hand_back(self) -> None:
        """Put the task this worker was running back in the queue (after a lost connection)."""
        if self.current_task_id is None:
            return
        pk = self.current_task_id
        with transaction.atomic():
            returned = DBTaskResult.objects.filter(
                pk=pk, status__in=[TaskResultStatus.RUNNING, TaskResultStatus.FAILED]
            ).update(status=TaskResultStatus.READY, started_at=None, finished_at=None,
                     exception_class_path="", traceback="", return_value=None)
        self.current_task_id = None  # only now: if the update failed, the next try redoes it
        if returned:
            logger.warning("task worker: task %s handed back to the queue after the database "
                           "went away", pk)


class Command(upstream.Command):
    help = (upstream.Command.help + "; waits for the database and carries on when it goes away, "
            "hands an interrupted task back to the queue, and keeps a heartbeat for /readyz")

    def handle(self, **options: Any) -> None:
        # upstream.Command.handle builds `Worker` from its module: use ours (a deliberate
        # swap of a class the type system sees as fixed).
        original, upstream.Worker = upstream.Worker, Worker  # type: ignore[misc]
        try:
            super().handle(**options)
        finally:
            upstream.Worker = original  # type: ignore[misc]


__all__ = ["Command", "Worker", "is_database_down"]
