"""Reading an enrolment list: lines typed into the form, or a spreadsheet (xlsx through
openpyxl, or csv as Excel saves it — UTF-8 with or without a BOM, or GBK). Each row becomes a
BatchRow with its row number, whatever it holds: judging the rows is the service's work, so a
bad row is reported, never dropped here."""

from __future__ import annotations

import csv
import io
import re
from typing import IO, Any

from django.utils.translation import gettext_lazy as _

from warmstation.core.errors import InvalidInput
from warmstation.union.services import BATCH_ROWS_MAX, BatchRow

HEADERS = {"name": ("姓名", "name", "名字"), "mobile": ("手机号", "手机", "mobile", "phone", "电话"),
           "employer": ("单位", "工作单位", "企业", "平台", "employer"),
           "job_type": ("工作类型", "工种", "job_type")}
TEMPLATE_HEADER = ["姓名", "手机号", "工作单位", "工作类型"]
SPREADSHEET_MAX_BYTES = 2_000_000
_SPLIT = re.compile(r"[,，\t;；]+|\s{1,}")


def roster_from_text(text: str) -> list[BatchRow]:
    """One person a line: name, mobile, and optionally the employer, separated by commas
    (either width), tabs or spaces. Blank lines are skipped (they are not rows)."""
    rows = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p for p in _SPLIT.split(line.strip()) if p]
        rows.append(BatchRow(row=n, name=parts[0] if parts else "",
                             mobile=parts[1] if len(parts) > 1 else "",
                             employer=" ".join(parts[2:]) if len(parts) > 2 else ""))
    return rows


def _columns(header: list[str]) -> dict[str, int] | None:
    found = {}
    for key, names in HEADERS.items():
        for i, cell in enumerate(header):
            if cell.strip().lower() in names:
                found[key] = i
                break
    return found if {"name", "mobile"} <= set(found) else None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a mobile typed into Excel becomes a number
    return str(value).strip()


def _rows(table: list[list[str]]) -> list[BatchRow]:
    if not table:
        return []
    columns = _columns(table[0])
    start = 1 if columns else 0
    columns = columns or {"name": 0, "mobile": 1, "employer": 2, "job_type": 3}
    rows = []
    for n, cells in enumerate(table[start:], start=start + 1):
        if not any(cells):
            continue

        def get(key: str, cells: list[str] = cells) -> str:
            i = columns.get(key)
            return cells[i] if i is not None and i < len(cells) else ""

        rows.append(BatchRow(row=n, name=get("name"), mobile=get("mobile"),
                             employer=get("employer"), job_type=get("job_type")))
        if len(rows) > BATCH_ROWS_MAX:
            break
    return rows


def roster_from_file(upload: IO[bytes], filename: str) -> list[BatchRow]:
    """The rows of an uploaded spreadsheet (row numbers as Excel shows them)."""
    data = upload.read(SPREADSHEET_MAX_BYTES + 1)
    if len(data) > SPREADSHEET_MAX_BYTES:
        raise InvalidInput(_("文件太大（最大 2 MB）。"), field="file")
    if data[:2] == b"PK":  # xlsx is a zip
        try:
            from openpyxl import load_workbook

            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            ws = wb.worksheets[0]
            table = [[_cell(v) for v in row]
                     for row in ws.iter_rows(values_only=True, max_row=BATCH_ROWS_MAX + 2)]
            wb.close()
        except Exception:  # noqa: BLE001 — any unreadable workbook is the file's fault
            raise InvalidInput(_("无法读取这个表格文件，请用模板另存为 xlsx 或 csv。"),
                               field="file") from None
        return _rows(table)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInput(_("无法读取这个表格文件，请用模板另存为 xlsx 或 csv。"), field="file")
    if "\x00" in text:
        raise InvalidInput(_("无法读取这个表格文件，请用模板另存为 xlsx 或 csv。"), field="file")
    table = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    return _rows(table[:BATCH_ROWS_MAX + 2])
