"""A worker's report on PostgreSQL is one statement (filing_sql.py, ADR 0019): it writes the
same rows as the ORM path, column by column, and nothing at all when a photo cannot be claimed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from warmstation.core.errors import InvalidInput
from warmstation.core.models import AuditEvent
from warmstation.outreach.models import OutboxMessage
from warmstation.reports import services
from warmstation.reports.models import Follower, Photo, Problem, ProblemEvent
from warmstation.reports.tests.factories import YLJ, jpeg

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's path")

# Columns that differ between any two reports (their ids, their clocks) or name the problem.
VARYING = {"id", "problem", "problem_id", "created_at", "updated_at", "at", "object_id",
           "next_attempt_at"}


def _rows(problem: Problem) -> dict[str, list[dict]]:
    def strip(rows):
        return [{k: v for k, v in row.items() if k not in VARYING} for row in rows]

    sms = list(OutboxMessage.objects.filter(body__contains=problem.number).values())
    for row in sms:
        row["body"] = row["body"].replace(problem.number, "<number>")
    return {
        "problem": strip(Problem.objects.filter(pk=problem.pk).values()),
        "photos": strip(Photo.objects.filter(problem=problem).values()),
        "followers": strip(Follower.objects.filter(problem=problem).values()),
        "events": strip(ProblemEvent.objects.filter(problem=problem).values()),
        "audit": strip(AuditEvent.objects.filter(object_type="reports.problem",
                                                 object_id=str(problem.pk)).values()),
        "sms": strip(sms),
    }


def _file(w, monkeypatch, *, one_statement: bool, key: str):
    """A report as the API files it; and the statements filing it sent."""
    monkeypatch.setattr(services, "ONE_STATEMENT", one_statement)
    photo = services.photo_upload(actor=w["worker"], data=jpeg())
    Photo.objects.filter(pk=photo.pk).update(incoming="same", width=64, height=48)
    with CaptureQueriesContext(connection) as captured:
        filed = services.report_file(actor=w["worker"], category=w["garbage"], lat=YLJ[0],
                                     lng=YLJ[1], description="路边垃圾\n两袋",
                                     address="伊林郡东门", photo_ids=[photo.pk], client_key=key)
    return filed, [q["sql"] for q in captured.captured_queries]


@on_postgresql
def test_one_statement_writes_what_the_orm_writes(w, monkeypatch):
    one, statements = _file(w, monkeypatch, one_statement=True, key="k-one")
    orm, _ = _file(w, monkeypatch, one_statement=False, key="k-orm")
    assert sum(s.startswith("WITH claim") for s in statements) == 1
    assert not any(s.startswith(("INSERT INTO \"reports_problem\"",
                                 "INSERT INTO \"reports_follower\"",
                                 "INSERT INTO \"core_auditevent\"")) for s in statements)
    a, b = _rows(one.problem), _rows(orm.problem)
    for rows in (a, b):
        assert len(rows["problem"]) == len(rows["photos"]) == len(rows["followers"]) == 1
        assert len(rows["events"]) == len(rows["audit"]) == len(rows["sms"]) == 1
        rows["problem"][0].pop("client_key")
    assert a == b
    # The instance handed back is the row as written (the answer is made from it).
    stored = Problem.objects.get(pk=one.problem.pk)
    assert (stored.created_at, stored.number) == (one.problem.created_at, one.problem.number)
    assert ProblemEvent.objects.get(problem=stored).at == one.events[0].at
    assert not one.problem._state.adding
    assert [(p.pk, p.problem_id, p.kind, p.state, p.width) for p in one.photos] == \
        [(p.pk, p.problem_id, p.kind, p.state, p.width)
         for p in Photo.objects.filter(problem=one.problem)]


@on_postgresql
@pytest.mark.parametrize("photo_of", ["someone_else", "used", "failed"])
def test_nothing_at_all_is_written_when_a_photo_cannot_be_claimed(w, photo_of):
    owner = w["worker2"] if photo_of == "someone_else" else w["worker"]
    photo = services.photo_upload(actor=owner, data=jpeg())
    if photo_of == "used":
        services.report_create(actor=w["worker"], category=w["garbage"], lat=YLJ[0],
                               lng=YLJ[1], photo_ids=[photo.pk])
    if photo_of == "failed":
        Photo.objects.filter(pk=photo.pk).update(state=Photo.State.FAILED)
    fresh = services.photo_upload(actor=w["worker"], data=jpeg(color="blue"))
    tables = (Problem, Follower, ProblemEvent, AuditEvent, OutboxMessage)
    before = [m.objects.count() for m in tables]
    with pytest.raises(InvalidInput) as refused:
        services.report_create(actor=w["worker"], category=w["garbage"], lat=YLJ[0],
                               lng=YLJ[1], photo_ids=[fresh.pk, photo.pk])
    assert refused.value.code == "bad_photo"
    assert [m.objects.count() for m in tables] == before
    assert Photo.objects.get(pk=fresh.pk).problem_id is None  # still free for the next try


@on_postgresql
def test_an_upload_in_one_statement_writes_what_the_orm_writes(w, monkeypatch):
    def upload(one_statement):
        monkeypatch.setattr(services, "ONE_STATEMENT", one_statement)
        with CaptureQueriesContext(connection) as captured:
            photo = services.photo_upload(actor=w["worker"], data=jpeg())
        row = Photo.objects.filter(pk=photo.pk).values().get()
        audit = AuditEvent.objects.filter(object_type="reports.photo",
                                          object_id=str(photo.pk)).values().get()
        vary = VARYING | {"incoming"}
        return ({k: v for k, v in row.items() if k not in vary},
                {k: v for k, v in audit.items() if k not in vary},
                [q["sql"] for q in captured.captured_queries])

    one, one_audit, statements = upload(True)
    orm, orm_audit, _ = upload(False)
    assert (one, one_audit) == (orm, orm_audit)
    assert sum(s.startswith("WITH c AS") for s in statements) == 1
    assert not any(s.startswith(("INSERT", "BEGIN", "SELECT COUNT")) for s in statements
                   if "dbtaskresult" not in s)


@pytest.mark.parametrize("one_statement", [True, False])
def test_the_answer_to_a_report_just_filed_is_what_reading_it_gives(w, monkeypatch,
                                                                    one_statement):
    """POST answers from the rows in hand (follower kind, timeline, photos); GET reads them:
    the two must be the same, on either path."""
    from django.test import Client

    from warmstation.accounts.models import AuthLevel
    from warmstation.accounts.services import api_token_issue

    monkeypatch.setattr(services, "ONE_STATEMENT", one_statement)
    client = Client(headers={"authorization": "Bearer " + api_token_issue(
        user=w["worker"], auth_level=AuthLevel.CODE)})
    photos = [services.photo_upload(actor=w["worker"], data=jpeg(color=c)).pk
              for c in ("red", "blue")]
    posted = client.post("/api/v1/reports", {"category": "exposed_garbage", "lat": YLJ[0],
                                             "lng": YLJ[1], "photo_ids": photos[::-1],
                                             "description": "两袋垃圾"},
                         content_type="application/json")
    assert posted.status_code == 201, posted.content
    read = client.get(f"/api/v1/reports/{posted.json()['id']}")
    assert read.status_code == 200
    assert posted.json() == read.json()
    assert [p["id"] for p in read.json()["photos"]] == sorted(photos)


@on_postgresql
def test_the_tasks_commit_with_the_rows_they_work_on(w, monkeypatch, settings,
                                                     django_capture_on_commit_callbacks):
    """With django-tasks' database backend, the photo's re-encoding and the reporter's SMS are
    queued by the upload's and the report's own statements (core/taskrows.py): the same task
    rows the ORM path queues once it has committed, and no statement of their own."""
    from django_tasks_db.models import DBTaskResult

    from warmstation.core.tests.test_taskrows import DATABASE_TASKS, TABLE

    settings.TASKS = DATABASE_TASKS

    def queued(one_statement: bool):
        monkeypatch.setattr(services, "ONE_STATEMENT", one_statement)
        DBTaskResult.objects.all().delete()
        with CaptureQueriesContext(connection) as captured, \
                django_capture_on_commit_callbacks(execute=True):
            photo = services.photo_upload(actor=w["worker"], data=jpeg())
            filed = services.report_file(actor=w["worker"], category=w["garbage"], lat=YLJ[0],
                                         lng=YLJ[1], photo_ids=[photo.pk],
                                         client_key=f"k-{one_statement}")
        sms = OutboxMessage.objects.get(body__contains=filed.problem.number)
        rows = list(DBTaskResult.objects.order_by("-task_path").values(
            "task_path", "args_kwargs", "queue_name", "priority", "run_after", "status",
            "backend_name"))
        alone = [q["sql"] for q in captured.captured_queries
                 if q["sql"].startswith(f'INSERT INTO "{TABLE}"')]
        return rows, [[photo.pk], [sms.pk]], alone

    one, one_args, one_alone = queued(True)
    orm, orm_args, orm_alone = queued(False)
    assert [r.pop("args_kwargs") for r in one] == [{"args": a, "kwargs": {}} for a in one_args]
    assert [r.pop("args_kwargs") for r in orm] == [{"args": a, "kwargs": {}} for a in orm_args]
    assert one == orm
    assert [r["task_path"].rsplit(".", 1)[1] for r in one] == ["process_photo",
                                                               "deliver_outbox_message"]
    assert (len(one_alone), len(orm_alone)) == (0, 2)


@on_postgresql
def test_a_refused_upload_or_report_queues_nothing(w, monkeypatch, settings):
    """With the database task backend: over the pending-photo limit, and with a photo that
    cannot be claimed, the statement writes no task row either."""
    from django_tasks_db.models import DBTaskResult

    from warmstation.core.errors import Conflict
    from warmstation.core.tests.test_taskrows import DATABASE_TASKS

    settings.TASKS = DATABASE_TASKS
    monkeypatch.setattr(services, "PENDING_MAX", 1)
    photo = services.photo_upload(actor=w["worker2"], data=jpeg())
    assert list(DBTaskResult.objects.values_list("args_kwargs", flat=True)) == \
        [{"args": [photo.pk], "kwargs": {}}]
    messages = OutboxMessage.objects.count()
    with pytest.raises(Conflict):
        services.photo_upload(actor=w["worker2"], data=jpeg(color="blue"))
    with pytest.raises(InvalidInput):  # someone else's photo
        services.report_create(actor=w["worker"], category=w["garbage"], lat=YLJ[0],
                               lng=YLJ[1], photo_ids=[photo.pk])
    assert (DBTaskResult.objects.count(), OutboxMessage.objects.count()) == (1, messages)
