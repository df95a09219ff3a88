"""Base-data import over the API: upload a spreadsheet (multipart; 202, checked in the
background), read a batch (its progress, then its row-by-row report), import it (all rows when
clean, or only the valid ones; 202, written in the background). The same services and the same
choke point as the pages (/district/data/)."""

from datetime import datetime
from typing import Literal, cast

from django.http import HttpResponse
from django.urls import reverse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from pydantic import Field

from warmstation.core.pagination import Rows
from warmstation.core.permissions import require_roles
from warmstation.core.schemas import AUTH_ERRORS, Id, LocalizedMessage, ProblemOut
from warmstation.dashboard import importing_services as services
from warmstation.dashboard.importing_models import ImportBatch
from warmstation.dashboard.importing_permissions import (
    IMPORTERS,
    access_import_batch_by_id,
    import_batch_list,
)

router = Router(tags=["data"])
KindIn = Literal["workers", "stations", "merchants"]
StatusOut = Literal["checking", "validated", "importing", "imported", "discarded", "failed"]


class CellErrorOut(Schema):
    column: str = Field(..., description="the column's key (empty for a whole-row refusal)")
    column_name: LocalizedMessage
    message: LocalizedMessage


class ReportRowOut(Schema):
    row: int = Field(..., description="the row number as Excel shows it (the header is row 1)")
    label: str = Field(
        ..., description="the record: a station's or merchant's name, a masked mobile"
    )
    action: Literal["create", "update", "unchanged", "error"]
    changes: list[str]
    errors: list[CellErrorOut]


class ImportBatchOut(Schema):
    id: int
    kind: KindIn
    status: StatusOut
    filename: str
    created_at: datetime
    imported_at: datetime | None
    rows_total: int
    rows_invalid: int
    rows_create: int
    rows_update: int
    rows_unchanged: int
    only_valid: bool
    rows_done: int = Field(
        ..., description="progress: rows checked (checking) or written (importing) so far"
    )
    progress_of: int = Field(..., description="what rows_done counts up to")
    failure: LocalizedMessage | None = Field(None, description="why a failed batch failed")
    url: str = Field(..., description="this batch in the API: poll it while it is running")


class ImportBatchReportOut(ImportBatchOut):
    report: list[ReportRowOut]


class ApplyIn(Schema):
    only_valid: bool = Field(
        False,
        description="leave the rows with errors out; otherwise a "
        "single bad row refuses the import (409)",
    )


def batch_out(b: ImportBatch) -> ImportBatchOut:
    return ImportBatchOut(
        id=b.pk,
        kind=cast(KindIn, b.kind),
        status=cast(StatusOut, b.status),
        filename=b.filename,
        created_at=b.created_at,
        imported_at=b.imported_at,
        rows_total=b.rows_total,
        rows_invalid=b.rows_invalid,
        rows_create=b.rows_create,
        rows_update=b.rows_update,
        rows_unchanged=b.rows_unchanged,
        only_valid=b.only_valid,
        rows_done=b.rows_done,
        progress_of=b.progress_of,
        failure=LocalizedMessage(zh=b.failure["zh"], en=b.failure["en"]) if b.failure else None,
        url=reverse("api:data_import", kwargs={"batch_id": b.pk}),
    )


def report_out(b: ImportBatch) -> ImportBatchReportOut:
    rows = [
        ReportRowOut(
            row=r["row"],
            label=r["label"],
            action=r["action"],
            changes=r.get("changes", []),
            errors=[
                CellErrorOut(
                    column=e["column"],
                    column_name=LocalizedMessage(zh=e["column_zh"], en=e["column_en"]),
                    message=LocalizedMessage(zh=e["zh"], en=e["en"]),
                )
                for e in r["errors"]
            ],
        )
        for r in b.report
    ]
    return ImportBatchReportOut(**batch_out(b).model_dump(), report=rows)


@router.get(
    "/imports",
    url_name="data_imports",
    operation_id="list_import_batches",
    summary="Spreadsheet imports I may see (mine; a district admin's: all), newest first",
    response={200: list[ImportBatchOut], **AUTH_ERRORS},
)
@require_roles(*IMPORTERS)
@paginate
def list_import_batches(request, kind: KindIn | None = None):
    qs = import_batch_list(request.user).defer("rows", "report")
    if kind:
        qs = qs.filter(kind=kind)
    return Rows(qs.order_by("-created_at", "-id"), lambda page: [batch_out(b) for b in page])


@router.post(
    "/imports",
    url_name="data_imports_create",
    operation_id="create_import_batch",
    summary="Upload a spreadsheet (xlsx or csv) of workers, stations or merchants: its shape "
    "checked now (422 if refused), its rows judged in the background; nothing imported yet",
    description="Answers 202 with the batch (status `checking`) and its URL in `Location`; "
    "poll that until the status is `validated` (the report is there) or `failed`.",
    response={202: ImportBatchOut, **AUTH_ERRORS},
)
@require_roles(*IMPORTERS)
def create_import_batch(
    request, response: HttpResponse, file: File[UploadedFile], kind: KindIn = Form(...)
):
    batch = services.import_batch_create(
        actor=request.user, kind=kind, upload=file, filename=file.name or "", request=request
    )
    out = batch_out(batch)
    response["Location"] = out.url
    return Status(202, out)


@router.get(
    "/imports/{batch_id}",
    url_name="data_import",
    operation_id="get_import_batch",
    summary="One import and its row-by-row report",
    response={200: ImportBatchReportOut, 404: ProblemOut, **AUTH_ERRORS},
)
@require_roles(*IMPORTERS)
def get_import_batch(request, batch_id: Id):
    return report_out(access_import_batch_by_id(request.user, batch_id))


@router.post(
    "/imports/{batch_id}/apply",
    url_name="data_import_apply",
    operation_id="apply_import_batch",
    summary="Import the batch: every row when the file is clean, or only the valid rows",
    description="Answers 202 (status `importing`) and writes the rows in the background; "
    "poll the batch for `rows_done` and, once `imported`, its report. 409 when the batch is "
    "not clean and `only_valid` is false, is being checked or imported, or was imported.",
    response={202: ImportBatchOut, 404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS},
)
@require_roles(*IMPORTERS)
def apply_import_batch(request, response: HttpResponse, batch_id: Id, payload: ApplyIn):
    batch = access_import_batch_by_id(request.user, batch_id)
    batch = services.import_batch_apply(
        actor=request.user, batch=batch, only_valid=payload.only_valid, request=request
    )
    out = batch_out(batch)
    response["Location"] = out.url
    return Status(202, out)
