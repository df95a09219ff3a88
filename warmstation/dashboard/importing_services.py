"""The writes of a base-data import: validating an upload into a batch with its report, then
importing it — every row in one transaction, and only when the file is clean, or only the
valid rows when the person chooses so.

Lock order: the batch row (select_for_update) first, so two clicks on "import" cannot import a
batch twice; then whatever the owning services lock (a worker's account row)."""

from __future__ import annotations

import hashlib
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
from warmstation.dashboard import importing, importing_rows
from warmstation.dashboard.importing_columns import COLUMNS, map_header
from warmstation.dashboard.importing_models import ImportBatch

if TYPE_CHECKING:
    from warmstation.accounts.models import User

KINDS = tuple(ImportBatch.Kind.values)
# A batch checked and left waiting this long is discarded: the rows it holds (workers' mobiles
# and names) are not kept for an import nobody finished.
PENDING_DAYS = 7


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidInput(_("请选择要导入的数据类型。"), code="invalid_kind", field="kind")
    return kind


def _judge(actor: User, kind: str, table: importing.Table) -> list[importing_rows.RowResult]:
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
    return importing_rows.judge(kind, importing_rows.Context(actor), table, columns)


def _counts(results: list[importing_rows.RowResult]) -> dict[str, int]:
    return {
        "rows_total": len(results),
        "rows_invalid": sum(r.action == "error" for r in results),
        "rows_create": sum(r.action == "create" for r in results),
        "rows_update": sum(r.action == "update" for r in results),
        "rows_unchanged": sum(r.action == "unchanged" for r in results),
    }


def import_batch_create(
    *,
    actor: User,
    kind: str,
    upload: IO[bytes] | None,
    filename: str = "",
    request: HttpRequest | None = None,
) -> ImportBatch:
    """Read and judge an uploaded spreadsheet; nothing of its data is written yet. The batch
    keeps the report (and the valid rows' cleaned values, for the import that may follow)."""
    check_kind(kind)
    table, data = importing.read_table(upload)
    results = _judge(actor, kind, table)
    name = clean_text((filename or "upload").replace("\n", " "), max_length=10_000)
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            kind=kind,
            filename=name[-importing.FILENAME_MAX :],
            created_by=actor,
            sha256=hashlib.sha256(data).hexdigest(),
            **_counts(results),
            report=[r.report() for r in results],
            rows=[{"row": r.row, "values": r.values} for r in results if r.action != "error"],
        )
        audit_record(
            "import.validate",
            actor=actor,
            obj=batch,
            request=request,
            detail={"kind": kind, **_counts(results), "sha256": batch.sha256},
        )
    return batch


def import_batch_apply(
    *, actor: User, batch: ImportBatch, only_valid: bool, request: HttpRequest | None = None
) -> ImportBatch:
    """Import the batch. The rows are judged again against the database as it is now (it may
    have changed since the upload); with `only_valid` False a single bad row refuses the whole
    import, with True the bad rows are left out. Every write goes through the owning app's
    service, all in one transaction: a row a service refuses refuses the import (or, with
    `only_valid`, is reported and left out, its savepoint rolled back)."""
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != ImportBatch.Status.VALIDATED:
            raise Conflict(_("这批数据已经处理过了。"), code="already_imported")
        if not only_valid and batch.rows_invalid:
            raise Conflict(
                _("文件里还有错误行：请改好后重新上传，或选择“只导入正确的行”。"),
                code="file_not_clean",
            )
        if not batch.rows:
            raise Conflict(_("没有可以导入的行。"), code="nothing_to_import")
        ctx = importing_rows.Context(actor)
        # Judge again from the cleaned values, as rows of a table in the template's order.
        keys = [c.key for c in COLUMNS[batch.kind]]
        table = importing.Table(
            header=keys,
            rows=[(r["row"], [_as_cell(r["values"], k) for k in keys]) for r in batch.rows],
        )
        results = importing_rows.judge(
            batch.kind,
            ctx,
            table,
            {k: i for i, k in enumerate(keys) if k == "crs" or _present(batch.rows, k)},
        )
        report = {r["row"]: r for r in batch.report}
        for r in results:
            if r.action in ("create", "update"):
                try:
                    with transaction.atomic():
                        importing_rows.write(batch.kind, ctx, r.values, request)
                except ApplicationError as exc:
                    r.fail(None, exc)
                    r.action = "error"
                except (ValidationError, IntegrityError):
                    # A model check the row's judging did not foresee, or a record created
                    # meanwhile by another import (the unique mobile): the row's refusal, not
                    # a 500 for the whole file.
                    r.fail(
                        None,
                        Conflict(
                            _("这一行无法保存（可能刚被其他导入改动）：请重新上传后再试。"),
                            code="row_not_saved",
                        ),
                    )
                    r.action = "error"
            if r.action == "error" and not only_valid:
                raise Conflict(
                    _("第 %(row)s 行现在不能导入（数据在上传后有变化）：请重新上传。"),
                    params={"row": r.row},
                    code="row_refused",
                )
            report[r.row] = r.report()
        counts = _counts(results)
        counts["rows_total"] = batch.rows_total
        counts["rows_invalid"] = batch.rows_invalid + counts["rows_invalid"]
        for key, value in counts.items():
            setattr(batch, key, value)
        batch.report = [report[n] for n in sorted(report)]
        batch.rows = []  # the cleaned values (mobiles, names) are not kept once imported
        batch.status = ImportBatch.Status.IMPORTED
        batch.only_valid = only_valid
        batch.imported_at = timezone.now()
        batch.save()
        audit_record(
            "import.apply",
            actor=actor,
            obj=batch,
            request=request,
            detail={"kind": batch.kind, "only_valid": only_valid, **counts},
        )
    return batch


def import_batch_discard(
    *, actor: User, batch: ImportBatch, request: HttpRequest | None = None
) -> ImportBatch:
    with transaction.atomic():
        batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.status != ImportBatch.Status.VALIDATED:
            raise Conflict(_("这批数据已经处理过了。"), code="already_imported")
        batch.status = ImportBatch.Status.DISCARDED
        batch.rows = []
        batch.save(update_fields=["status", "rows", "updated_at"])
        audit_record(
            "import.discard", actor=actor, obj=batch, request=request, detail={"kind": batch.kind}
        )
    return batch


def import_batch_expire_due(*, now: datetime | None = None) -> int:
    """Periodic (settings.PERIODIC_JOBS): discard the batches checked more than PENDING_DAYS
    ago and never imported, dropping the rows they hold. Idempotent; one UPDATE."""
    cutoff = (now or timezone.now()) - timedelta(days=PENDING_DAYS)
    return ImportBatch.objects.filter(
        status=ImportBatch.Status.VALIDATED, created_at__lt=cutoff
    ).update(status=ImportBatch.Status.DISCARDED, rows=[], updated_at=timezone.now())


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
