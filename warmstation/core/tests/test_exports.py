"""The export helper itself: every formula start, every control character openpyxl refuses,
and the header it names files with."""

import csv
import io

import pytest
from openpyxl import load_workbook

from warmstation.core.exports import content_disposition, write_csv, write_xlsx

STARTS = ["=1+1", "+1", "-1", "@A1", "\tx", "\rx"]
CONTROLS = "".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r") + "\x7f"


@pytest.mark.parametrize("value", STARTS)
def test_xlsx_cell_is_text_with_quote_prefix(value):
    data, count = write_xlsx("表", ["标题"], [[value]])
    cell = load_workbook(io.BytesIO(data)).active["A2"]
    assert count == 1
    assert cell.data_type == "s" and cell.quotePrefix
    assert cell.value.replace("\n", "\r") == value  # XML reads a lone CR back as LF


@pytest.mark.parametrize("value", STARTS)
def test_csv_cell_gets_an_apostrophe(value):
    data, _ = write_csv(["标题"], [[value]])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[1] == ["'" + value]


def test_every_control_character_openpyxl_refuses_is_dropped():
    title = f"住{CONTROLS}宿"
    data, _ = write_xlsx("表\x00", ["标题\x00"], [[title, "ok"]])
    ws = load_workbook(io.BytesIO(data)).active
    assert ws["A1"].value == "标题" and ws["A2"].value == "住宿" and ws["B2"].value == "ok"
    csv_data, _ = write_csv(["标题"], [[title]])
    assert "\x00" not in csv_data.decode("utf-8-sig")
    assert csv_data.decode("utf-8-sig").splitlines()[1] == "住宿"


def test_numbers_and_plain_text_stay_as_they_are():
    data, _ = write_xlsx("表", ["a", "b", "c"], [[-5, 12.5, "小哥 -"], [None, "", "社保"]])
    ws = load_workbook(io.BytesIO(data)).active
    assert ws["A2"].value == -5 and ws["A2"].data_type == "n"
    assert ws["B2"].value == 12.5 and not ws["C2"].quotePrefix


def test_content_disposition_names_the_file_in_ascii_and_utf8():
    assert content_disposition("report.csv") == 'attachment; filename="report.csv"'
    header = content_disposition('诉求 "x".xlsx')
    assert header == ('attachment; filename="__ _x_.xlsx"; '
                      "filename*=UTF-8''%E8%AF%89%E6%B1%82%20%22x%22.xlsx")
    assert "\n" not in content_disposition("a\r\nb.csv")
