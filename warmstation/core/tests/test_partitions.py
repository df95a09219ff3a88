"""Monthly partitions of the append-only tables on PostgreSQL (core.partitioning, ADR 0015):
rows land in their month's partition (or the default one), the job creates months ahead, the
audit trail's retention drops whole old months after exporting them, and the guarantees the
triggers give hold on every partition."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from tests.factories import make_worker
from warmstation.core.audit import audit_record
from warmstation.core.models import AuditEvent
from warmstation.core.partitioning import (
    add_months,
    is_partitioned,
    month_start,
    partition_create,
    partition_name,
    partitions,
    partitions_maintain_due,
)
from warmstation.core.retention import audit_purge_due

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions: PostgreSQL only"),
]

THIS_MONTH = month_start(timezone.now())


def _sql(query: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as c:
        c.execute(query, params or [])
        return c.fetchall() if c.description else []


def _audit_at(at) -> tuple[int, str]:
    """An audit row written as if at `at` (the ORM's auto_now_add would say now): its id and
    the partition it landed in."""
    return _sql("""INSERT INTO core_auditevent (at, actor_label, action, object_type, object_id,
                                                result, detail)
                   VALUES (%s, 'test', 'test.event', '', '', 'ok', '{}')
                   RETURNING id, tableoid::regclass::text""", [at])[0]


def test_every_append_only_table_is_partitioned_by_month_with_months_ahead():
    for table, column in settings.PARTITIONED_TABLES:
        assert is_partitioned(table), table
        names = [p.name for p in partitions(table)]
        ahead = [partition_name(table, add_months(THIS_MONTH, n))
                 for n in range(settings.PARTITIONS_AHEAD_MONTHS + 1)]
        assert set(ahead) <= set(names) and names[-1] == f"{table}_default"
        # Django's id is unique by its sequence; PostgreSQL's key includes the partition key.
        key = _sql("""SELECT pg_get_constraintdef(oid) FROM pg_constraint
                       WHERE conrelid = %s::regclass AND contype = 'p'""", [table])
        assert key == [(f"PRIMARY KEY (id, {column})",)]


def test_rows_land_in_their_months_partition_or_the_default_one():
    # given / when: the ORM's own write, and rows of months with and without a partition
    event = audit_record("test.now", actor_label="test")
    next_month = _audit_at(add_months(THIS_MONTH, 1) + timedelta(days=3))
    far_past = _audit_at(THIS_MONTH - timedelta(days=3 * 365))

    # then
    landed = _sql("SELECT tableoid::regclass::text FROM core_auditevent WHERE id = %s",
                  [event.pk])
    assert landed == [(partition_name("core_auditevent", THIS_MONTH),)]
    assert next_month[1] == partition_name("core_auditevent", add_months(THIS_MONTH, 1))
    assert far_past[1] == "core_auditevent_default"
    # and the ORM reads them through the parent as before, ids unique and increasing
    ids = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    assert ids == sorted({event.pk, next_month[0], far_past[0], *ids})
    assert next_month[0] > event.pk


def test_the_job_creates_months_ahead_once_and_leaves_a_month_in_the_default_alone():
    # given: six months from now a row already waits in the default partition
    later = add_months(THIS_MONTH, 6)
    _, where = _audit_at(later + timedelta(days=1))
    assert where == "core_auditevent_default"

    # when: the job runs as if five months had passed
    created = partitions_maintain_due(now=add_months(THIS_MONTH, 5))

    # then: months 5 … 8 exist for every table but the audit trail's month 6, whose row
    # stays, readable, where it was; a second run has nothing to do
    assert created == len(settings.PARTITIONED_TABLES) * 4 - 1
    names = {p.name for p in partitions("core_auditevent")}
    assert partition_name("core_auditevent", add_months(THIS_MONTH, 8)) in names
    assert partition_name("core_auditevent", later) not in names
    assert partitions_maintain_due(now=add_months(THIS_MONTH, 5)) == 0
    assert AuditEvent.objects.filter(at__gte=later, at__lt=add_months(later, 1)).count() == 1


def test_retention_exports_then_drops_only_the_months_past_it(settings, tmp_path):
    # given: rows nine and five months old in their own partitions, and today's
    settings.AUDIT_RETENTION_DAYS = 183
    settings.AUDIT_ARCHIVE_DIR = tmp_path
    old, young = add_months(THIS_MONTH, -9), add_months(THIS_MONTH, -5)
    for month in (old, young):
        assert partition_create("core_auditevent", "at", month)
    old_ids = [_audit_at(old + timedelta(days=d))[0] for d in (1, 2, 3)]
    young_id, where = _audit_at(young + timedelta(days=1))
    assert where == partition_name("core_auditevent", young)
    today = audit_record("test.today", actor_label="test")

    # when (the rows were written in this test's own transaction: their deferred foreign-key
    # checks are run now, as their commit would have, or PostgreSQL refuses to drop the table)
    _sql("SET CONSTRAINTS ALL IMMEDIATE")
    purged = audit_purge_due()

    # then: the old month left whole, exported first; the others are untouched
    assert purged == 3
    names = {p.name for p in partitions("core_auditevent")}
    assert partition_name("core_auditevent", old) not in names
    assert partition_name("core_auditevent", young) in names
    assert set(AuditEvent.objects.filter(pk__in=[*old_ids, young_id, today.pk])
               .values_list("pk", flat=True)) == {young_id, today.pk}
    [archive] = tmp_path.glob(f"audit-{old:%Y%m}-*.jsonl.gz")
    lines = [json.loads(line) for line in gzip.decompress(archive.read_bytes()).splitlines()]
    assert [line["id"] for line in lines] == old_ids
    line = AuditEvent.objects.get(action="audit.purge")
    assert line.detail["partition"] == partition_name("core_auditevent", old)
    assert line.detail["rows"] == 3 and line.detail["file"] == archive.name
    assert audit_purge_due() == 0


def test_the_append_only_triggers_hold_on_every_partition():
    event = audit_record("test.now", actor_label="test")
    old_id, _ = _audit_at(THIS_MONTH - timedelta(days=3 * 365))  # in the default partition
    for pk in (event.pk, old_id):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _sql("UPDATE core_auditevent SET action = 'x' WHERE id = %s", [pk])
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _sql("DELETE FROM core_auditevent WHERE id = %s", [pk])


def test_the_ledger_on_partitions_keeps_its_guarantees(tree):
    from warmstation.points.tests.factories import fund

    # given: points moved (entries in this month's partition)
    worker = make_worker([tree["sz"]])
    fund(worker, 30)
    [(entry_id, transaction_id, account_id, where)] = _sql(
        """SELECT id, transaction_id, account_id, tableoid::regclass::text FROM points_entry
            WHERE amount = 30""")
    assert where == partition_name("points_entry", THIS_MONTH)

    # then: entries can be neither changed nor deleted, and the message names the table
    with pytest.raises(IntegrityError, match="points_entry is append-only"), \
            transaction.atomic():
        _sql("UPDATE points_entry SET amount = 31 WHERE id = %s", [entry_id])
    # one entry per account in a transaction, even in another month's partition
    for at in (timezone.now(), add_months(THIS_MONTH, 2)):
        with pytest.raises(IntegrityError, match="points_entry_one_per_account"), \
                transaction.atomic():
            _sql("""INSERT INTO points_entry (transaction_id, account_id, amount, balance_after,
                                              created_at) VALUES (%s, %s, 1, 31, %s)""",
                 [transaction_id, account_id, at])
    # and the chain verifies
    out = StringIO()
    call_command("ledger_verify", "--full", "--no-checkpoint", stdout=out)
    assert "ledger ok" in out.getvalue()
