"""Pages of base-data import and export (/district/data/): upload a spreadsheet, follow its
check and read its row-by-row report, import it (all rows when clean, or only the valid ones)
and follow the import, download the templates, and export the staff lists the person can see.
The check and the import run as background tasks (importing_services)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from warmstation.accounts.pages import staff_page
from warmstation.core.errors import ApplicationError, InvalidInput
from warmstation.core.exports import FORMATS
from warmstation.core.pagination import page_list
from warmstation.core.refusals import refused, refused_message
from warmstation.dashboard import exports_data, importing_services
from warmstation.dashboard.importing_columns import COLUMNS
from warmstation.dashboard.importing_models import ImportBatch
from warmstation.dashboard.importing_permissions import (
    IMPORTERS,
    access_import_batch_by_id,
    import_batch_list,
)

UPLOAD_FIELDS = ("kind", "file")
REPORT_SHOWN = 500  # rows on the page; the download has them all
REFRESH_SECONDS = 3  # how often the page of a running check or import reloads itself


def _kind(value: object) -> str | None:
    return value if value in importing_services.KINDS else None


def _fmt(value: object) -> str:
    return "csv" if value == "csv" else "xlsx"


def _index_context(request) -> dict:
    return {
        "kinds": ImportBatch.Kind.choices,
        "columns": COLUMNS,
        "formats": FORMATS,
        "batches": page_list(request, import_batch_list(request.user).defer("rows", "report")),
        "kind": _kind(request.GET.get("kind")) or "workers",
    }


@staff_page(*IMPORTERS)
def index(request):
    """The upload form, the templates, the exports and the recent batches."""
    ctx = _index_context(request)
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        ctx["kind"] = _kind(kind) or ctx["kind"]
        upload = request.FILES.get("file")
        try:
            batch = importing_services.import_batch_create(
                actor=request.user,
                kind=kind,
                upload=upload,
                filename=getattr(upload, "name", "") or "",
                request=request,
            )
        except ApplicationError as exc:
            return refused(request, "dashboard/data/index.html", ctx, exc, fields=UPLOAD_FIELDS)
        return redirect("dashboard_data:batch", batch_id=batch.pk)
    return render(request, "dashboard/data/index.html", ctx)


@staff_page(*IMPORTERS)
def batch(request, batch_id: int):
    """The report of one upload: every row with what importing would do, or its errors."""
    b = access_import_batch_by_id(request.user, batch_id)
    if request.GET.get("format") in FORMATS:
        return exports_data.report_response(request, b, _fmt(request.GET.get("format")))
    report = sorted(b.report, key=lambda r: (r["action"] != "error", r["row"]))
    response = render(
        request,
        "dashboard/data/batch.html",
        {
            "batch": b,
            "report": report[:REPORT_SHOWN],
            "hidden": max(0, len(report) - REPORT_SHOWN),
            "can_apply": b.status == ImportBatch.Status.VALIDATED and b.rows_total > b.rows_invalid,
            "refresh_seconds": REFRESH_SECONDS,
        },
    )
    if b.is_running:
        # The page reloads itself while the task works: the Refresh header needs no script.
        response["Refresh"] = str(REFRESH_SECONDS)
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@staff_page(*IMPORTERS)
def batch_apply(request, batch_id: int):
    b = access_import_batch_by_id(request.user, batch_id)
    only_valid = request.POST.get("mode") == "valid"
    try:
        b = importing_services.import_batch_apply(
            actor=request.user, batch=b, only_valid=only_valid, request=request
        )
    except ApplicationError as exc:
        refused_message(request, exc)
        return redirect("dashboard_data:batch", batch_id=b.pk)
    messages.success(request, _("已开始导入：这一页会显示进度和结果。"))
    return redirect("dashboard_data:batch", batch_id=b.pk)


@require_POST
@staff_page(*IMPORTERS)
def batch_discard(request, batch_id: int):
    b = access_import_batch_by_id(request.user, batch_id)
    try:
        importing_services.import_batch_discard(actor=request.user, batch=b, request=request)
    except ApplicationError as exc:
        refused_message(request, exc)
        return redirect("dashboard_data:batch", batch_id=b.pk)
    messages.success(request, _("已放弃这批数据，没有导入任何内容。"))
    return redirect("dashboard_data:index")


@staff_page(*IMPORTERS)
def template(request):
    """The import template of a kind (?kind=workers|stations|merchants, ?format=xlsx|csv)."""
    kind = _kind(request.GET.get("kind"))
    if kind is None:
        return refused(
            request,
            "dashboard/data/index.html",
            _index_context(request),
            InvalidInput(_("请选择要导入的数据类型。"), field="kind"),
            fields=UPLOAD_FIELDS,
            data={},
        )
    return exports_data.template_response(request, kind, _fmt(request.GET.get("format")))


@staff_page(*IMPORTERS)
def export(request):
    """A staff list the person can see (its own scope), as xlsx or csv, audited."""
    kind = _kind(request.GET.get("kind"))
    if kind is None:
        return refused(
            request,
            "dashboard/data/index.html",
            _index_context(request),
            InvalidInput(_("请选择要导出的列表。"), field="kind"),
            fields=UPLOAD_FIELDS,
            data={},
        )
    response = exports_data.list_export_response(request, kind, _fmt(request.GET.get("format")))
    if response is None:
        messages.error(
            request, _("列表超过 %(n)s 条，无法一次导出。") % {"n": exports_data.EXPORT_MAX_ROWS}
        )
        return redirect("dashboard_data:index")
    return response
