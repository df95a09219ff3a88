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


def audit_purge_due(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Export, then delete, audit rows older than the retention period; returns how many were
    deleted. Cheap when there is nothing to do (one indexed probe)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=retention_days())
    done = 0
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
