"""Imports in the background: the upload answers at once, the check and the import run as
tasks, the import writes chunk by chunk with its cursor, resumes after a crash, and does nothing
twice. Only the uploader (and district admins) see a batch, on the pages and in the API."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import TestCase
from django.utils import timezone

from tests.factories import (
    BrandFactory,
    as_level,
    build_area_tree,
    make_user,
    once_per_module,
    signed_in,
)
from warmstation.accounts.models import AuthLevel, Role, User
from warmstation.accounts.services import api_token_issue
from warmstation.core.models import AuditEvent
from warmstation.dashboard import importing_services as svc
from warmstation.dashboard.exports_data import header
from warmstation.dashboard.importing_models import ImportBatch

pytestmark = pytest.mark.django_db
N = 7  # rows in the file; with CHUNK = 2 the import takes four chunks


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with once_per_module(django_db_blocker):
        tree = build_area_tree()
        BrandFactory()
        yield {
            **tree,
            "district_admin": as_level(make_user(Role.DISTRICT_ADMIN, tree["district"])),
            "gc_admin": as_level(make_user(Role.AREA_ADMIN, tree["gc"])),
            "xl_admin": as_level(make_user(Role.AREA_ADMIN, tree["xl"])),
            "steward": as_level(make_user(Role.STEWARD, tree["ylj"]), AuthLevel.PASSWORD),
        }


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(svc, "CHUNK", 2)


def _file(rows: list[list[str]]) -> SimpleUploadedFile:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header("workers"))
    writer.writerows(rows)
    return SimpleUploadedFile("workers.csv", ("\ufeff" + buf.getvalue()).encode())


ROWS = [[f"1390000{i:04d}", f"导入{i}", "courier", "", "YLJ"] for i in range(N)]


def _mobiles() -> int:
    return User.objects.filter(mobile__startswith="1390000").count()


def _checked(actor) -> ImportBatch:
    with TestCase.captureOnCommitCallbacks(execute=True):
        batch = svc.import_batch_create(
            actor=actor, kind="workers", upload=_file(ROWS), filename="w.csv"
        )
    batch.refresh_from_db()
    assert batch.status == "validated" and batch.is_clean
    return batch


def _started(actor) -> ImportBatch:
    """A checked batch whose import was started, its task not run yet."""
    batch = _checked(actor)
    with TestCase.captureOnCommitCallbacks(execute=False):
        svc.import_batch_apply(actor=actor, batch=batch, only_valid=False)
    batch.refresh_from_db()
    assert batch.status == "importing" and batch.rows_done == 0 and batch.progress_of == N
    return batch


def test_the_upload_stores_the_file_and_the_check_runs_as_a_task(world):
    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        batch = svc.import_batch_create(
            actor=world["gc_admin"], kind="workers", upload=_file(ROWS), filename="w.csv"
        )
    batch.refresh_from_db()
    assert batch.status == "checking" and batch.rows_total == N and batch.report == []
    assert bytes(batch.data).startswith(b"\xef\xbb\xbf") and len(queued) == 1
    queued[0]()
    batch.refresh_from_db()
    assert batch.status == "validated" and batch.rows_create == N and batch.data is None
    assert len(batch.rows) == N and _mobiles() == 0  # checked, nothing written
    assert svc.import_batch_check(batch_id=batch.pk) == "skipped"  # a second run: nothing


def test_the_import_task_writes_every_row_in_chunks(world):
    batch = _started(world["gc_admin"])
    assert svc.import_batch_run(batch_id=batch.pk) == "done"
    batch.refresh_from_db()
    assert batch.status == "imported" and batch.rows_done == N and batch.rows == []
    assert batch.rows_create == N and batch.rows_invalid == 0
    assert {r["action"] for r in batch.report} == {"create"} and _mobiles() == N
    done = AuditEvent.objects.get(action="import.done", object_id=str(batch.pk))
    assert done.actor_id == world["gc_admin"].pk and done.detail["rows_create"] == N


def test_a_crash_mid_way_resumes_from_the_cursor_and_loses_nothing(world):
    batch = _started(world["gc_admin"])
    # the worker writes its first chunk, then dies
    assert svc.import_batch_run(batch_id=batch.pk, max_chunks=1) == "stopped"
    batch.refresh_from_db()
    assert batch.rows_done == 2 and batch.status == "importing" and _mobiles() == 2
    # a chunk whose transaction never commits (the process killed inside it) leaves nothing:
    # neither its rows nor the cursor moved
    with pytest.raises(RuntimeError), transaction.atomic():
        assert svc.import_batch_run_chunk(batch_id=batch.pk)
        assert _mobiles() == 4
        raise RuntimeError("killed")
    batch.refresh_from_db()
    assert batch.rows_done == 2 and _mobiles() == 2
    # while it is fresh the periodic job leaves it alone; once stalled it enqueues it again
    assert svc.import_batch_resume_due() == 0
    later = timezone.now() + timedelta(minutes=svc.STALL_MINUTES + 1)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert svc.import_batch_resume_due(now=later) == 1
    batch.refresh_from_db()
    assert batch.status == "imported" and batch.rows_done == N and _mobiles() == N
    assert batch.rows_create == N and batch.rows_unchanged == 0
    assert svc.import_batch_resume_due(now=later + timedelta(hours=1)) == 0


def test_running_twice_does_not_double_rows(world):
    batch = _started(world["gc_admin"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert svc.import_batch_run(batch_id=batch.pk) == "done"
    enrolments = AuditEvent.objects.filter(action__startswith="worker.").count()
    assert svc.import_batch_run(batch_id=batch.pk) == "skipped"  # the task delivered again
    # Even a run from a cursor that lags behind (an old state replayed) writes nothing twice:
    # every row is judged again against the database before it is written.
    stored = _checked(world["gc_admin"]).rows  # the same rows' cleaned values
    ImportBatch.objects.filter(pk=batch.pk).update(
        status="importing", rows_done=0, rows=stored, rows_create=0
    )
    assert svc.import_batch_run(batch_id=batch.pk) == "done"
    batch.refresh_from_db()
    assert _mobiles() == N and batch.rows_unchanged == N
    assert AuditEvent.objects.filter(action__startswith="worker.").count() == enrolments
    # and the same file uploaded again: every row unchanged
    assert _checked(world["gc_admin"]).rows_unchanged == N


def test_discarding_a_batch_being_checked_stops_its_check(world):
    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        batch = svc.import_batch_create(
            actor=world["gc_admin"], kind="workers", upload=_file(ROWS), filename="w.csv"
        )
    svc.import_batch_discard(actor=world["gc_admin"], batch=batch)
    queued[0]()
    batch.refresh_from_db()
    assert batch.status == "discarded" and batch.data is None and batch.report == []


def test_a_refused_file_creates_nothing_and_says_why(world):
    client = signed_in(world["gc_admin"])
    bad = SimpleUploadedFile("w.csv", "姓名\n张三\n".encode())
    page = client.post("/district/data/", {"kind": "workers", "file": bad})
    text = page.content.decode()
    assert page.status_code == 422 and "表头缺少必填列" in text
    assert not ImportBatch.objects.exists()
    token = api_token_issue(user=world["gc_admin"], auth_level=AuthLevel.MFA)
    bad.seek(0)
    answer = client.post(
        "/api/v1/data/imports",
        {"kind": "workers", "file": bad},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = answer.json()
    assert answer.status_code == 422 and body["code"] == "missing_columns"
    assert "Mobile" in body["detail"]["en"] and "手机号" in body["detail"]["zh"]
    assert not ImportBatch.objects.exists()


def test_the_resume_job_is_registered():
    assert (
        "import_resume",
        "warmstation.dashboard.importing_services.import_batch_resume_due",
    ) in settings.PERIODIC_JOBS


@pytest.mark.parametrize("who, page, api", [("xl_admin", 404, 404), ("steward", 403, 403)])
def test_another_area_or_role_cannot_see_or_start_an_import(world, who, page, api):
    batch = _checked(world["gc_admin"])
    other = world[who]
    client = signed_in(other, other.auth_level)
    url = f"/district/data/batches/{batch.pk}/"
    assert client.get(url).status_code == page
    assert client.post(url + "apply/", {"mode": "all"}).status_code == page
    token = api_token_issue(user=other, auth_level=other.auth_level)
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/data/imports/{batch.pk}", headers=auth).status_code == api
    applied = client.post(
        f"/api/v1/data/imports/{batch.pk}/apply",
        {"only_valid": False},
        content_type="application/json",
        headers=auth,
    )
    assert applied.status_code == api
    batch.refresh_from_db()
    assert batch.status == "validated" and _mobiles() == 0
    # the district admin sees every batch; anonymous people are sent to sign in / get 401
    assert signed_in(world["district_admin"]).get(url).status_code == 200
    from django.test import Client

    assert Client().get(url).status_code == 302
    assert Client().get(f"/api/v1/data/imports/{batch.pk}").status_code == 401
