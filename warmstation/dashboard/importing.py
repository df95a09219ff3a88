"""Reading an uploaded spreadsheet of base data into a header and numbered rows, bounded.

A staff member's file is trusted no further than any upload: it may be huge (a million rows, a
zip bomb dressed as xlsx), an old .xls, a csv in GBK, hold NUL bytes or formulas. Whatever it
is, the answer is a table or an `InvalidInput` with a message in both languages (never a 500):
- at most MAX_BYTES on the wire, MAX_UNZIPPED_BYTES inside an xlsx (checked from the zip's
  directory before openpyxl reads anything), MAX_ROWS rows with data (MAX_SCAN rows looked at,
  blank ones included) and MAX_COLUMNS columns;
- xlsx is read with openpyxl in read-only mode (a streaming parser, the first sheet only);
- csv as Excel saves it: UTF-8 with or without a BOM, else GB18030 (GBK's superset);
- a NUL byte in a csv refuses the file (it is not text); other control characters, formulas and
  full-width digits are the rows' business (importing_rows.py reports them per cell).

Row numbers are the ones Excel shows (the header is row 1).
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import IO, Any

from django.utils.translation import gettext_lazy as _

from warmstation.core.errors import InvalidInput

MAX_BYTES = 5_000_000
MAX_UNZIPPED_BYTES = 60_000_000
MAX_ZIP_ENTRIES = 500
MAX_ROWS = 5_000
MAX_SCAN = 20_000
MAX_COLUMNS = 50
MAX_CELL = 2_000  # characters in one cell; longer is not base data
FILENAME_MAX = 128

Cell = str | int | float | date | time | None


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, list[Cell]]]  # (Excel row number, cells)


def _unreadable() -> InvalidInput:
    return InvalidInput(
        _("无法读取这个文件：请用模板填写，另存为 xlsx 或 csv（UTF-8）后上传。"),
        code="unreadable_file",
        field="file",
    )


def _too_many_rows() -> InvalidInput:
    return InvalidInput(
        _("文件行数太多：一次最多导入 %(n)s 行，请分成几个文件。"),
        params={"n": MAX_ROWS},
        code="too_many_rows",
        field="file",
    )


def _plain(value: Any) -> Cell:
    """A cell as the rows understand it: text, a number, a date or a time, or None."""
    if value is None or isinstance(value, (int, float, time)):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return value
    text = str(value)
    return text[: MAX_CELL + 1]


def _is_blank(cells: list[Cell]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _build(source: Any) -> Table:
    """Header = the first non-blank row; then every non-blank row, numbered, bounded."""
    header: list[str] | None = None
    rows: list[tuple[int, list[Cell]]] = []
    for number, raw in enumerate(source, start=1):
        if number > MAX_SCAN:
            raise _too_many_rows()
        cells = [_plain(v) for v in list(raw)[:MAX_COLUMNS]]
        if _is_blank(cells):
            continue
        if header is None:
            header = ["" if c is None else str(c) for c in cells]
            continue
        rows.append((number, cells))
        if len(rows) > MAX_ROWS:
            raise _too_many_rows()
    if header is None or not rows:
        raise InvalidInput(
            _("文件里没有数据行：第一行是表头，数据从第二行开始。"), code="empty_file", field="file"
        )
    return Table(header=header, rows=rows)


def _xlsx(data: bytes) -> Table:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _unreadable() from None
    if len(infos) > MAX_ZIP_ENTRIES or sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
        # A zip bomb, or a workbook far beyond any list of base data.
        raise InvalidInput(
            _("文件解压后太大，不像一份基础数据表，请只保留需要导入的一张表。"),
            code="file_too_large",
            field="file",
        )
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        try:
            ws = wb.worksheets[0]
            return _build(ws.iter_rows(values_only=True, max_col=MAX_COLUMNS))
        finally:
            wb.close()
    except InvalidInput:
        raise
    except Exception:  # noqa: BLE001 — any workbook openpyxl cannot read is the file's fault
        raise _unreadable() from None


def _csv(data: bytes) -> Table:
    if b"\x00" in data:
        raise InvalidInput(
            _("文件含有空字符（NUL），不是文本表格：请另存为 xlsx 或 csv 后上传。"),
            code="nul_in_file",
            field="file",
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _unreadable()
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        return _build(reader)
    except csv.Error:
        raise _unreadable() from None


def read_table(upload: IO[bytes] | None) -> tuple[Table, bytes]:
    """The table of an uploaded file and its bytes (for the batch's fingerprint)."""
    if upload is None:
        raise InvalidInput(
            _("请选择要上传的文件（xlsx 或 csv）。"), code="missing_file", field="file"
        )
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise InvalidInput(
            _("文件太大：最大 %(mb)s MB。"),
            params={"mb": MAX_BYTES // 1_000_000},
            code="file_too_large",
            field="file",
        )
    if not data:
        raise InvalidInput(_("文件是空的。"), code="empty_file", field="file")
    if data[:4] == b"PK\x03\x04":
        return _xlsx(data), data
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise InvalidInput(
            _("这是旧版 Excel（.xls）文件：请在 Excel 中另存为 .xlsx 后上传。"),
            code="old_excel",
            field="file",
        )
    return _csv(data), data
