"""The writes of a base-data import. Four steps, the slow two in background tasks
(dashboard/tasks.py) so that no request waits for thousands of rows:

1. `import_batch_create` (the request): the file's shape only — type, size, row count, header
   and required columns — then the bytes are stored with a new batch (status checking) and the
   check is enqueued on commit. A refused file creates nothing.
2. `import_batch_check` (task): every row judged (importing_rows.judge), the report and the
   valid rows' cleaned values stored, the bytes dropped → validated. Nothing of the data is
   written.
3. `import_batch_apply` (the request, the person's choice): the rows judged again against the
   database as it is now; with `only_valid` False a single bad row refuses the import (409,
   nothing written) → importing, and the import is enqueued on commit.
4. `import_batch_run` (task): the rows written CHUNK at a time, each chunk in one transaction
   together with the cursor `rows_done` and its report lines, so a task that dies loses at most
   its open chunk, which the next run does again. Every row is judged again as its chunk is
   written, so a row already written is "unchanged" and written no second time: running twice
   (two deliveries of the task, a resume) cannot double anything. A row a service refuses now
   (changed since the check) is reported and left out; the others go on. → imported.

`import_batch_resume_due` (settings.PERIODIC_JOBS) enqueues again the batches whose task was
lost (no progress for STALL_MINUTES).

Lock order: the batch row (select_for_update) first — two clicks on "import", or two runs of
a chunk, go one after the other, and the second sees what the first did; then whatever the
owning services lock (a worker's account row)."""

from __future__ import annotations

import hashlib
import io
import time
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from warmstation.core.audit import audit_record
from warmstation.core.errors import ApplicationError, Conflict, InvalidInput
from warmstation.core.inputs import clean_text
from warmstation.core.models import AuditEvent
from warmstation.dashboard import importing, importing_rows
from warmstation.dashboard.importing_columns import COLUMNS, map_header
from warmstation.dashboard.importing_models import ImportBatch

if TYPE_CHECKING:
    from warmstation.accounts.models import User

KINDS = tuple(ImportBatch.Kind.values)
# A batch checked and left waiting this long is discarded: the rows it holds (workers' mobiles
# and names) are not kept for an import nobody finished.
PENDING_DAYS = 7
# Rows written per transaction: small enough that a chunk commits within seconds (a worker's
# enrolment is ~10–30 ms here), large enough that the batch row's report is not rewritten
# for every few rows.
CHUNK = 200
# A running batch without progress for this long has lost its task (the worker died, the queue
# lost it): the periodic job enqueues it again. Far above one chunk's time.
STALL_MINUTES = 5
# One task writes for about this long, then enqueues the rest as a new task, so that a large
# import does not hold a worker from the other queues' tasks.
RUN_BUDGET_SECONDS = 60


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidInput(_("请选择要导入的数据类型。"), code="invalid_kind", field="kind")
    return kind


def _columns(kind: str, table: importing.Table) -> dict[str, int]:
    columns, missing = map_header(kind, table.header)
    if missing:
        raise InvalidInput(
            "表头缺少必填列：" + "、".join(c.zh for c in missing) + "。请使用模板的表头。",
            "The header lacks required columns: "
            + ", ".join(c.en for c in missing)
            + ". Use the template's header row.",
            code="missing_columns",
            field="file",
        )
    return columns


def _counts(results: list[importing_rows.RowResult]) -> dict[str, int]:
    return {
        "rows_total": len(results),
        "rows_invalid": sum(r.action == "error" for r in results),
        "rows_create": sum(r.action == "create" for r in results),
        "rows_update": sum(r.action == "update" for r in results),
        "rows_unchanged": sum(r.action == "unchanged" for r in results),
    }


def _enqueue_check(batch_id: int) -> None:
    from warmstation.dashboard.tasks import check_import_batch

    transaction.on_commit(lambda: check_import_batch.enqueue(batch_id))


def _enqueue_run(batch_id: int) -> None:
    from warmstation.dashboard.tasks import run_import_batch

    transaction.on_commit(lambda: run_import_batch.enqueue(batch_id))


def import_batch_create(
    *,
    actor: User,
    kind: str,
    upload: IO[bytes] | None,
    filename: str = "",
    request: HttpRequest | None = None,
) -> ImportBatch:
    """Accept an uploaded spreadsheet: its shape is checked here (a refused file creates
    nothing and says why), its rows by the task enqueued when this commits."""
    check_kind(kind)
    table, data = importing.read_table(upload)
    _columns(kind, table)
    name = clean_text((filename or "upload").replace("\n", " "), max_length=10_000)
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            kind=kind,
            status=ImportBatch.Status.CHECKING,
            filename=name[-importing.FILENAME_MAX :],
            created_by=actor,
            created_level=actor.auth_level,
            sha256=hashlib.sha256(data).hexdigest(),
            rows_total=len(table.rows),
            progress_of=len(table.rows),
            progress_at=timezone.now(),
            data=data,
        )
        audit_record(
            "import.upload",
            actor=actor,
            obj=batch,
            request=request,
            detail={"kind": kind, "rows_total": batch.rows_total, "sha256": batch.sha256},
        )
        _enqueue_check(batch.pk)
    return batch


def import_batch_check(*, batch_id: int) -> str:
    """The task's body: judge every row of a stored upload; nothing of its data is written.
    Idempotent: a batch no longer being checked (checked already, discarded) is left alone."""
    batch = ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.CHECKING).first()
    if batch is None:
        return "skipped"
    failure: ApplicationError | None = None
    results: list[importing_rows.RowResult] = []
    try:
        if batch.created_by is None:  # the uploader's account is gone: whose scope to judge in?
            raise Conflict(_("上传这批数据的账号已不存在，请重新上传。"), code="uploader_gone")
        table, _data = importing.read_table(io.BytesIO(bytes(batch.data or b"")))
        columns = _columns(batch.kind, table)
        results = importing_rows.judge(
            batch.kind,
            importing_rows.Context(_acting(batch.created_by, batch.created_level)),
            table,
            columns,
        )
    except ApplicationError as exc:  # the stored file reads as it did at upload: not expected
        failure = exc
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status != ImportBatch.Status.CHECKING:
            return "skipped"
        batch.data = None
        batch.progress_at = timezone.now()
        if failure is not None:
            batch.status = ImportBatch.Status.FAILED
            batch.failure = {"zh": failure.message_zh, "en": failure.message_en}
            batch.save()
            audit_record(
                "import.validate",
                actor=batch.created_by,
                obj=batch,
                result=AuditEvent.Result.FAILED,
                detail={"kind": batch.kind, "code": failure.code},
            )
            return "failed"
        counts = _counts(results)
        for key, value in counts.items():
            setattr(batch, key, value)
        batch.report = [r.report() for r in results]
        batch.rows = [{"row": r.row, "values": r.values} for r in results if r.action != "error"]
        batch.rows_done = batch.progress_of = len(results)
        batch.status = ImportBatch.Status.VALIDATED
        batch.save()
        audit_record(
            "import.validate",
            actor=batch.created_by,
            obj=batch,
            detail={"kind": batch.kind, **counts, "sha256": batch.sha256},
        )
    return "validated"


def _acting(user: User, level: int) -> User:
    """The person as they were in the request that started the step (a task has no session)."""
    user.auth_level = level
    user.forget_grants()
    return user


def _judge_stored(batch: ImportBatch, ctx: importing_rows.Context, stored: list[dict[str, Any]]):
    """Judge cleaned rows again, as rows of a table in the template's order."""
    keys = [c.key for c in COLUMNS[batch.kind]]
    table = importing.Table(
        header=keys,
        rows=[(r["row"], [_as_cell(r["values"], k) for k in keys]) for r in stored],
    )
    return importing_rows.judge(
        batch.kind,
        ctx,
        table,
        {k: i for i, k in enumerate(keys) if k == "crs" or _present(batch.rows, k)},
    )


def import_batch_apply(
    *, actor: User, batch: ImportBatch, only_valid: bool, request: HttpRequest | None = None
) -> ImportBatch:
    """Start importing the batch (the writing is the task's, import_batch_run). The rows are
    judged again against the database as it is now (it may have changed since the check): with
    `only_valid` False a single bad row refuses the import here and nothing is written; with
    True the bad rows will be left out."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status in (ImportBatch.Status.IMPORTING, ImportBatch.Status.CHECKING):
            raise Conflict(_("这批数据正在处理，请稍候。"), code="import_running")
        if batch.status != ImportBatch.Status.VALIDATED:
            raise Conflict(_("这批数据已经处理过了。"), code="already_imported")
        if not only_valid and batch.rows_invalid:
            raise Conflict(
                _("文件里还有错误行：请改好后重新上传，或选择“只导入正确的行”。"),
                code="file_not_clean",
            )
        if not batch.rows:
            raise Conflict(_("没有可以导入的行。"), code="nothing_to_import")
        if not only_valid:
            results = _judge_stored(batch, importing_rows.Context(actor), batch.rows)
            bad = next((r for r in results if r.action == "error"), None)
            if bad is not None:
                raise Conflict(
                    _("第 %(row)s 行现在不能导入（数据在上传后有变化）：请重新上传。"),
                    params={"row": bad.row},
                    code="row_refused",
                )
        batch.status = ImportBatch.Status.IMPORTING
        batch.only_valid = only_valid
        batch.applied_by = actor
        batch.applied_level = actor.auth_level
        batch.rows_done = 0
        batch.progress_of = len(batch.rows)
        batch.progress_at = timezone.now()
        # From here on the counts say what the import did, chunk by chunk.
        batch.rows_create = batch.rows_update = batch.rows_unchanged = 0
        batch.save()
        audit_record(
            "import.apply",
            actor=actor,
            obj=batch,
            request=request,
            detail={"kind": batch.kind, "only_valid": only_valid, "rows": batch.progress_of},
        )
        _enqueue_run(batch.pk)
    return batch


def _write_rows(
    batch: ImportBatch, ctx: importing_rows.Context, stored: list[dict[str, Any]]
) -> list[importing_rows.RowResult]:
    """Judge and write one chunk, each row in its own savepoint: a row a service refuses is
    rolled back alone and reported."""
    results = _judge_stored(batch, ctx, stored)
    for r in results:
        if r.action not in ("create", "update"):
            continue
        try:
            with transaction.atomic():
                importing_rows.write(batch.kind, ctx, r.values, None)
        except ApplicationError as exc:
            r.fail(None, exc)
            r.action = "error"
        except (ValidationError, IntegrityError):
            # A model check the row's judging did not foresee, or a record created meanwhile
            # by another import (the unique mobile): the row's refusal, not the file's.
            r.fail(
                None,
                Conflict(
                    _("这一行无法保存（可能刚被其他导入改动）：请重新上传后再试。"),
                    code="row_not_saved",
                ),
            )
            r.action = "error"
    return results


def import_batch_run_chunk(*, batch_id: int, ctx: importing_rows.Context | None = None) -> bool:
    """Write the next CHUNK rows of an importing batch, with the cursor and the report lines, in
    one transaction; finish the batch when none are left. True while rows remain."""
    with transaction.atomic():
        # of=self: PostgreSQL locks no row of the (nullable) outer-joined user
        batch = (
            ImportBatch.objects.select_for_update(of=("self",))
            .select_related("applied_by")
            .filter(pk=batch_id)
            .first()
        )
        if batch is None or batch.status != ImportBatch.Status.IMPORTING:
            return False
        if batch.applied_by is None:  # the account is gone: nobody to import as
            return False
        actor = batch.applied_by
        start = batch.rows_done
        stored = batch.rows[start : start + CHUNK]
        now = timezone.now()
        if not stored:
            batch.rows = []  # the cleaned values (mobiles, names) are not kept once imported
            batch.status = ImportBatch.Status.IMPORTED
            batch.imported_at = now
            batch.progress_at = now
            batch.save()
            audit_record(
                "import.done",
                actor=actor,
                obj=batch,
                detail={
                    "kind": batch.kind,
                    "only_valid": batch.only_valid,
                    "rows_create": batch.rows_create,
                    "rows_update": batch.rows_update,
                    "rows_unchanged": batch.rows_unchanged,
                    "rows_invalid": batch.rows_invalid,
                },
            )
            return False
        if ctx is None:
            ctx = importing_rows.Context(_acting(actor, batch.applied_level))
        results = _write_rows(batch, ctx, stored)
        counts = _counts(results)
        batch.rows_create += counts["rows_create"]
        batch.rows_update += counts["rows_update"]
        batch.rows_unchanged += counts["rows_unchanged"]
        batch.rows_invalid += counts["rows_invalid"]
        lines = {r.row: r.report() for r in results}
        batch.report = [lines.get(line["row"], line) for line in batch.report]
        batch.rows_done = start + len(stored)
        batch.progress_at = now
        batch.save()
    return True


def import_batch_run(
    *, batch_id: int, max_chunks: int | None = None, budget_s: float = RUN_BUDGET_SECONDS
) -> str:
    """The task's body: write chunk after chunk from the batch's cursor until it is imported,
    or for about `budget_s` seconds (then the rest is enqueued as a new task), or for
    `max_chunks` chunks (the way a test stops a run half-way, as a worker that died would)."""
    batch = ImportBatch.objects.filter(pk=batch_id).select_related("applied_by").first()
    if batch is None or batch.status != ImportBatch.Status.IMPORTING:
        return "skipped"
    actor = batch.applied_by
    ctx = importing_rows.Context(_acting(actor, batch.applied_level)) if actor else None
    started = time.monotonic()
    done = 0
    while import_batch_run_chunk(batch_id=batch_id, ctx=ctx):
        done += 1
        if max_chunks is not None and done >= max_chunks:
            return "stopped"
        if time.monotonic() - started > budget_s:
            _enqueue_run(batch_id)
            return "continued"
    return "done"


def import_batch_resume_due(*, now: datetime | None = None) -> int:
    """Periodic (settings.PERIODIC_JOBS): enqueue again each batch being checked or imported
    that has not moved for STALL_MINUTES — its task was lost. Idempotent: the tasks pick up from
    the batch's state, and a task running twice does nothing twice."""
    now = now or timezone.now()
    stalled = list(
        ImportBatch.objects.filter(
            status__in=(ImportBatch.Status.CHECKING, ImportBatch.Status.IMPORTING),
            progress_at__lt=now - timedelta(minutes=STALL_MINUTES),
        ).values_list("pk", "status")
    )
    for pk, status in stalled:
        # Moved on, so that the next pass waits STALL_MINUTES again before another enqueue.
        ImportBatch.objects.filter(pk=pk, status=status).update(progress_at=now)
        if status == ImportBatch.Status.CHECKING:
            _enqueue_check(pk)
        else:
            _enqueue_run(pk)
    return len(stalled)


def import_batch_discard(
    *, actor: User, batch: ImportBatch, request: HttpRequest | None = None
) -> ImportBatch:
    """Give up a batch not imported (checking, checked or failed): its data is dropped."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status not in (
            ImportBatch.Status.CHECKING,
            ImportBatch.Status.VALIDATED,
            ImportBatch.Status.FAILED,
        ):
            raise Conflict(_("这批数据已经处理过了。"), code="already_imported")
        batch.status = ImportBatch.Status.DISCARDED
        batch.rows = []
        batch.data = None
        batch.save(update_fields=["status", "rows", "data", "updated_at"])
        audit_record(
            "import.discard", actor=actor, obj=batch, request=request, detail={"kind": batch.kind}
        )
    return batch


def import_batch_expire_due(*, now: datetime | None = None) -> int:
    """Periodic (settings.PERIODIC_JOBS): discard the batches checked (or failed) more than
    PENDING_DAYS ago and never imported, dropping the rows they hold. Idempotent; one UPDATE."""
    cutoff = (now or timezone.now()) - timedelta(days=PENDING_DAYS)
    return ImportBatch.objects.filter(
        status__in=(ImportBatch.Status.VALIDATED, ImportBatch.Status.FAILED),
        created_at__lt=cutoff,
    ).update(status=ImportBatch.Status.DISCARDED, rows=[], data=None, updated_at=timezone.now())


def _present(rows: list[dict[str, Any]], key: str) -> bool:
    return any(key in r["values"] for r in rows)


def _as_cell(values: dict[str, Any], key: str) -> Any:
    """A cleaned value back as a cell the readers accept (positions are WGS-84 by now)."""
    if key == "crs":
        return "wgs84"
    if key == "areas":
        return ",".join(values.get("areas", []))
    if key == "is_24h":
        return "是" if values.get(key) else "否"
    return values.get(key)
