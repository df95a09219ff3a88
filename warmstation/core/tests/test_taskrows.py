"""A task queued by the statement that writes its rows (core/taskrows.py): the row is the one
django-tasks' database backend writes, column by column; it is announced only once committed,
and gone with a rollback; any other backend enqueues on commit, as before."""

import pytest
from django.db import connection, transaction
from django.tasks.signals import task_enqueued
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult, get_date_max

from warmstation.core.sqlrows import insert_rows
from warmstation.core.taskrows import queue_with_statement
from warmstation.outreach.tasks import deliver_outbox_message
from warmstation.reports.tasks import process_photo

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's path")
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                              "QUEUES": ["default", "bulk"]}}
TABLE = DBTaskResult._meta.db_table


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = DATABASE_TASKS


@pytest.fixture
def announced():
    seen: list = []

    def receiver(sender, task_result, **kwargs):
        seen.append((task_result.task.module_path, task_result.args, task_result.id))

    task_enqueued.connect(receiver)
    yield seen
    task_enqueued.disconnect(receiver)


def _columns(pk) -> dict:
    (row,) = DBTaskResult.objects.filter(pk=pk).values()
    return {k: v for k, v in row.items() if k not in {"id", "enqueued_at"}}


@on_postgresql
@pytest.mark.parametrize("task", [deliver_outbox_message, process_photo])
def test_the_row_is_the_one_the_backend_writes(database_tasks, announced, task,
                                              django_capture_on_commit_callbacks):
    by_backend = task.enqueue(41)
    queued = queue_with_statement(connection, task, (42,))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        insert_rows(connection, queued.rows)
        queued.written()
        assert len(announced) == 1  # the backend's own, not yet ours: nothing has committed
    (row,) = DBTaskResult.objects.exclude(pk=by_backend.id)
    theirs, ours = _columns(by_backend.id), _columns(row.pk)
    assert (theirs.pop("args_kwargs"), ours.pop("args_kwargs")) == \
        ({"args": [41], "kwargs": {}}, {"args": [42], "kwargs": {}})
    assert ours == theirs
    assert ours["run_after"] == get_date_max() and ours["queue_name"] == task.queue_name
    assert row.enqueued_at is not None
    assert announced[1] == (task.module_path, [42], str(row.pk))
    # and the worker takes it like any other
    assert set(DBTaskResult.objects.ready().values_list("pk", flat=True)) == \
        {row.pk, DBTaskResult.objects.get(pk=by_backend.id).pk}


@on_postgresql
def test_many_runs_one_statement_and_a_rollback_keeps_none(database_tasks, announced,
                                                          django_capture_on_commit_callbacks):
    queued = queue_with_statement(connection, deliver_outbox_message, (1,), (2,), (3,))
    with (CaptureQueriesContext(connection) as captured,
          django_capture_on_commit_callbacks(execute=True) as callbacks,
          pytest.raises(RuntimeError), transaction.atomic()):
        insert_rows(connection, queued.rows)
        queued.written()
        assert DBTaskResult.objects.count() == 3
        raise RuntimeError("the caller's statement failed after")
    assert sum(TABLE in q["sql"] for q in captured.captured_queries) == 2  # insert, count
    assert DBTaskResult.objects.count() == 0
    assert callbacks == [] and announced == []


def test_another_backend_enqueues_on_commit(announced, django_capture_on_commit_callbacks):
    """The tests' immediate backend (as Redis would): no rows; the task runs once committed."""
    from warmstation.outreach.models import OutboxMessage

    queued = queue_with_statement(connection, deliver_outbox_message, (10**9,))
    assert queued.rows == []
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        queued.written()
        assert announced == []
    assert [(path, args) for path, args, _ in announced] == \
        [(deliver_outbox_message.module_path, [10**9])]
    assert not OutboxMessage.objects.exists() and not DBTaskResult.objects.exists()
