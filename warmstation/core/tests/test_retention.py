"""The audit trail's retention: old rows exported, then deleted by the one sanctioned path; the
database refuses every other DELETE (both databases), and any DELETE of a row younger than 180
days. Idempotency keys expire after their retention."""

import gzip
import hashlib
import json
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from warmstation.core.audit import audit_record
from warmstation.core.models import AuditEvent, AuditPurge
from warmstation.core.retention import audit_purge_due


def _old_event(days: int, action: str = "test.old") -> int:
    """An audit row written `days` ago (the ORM would stamp it now)."""
    at = timezone.now() - timedelta(days=days)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO core_auditevent (at, actor_label, action, object_type, "
                       "object_id, result, detail) VALUES (%s, 'x', %s, '', '', 'ok', %s)",
                       [at, action, '{"n": 1}'])
    return AuditEvent.objects.get(action=action).pk


@pytest.fixture
def archive(settings, tmp_path):
    settings.AUDIT_ARCHIVE_DIR = tmp_path / "archive"
    settings.AUDIT_RETENTION_DAYS = 183
    return settings.AUDIT_ARCHIVE_DIR


def test_old_rows_are_exported_then_deleted_and_the_purge_is_audited(db, archive):
    old = [_old_event(400, "test.old1"), _old_event(200, "test.old2")]
    young = _old_event(100, "test.young")
    recent = audit_record("test.now", actor_label="x").pk
    assert audit_purge_due() == 2
    assert audit_purge_due() == 0
    assert set(AuditEvent.objects.filter(pk__in=[*old, young, recent])
               .values_list("pk", flat=True)) == {young, recent}
    files = list(archive.iterdir())
    assert [f.name for f in files] == [f"audit-{old[0]}-{old[1]}.jsonl.gz"]
    rows = [json.loads(line) for line in gzip.decompress(files[0].read_bytes()).splitlines()]
    assert [r["action"] for r in rows] == ["test.old1", "test.old2"]
    assert rows[0]["detail"] == {"n": 1}
    purge = AuditEvent.objects.get(action="audit.purge")
    assert purge.detail["rows"] == 2
    assert purge.detail["sha256"] == hashlib.sha256(files[0].read_bytes()).hexdigest()
    assert not AuditPurge.objects.exists()


def test_any_other_delete_is_refused_on_both_databases(db, archive):
    old = _old_event(400)
    recent = audit_record("test.now", actor_label="x").pk
    for pk in (old, recent):
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=pk).delete()
    # Even on the sanctioned path the database keeps anything younger than 180 days.
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditPurge.objects.create(started_at=timezone.now(), cutoff=timezone.now())
        AuditEvent.objects.filter(pk=recent).delete()
    assert AuditEvent.objects.filter(pk__in=[old, recent]).count() == 2


def test_a_retention_below_six_months_is_refused(db, settings):
    settings.AUDIT_RETENTION_DAYS = 90
    with pytest.raises(ValueError):
        audit_purge_due()
