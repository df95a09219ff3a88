"""How long the audit trail is kept, and the one sanctioned way its old rows leave.

Audit rows are kept AUDIT_RETENTION_DAYS (default 365; never less than 183, about six months:
settings refuse less, and the database trigger refuses any row younger than 180 days whatever
the setting). `audit_purge_due` — a periodic job (settings.PERIODIC_JOBS) — takes the rows older
than that, oldest first, in batches: it writes each batch to AUDIT_ARCHIVE_DIR as gzipped JSON
lines (`audit-<first id>-<last id>.jsonl.gz`, written to a temporary name, flushed to disk and
renamed, so a file is either whole or absent), and only then deletes exactly those rows, inside
one database transaction that holds an AuditPurge row — the condition under which the
append-only trigger lets a DELETE through (core migration 0005). Each batch leaves one audit
line, `audit.purge`, with the file's name, its SHA-256, the id range and the count. Archived
files are kept (and backed up) under the district's records policy; they are the export.

On PostgreSQL the trail is partitioned by month (core.partitioning, ADR 0015): a month wholly
older than the cutoff leaves whole. Its partition is locked against writes, exported to one file
(`audit-<YYYYMM>-<first id>-<last id>.jsonl.gz`, same format), then detached and dropped in the
same transaction, with the same `audit.purge` line (plus the partition's name). No row-by-row
DELETE, no bloat; the row path above then handles what is left (rows in the default partition,
or a month only partly past the cutoff).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from warmstation.core.audit import audit_record
from warmstation.core.models import AuditEvent, AuditPurge

MIN_RETENTION_DAYS = 183
BATCH = 20_000


def retention_days() -> int:
    days = int(getattr(settings, "AUDIT_RETENTION_DAYS", 365))
    if days < MIN_RETENTION_DAYS:
        raise ValueError(f"AUDIT_RETENTION_DAYS must be at least {MIN_RETENTION_DAYS}")
    return days


def archive_dir() -> Path:
    return Path(getattr(settings, "AUDIT_ARCHIVE_DIR", settings.VAR_DIR / "audit-archive"))


def _row(e: AuditEvent) -> dict[str, Any]:
    return {"id": e.pk, "at": e.at.isoformat(), "actor_id": e.actor_id,
            "actor_label": e.actor_label, "subject_id": e.subject_id, "action": e.action,
            "object_type": e.object_type, "object_id": e.object_id, "result": e.result,
            "ip": e.ip, "detail": e.detail}


def _export(rows: list[AuditEvent]) -> tuple[Path, str]:
    folder = archive_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"audit-{rows[0].pk}-{rows[-1].pk}.jsonl.gz"
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            for e in rows:
                gz.write(json.dumps(_row(e), ensure_ascii=False, sort_keys=True).encode() + b"\n")
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(tmp, path)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def _export_month(month: datetime) -> tuple[Path, str, int, int, int]:
    """Stream one month's rows into one archive file; (path, sha256, rows, first, last)."""
    from warmstation.core.partitioning import add_months

    folder = archive_dir()
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"audit-{month:%Y%m}.jsonl.tmp"
    rows, first, last = 0, 0, 0
    events = AuditEvent.objects.filter(at__gte=month, at__lt=add_months(month, 1)).order_by("id")
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            for e in events.iterator(chunk_size=5_000):
                gz.write(json.dumps(_row(e), ensure_ascii=False, sort_keys=True).encode() + b"\n")
                first, last, rows = first or e.pk, e.pk, rows + 1
        raw.flush()
        os.fsync(raw.fileno())
    path = folder / f"audit-{month:%Y%m}-{first}-{last}.jsonl.gz"
    os.replace(tmp, path)
    return path, hashlib.sha256(path.read_bytes()).hexdigest(), rows, first, last


def audit_partitions_purge(*, cutoff: datetime) -> int:
    """PostgreSQL: export, then drop, every monthly partition of the trail that ends on or
    before `cutoff`; returns the rows they held."""
    from django.db import connection

    from warmstation.core.partitioning import (
        is_partitioned,
        partition_drop,
        partitions_older_than,
    )

    table = AuditEvent._meta.db_table
    if not is_partitioned(table):
        return 0
    # However the setting is read, never a month younger than the triggers' 180 days.
    cutoff = min(cutoff, timezone.now() - timedelta(days=180))
    done = 0
    for partition in partitions_older_than(table, cutoff):
        assert partition.month is not None
        with transaction.atomic():
            with connection.cursor() as c:  # no row can be added while it is exported
                c.execute(f"LOCK TABLE {partition.name} IN SHARE MODE")
            path, digest, rows, first, last = _export_month(partition.month)
            partition_drop(table, partition)
            audit_record("audit.purge", actor_label="retention",
                         detail={"file": path.name, "sha256": digest, "rows": rows,
                                 "first_id": first, "last_id": last,
                                 "partition": partition.name, "before": cutoff.isoformat()})
        done += rows
    return done


def audit_purge_due(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Export, then delete, audit rows older than the retention period; returns how many were
    deleted. Cheap when there is nothing to do (one indexed probe, and on PostgreSQL one look
    at the catalog)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=retention_days())
    done = audit_partitions_purge(cutoff=cutoff)
    while True:
        # Oldest first by the `at` index: when nothing is due this is one index probe.
        rows = list(AuditEvent.objects.filter(at__lt=cutoff).order_by("at", "id")[:batch])
        if not rows:
            return done
        path, digest = _export(rows)
        ids = [e.pk for e in rows]
        with transaction.atomic():
            AuditPurge.objects.create(started_at=now, cutoff=cutoff)
            deleted, _ = AuditEvent.objects.filter(pk__in=ids, at__lt=cutoff).delete()
            AuditPurge.objects.all().delete()
            audit_record("audit.purge", actor_label="retention",
                         detail={"file": path.name, "sha256": digest, "rows": deleted,
                                 "first_id": ids[0], "last_id": ids[-1],
                                 "before": cutoff.isoformat()})
        done += deleted
        if len(rows) < batch:
            return done
