"""A need without attachments on PostgreSQL is one statement (ADR 0019): the same rows as the ORM
path, column by column; and the API's answer to a need just raised (made from the rows in hand)
is what reading it back gives, on either path."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import signed_in
from warmstation.appeals import services
from warmstation.appeals.models import Appeal, AppealEvent
from warmstation.core.models import AuditEvent
from warmstation.outreach.models import OutboxMessage

pytestmark = pytest.mark.django_db
VARYING = {"id", "appeal", "appeal_id", "created_at", "updated_at", "at", "object_id",
           "next_attempt_at", "client_key"}


def _file(s, monkeypatch, *, one_statement: bool, key: str):
    monkeypatch.setattr(services, "ONE_STATEMENT", one_statement)
    with CaptureQueriesContext(connection) as captured:
        filed = services.appeal_file(actor=s["worker"], category=s["cats"]["social_insurance"],
                                     area=s["ylj"], title="社保断缴怎么补",
                                     body="换站点后断缴三个月，\n怎么补缴？", urgent=True,
                                     client_key=key)
    return filed, [q["sql"] for q in captured.captured_queries]


def _rows(appeal: Appeal) -> dict[str, list[dict]]:
    def strip(rows):
        return [{k: v for k, v in row.items() if k not in VARYING} for row in rows]

    sms = list(OutboxMessage.objects.filter(body__contains=appeal.number).values())
    for row in sms:
        row["body"] = row["body"].replace(appeal.number, "<number>")
    (row,) = Appeal.objects.filter(pk=appeal.pk).values()
    for due in ("dispatch_due", "current_due", "resolve_due"):  # from the clock: as offsets
        row[due] = round((row[due] - row["created_at"]).total_seconds())
    return {"appeal": strip([row]),
            "events": strip(AppealEvent.objects.filter(appeal=appeal).values()),
            "audit": strip(AuditEvent.objects.filter(object_type="appeals.appeal",
                                                     object_id=str(appeal.pk)).values()),
            "sms": strip(sms)}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's path")
def test_one_statement_writes_what_the_orm_writes(s, monkeypatch):
    one, statements = _file(s, monkeypatch, one_statement=True, key="k-one")
    orm, _ = _file(s, monkeypatch, one_statement=False, key="k-orm")
    assert sum(q.startswith("WITH r0 AS (INSERT") for q in statements) == 1
    assert not any(q.startswith(('INSERT INTO "appeals_appeal" ', 'INSERT INTO "appeals_appealevent"',
                                 'INSERT INTO "core_auditevent"')) for q in statements)
    a, b = _rows(one.appeal), _rows(orm.appeal)
    assert all(len(rows) == 1 for rows in a.values()), a
    differing = {(table, k): (row[k], b[table][0][k]) for table, (row,) in a.items()
                 for k in row if row[k] != b[table][0][k]}
    # The deadlines come from the clock a few milliseconds before created_at does, on either
    # path: as offsets in whole seconds they may fall either side of a half second.
    for due in ("dispatch_due", "current_due", "resolve_due"):
        if ("appeal", due) in differing:
            mine, theirs = differing.pop(("appeal", due))
            assert abs(mine - theirs) <= 1, (due, mine, theirs)
    assert differing == {}
    stored = Appeal.objects.get(pk=one.appeal.pk)
    assert (stored.created_at, stored.number) == (one.appeal.created_at, one.appeal.number)
    assert AppealEvent.objects.get(appeal=stored).at == one.events[0].at


@pytest.mark.parametrize("one_statement", [True, False])
def test_the_answer_to_a_need_just_raised_is_what_reading_it_gives(s, monkeypatch,
                                                                  one_statement):
    monkeypatch.setattr(services, "ONE_STATEMENT", one_statement)
    client = signed_in(s["worker"], s["worker"].auth_level)
    posted = client.post("/api/v1/appeals", {
        "category": "social_insurance", "area_code": "YLJ", "title": "社保断缴怎么补",
        "body": "换站点后断缴三个月，怎么补缴？"}, content_type="application/json")
    assert posted.status_code == 201, posted.content
    read = client.get(f"/api/v1/appeals/{posted.json()['id']}")
    assert read.status_code == 200
    assert posted.json() == read.json()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's path")
def test_the_tasks_commit_with_the_need(s, monkeypatch, settings,
                                        django_capture_on_commit_callbacks):
    """With django-tasks' database backend the need's tasks — its SMS's delivery and its
    figures' refresh — are rows of the need's own statement (core/taskrows.py): the rows the
    ORM path queues once committed, and no statement of their own."""
    from django_tasks_db.models import DBTaskResult

    from warmstation.core.tests.test_taskrows import DATABASE_TASKS, TABLE

    settings.TASKS = DATABASE_TASKS

    def queued(one_statement: bool):
        with CaptureQueriesContext(connection) as captured, \
                django_capture_on_commit_callbacks(execute=True):
            filed, _ = _file(s, monkeypatch, one_statement=one_statement,
                             key=f"k-{one_statement}")
        sms = OutboxMessage.objects.get(body__contains=filed.appeal.number)
        rows = list(DBTaskResult.objects.order_by("task_path").values(
            "task_path", "args_kwargs", "queue_name", "priority", "run_after", "status",
            "backend_name"))
        DBTaskResult.objects.all().delete()
        assert [r["task_path"].rsplit(".", 1)[1] for r in rows] == ["refresh_rollup",
                                                                   "deliver_outbox_message"]
        assert rows[1].pop("args_kwargs") == {"args": [sms.pk], "kwargs": {}}
        alone = [q for q in captured.captured_queries
                 if q["sql"].startswith(f'INSERT INTO "{TABLE}"')]
        return rows, len(alone)

    (one, one_alone), (orm, orm_alone) = queued(True), queued(False)
    assert one == orm
    assert (one_alone, orm_alone) == (0, 2)
