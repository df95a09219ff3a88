"""A task queued by the same statement that writes the rows it works on (ADR 0019, stop 27).

The hot write paths that send their rows to PostgreSQL as one statement (`core/sqlrows.py`)
used to queue their task (an SMS to deliver, a photo to re-encode) once the transaction
committed: with django-tasks' database backend, one more ORM insert in a transaction of its own
after the statement, about a fifth of a need's request. `queue_with_statement` gives the task
rows instead, to be written by that statement. The task then commits with the rows or not at
all, which is what "on commit" asked for, without a moment between the commit and the enqueue in
which a lost process would leave a photo processing or an SMS unsent until a sweep.

The rows are the ones `DatabaseBackend.enqueue` writes (the backend's own id function, the
task's priority, queue and run_after, and the `run_after` its pre_save receiver fills in);
`core/tests/test_taskrows.py` compares them column by column. `task_enqueued` is still sent,
once the rows are committed.

With any other backend (Redis, the tests' immediate one), or a task database other than the
statement's, there are no rows and the task is enqueued on commit, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.tasks import Task
from django.tasks.signals import task_enqueued

from warmstation.core.sqlrows import RowSQL, row_sql


@dataclass(frozen=True)
class Queued:
    """Task rows for the caller's statement, and what to do once that statement has run."""

    rows: list[RowSQL]
    _after: Callable[[], None]

    def written(self) -> None:
        """Call once the statement carrying `rows` has written them (not when it wrote nothing):
        the tasks are announced — or, with no rows, enqueued — once the transaction commits."""
        self._after()


def queue_with_statement(connection: BaseDatabaseWrapper, task: Task[..., Any],
                         *calls: tuple[Any, ...]) -> Queued:
    """One run of `task` per argument tuple in `calls`, as rows of the statement the caller
    sends on `connection`, or (another backend) enqueued once the transaction commits."""
    from django_tasks_db import DatabaseBackend
    from django_tasks_db.compat import normalize_json
    from django_tasks_db.models import DBTaskResult, get_date_max

    backend = task.get_backend()
    alias = connection.alias
    # Exactly the library's backend: a subclass may enqueue otherwise (its own rows, a notify).
    if type(backend) is not DatabaseBackend or router.db_for_write(DBTaskResult) != alias:
        return queue_on_commit(connection, task, *calls)
    backend.validate_task(task)
    results: list[DBTaskResult[..., Any]] = [DBTaskResult(
        id=backend._get_id(), args_kwargs=normalize_json({"args": list(args), "kwargs": {}}),
        priority=task.priority, task_path=task.module_path, queue_name=task.queue_name,
        # what the model's pre_save receiver (set_run_after) does, which row_sql does not send
        run_after=task.run_after or get_date_max(), backend_name=backend.alias)
        for args in calls]
    rows = [row_sql(r, connection, with_pk=True) for r in results]

    def announce() -> None:
        for result in results:
            result._state.adding, result._state.db = False, alias
            task_enqueued.send(type(backend), task_result=result.task_result)
    return Queued(rows, lambda: transaction.on_commit(announce, using=alias))


def queue_on_commit(connection: BaseDatabaseWrapper, task: Task[..., Any],
                    *calls: tuple[Any, ...]) -> Queued:
    """The same runs with no rows: enqueued once the transaction on `connection` commits (the
    ORM path, and every backend but the database one)."""
    def enqueue() -> None:
        for args in calls:
            task.enqueue(*args)
    return Queued([], lambda: transaction.on_commit(enqueue, using=connection.alias))
