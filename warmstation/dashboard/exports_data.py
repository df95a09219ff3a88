"""Spreadsheets of base data: the import templates, and exports of the staff lists that had
none (workers, stations, partner merchants), read through the lists' own scoped selectors and
written by core/exports.py (UTF-8 BOM, formula escaping, audit). An export has the import
template's columns (plus the area's name), so a list edited in Excel imports again — except the
workers' mobiles, which are masked as the list shows them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from warmstation.accounts.selectors import worker_list
from warmstation.benefits.selectors import merchant_list
from warmstation.core.exports import export_response
from warmstation.core.masking import mask_mobile
from warmstation.dashboard.importing_columns import COLUMNS, EXAMPLES
from warmstation.stations.permissions import station_managed_list

EXPORT_MAX_ROWS = 50_000
FILENAMES = {"workers": "小哥", "stations": "驿站", "merchants": "合作商户"}
AREA_NAME = "区域名称 Area name"


def header(kind: str) -> list[str]:
    return [c.label for c in COLUMNS[kind]]


def template_response(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    """The import template: the bilingual header row and one example row."""
    return export_response(
        request,
        fmt=fmt,
        filename=f"导入模板-{FILENAMES[kind]}",
        sheet_title=FILENAMES[kind],
        header=header(kind),
        rows=[EXAMPLES[kind]],
        object_type=f"dashboard.template.{kind}",
    )


def _yes(value: bool) -> str:
    return "是" if value else "否"


def _rows(kind: str, user: Any) -> tuple[Any, Iterator[list[Any]]]:
    if kind == "workers":
        qs = worker_list(user=user)

        def workers() -> Iterator[list[Any]]:
            for p in qs.iterator(chunk_size=1000):
                yield [
                    mask_mobile(p.user.mobile),
                    p.user.real_name,
                    p.job_type,
                    p.brand.code if p.brand else "",
                    "、".join(a.code for a in p.areas.all()),
                ]

        return qs, workers()
    if kind == "stations":
        sqs = station_managed_list(user).order_by("area__path", "name", "pk")

        def stations() -> Iterator[list[Any]]:
            for s in sqs.iterator(chunk_size=1000):
                yield [
                    s.name,
                    s.kind,
                    s.area.code,
                    s.address,
                    s.lat,
                    s.lng,
                    "wgs84",
                    s.phone,
                    s.operator,
                    _yes(s.is_24h),
                    s.area.name_zh,
                ]

        return sqs, stations()
    mqs = merchant_list(user=user, managed=True)

    def merchants() -> Iterator[list[Any]]:
        for m in mqs.iterator(chunk_size=1000):
            yield [
                m.name,
                m.kind,
                m.area.code,
                m.address,
                m.lat,
                m.lng,
                "wgs84",
                m.contact_name,
                m.phone,
                m.opens.strftime("%H:%M"),
                m.closes.strftime("%H:%M"),
                m.area.name_zh,
            ]

    return mqs, merchants()


def list_export_response(request: HttpRequest, kind: str, fmt: str) -> HttpResponse | None:
    """The list the user can see as a spreadsheet, or None when it is too long to export."""
    qs, rows = _rows(kind, request.user)
    if qs.count() > EXPORT_MAX_ROWS:
        return None
    extra = [] if kind == "workers" else [AREA_NAME]
    return export_response(
        request,
        fmt=fmt,
        filename=f"{FILENAMES[kind]}-{timezone.localdate():%Y%m%d}",
        sheet_title=FILENAMES[kind],
        header=header(kind) + extra,
        rows=rows,
        object_type={
            "workers": "accounts.workerprofile",
            "stations": "stations.station",
            "merchants": "benefits.merchant",
        }[kind],
        audit_detail={"list": kind},
    )


def report_response(request: HttpRequest, batch: Any, fmt: str) -> HttpResponse:
    """A batch's validation (or import) report, row by row, in the page's language."""
    en = getattr(request, "LANGUAGE_CODE", "").startswith("en")
    head = (
        ["Row", "Record", "Result", "Column", "Problem"]
        if en
        else ["行", "记录", "结果", "列", "问题"]
    )

    def rows() -> Iterator[list[Any]]:
        for r in batch.report:
            if not r["errors"]:
                yield [r["row"], r["label"], r["action"], ",".join(r.get("changes", [])), ""]
            for e in r["errors"]:
                yield [
                    r["row"],
                    r["label"],
                    r["action"],
                    e["column_en" if en else "column_zh"],
                    e["en" if en else "zh"],
                ]

    return export_response(
        request,
        fmt=fmt,
        filename=f"导入报告-{batch.pk}",
        header=head,
        rows=rows(),
        object_type="dashboard.importbatch",
        audit_detail={"batch": batch.pk},
    )
