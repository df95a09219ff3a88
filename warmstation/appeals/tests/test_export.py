"""The needs export through the one export helper: a title that looks like a formula comes back
as plain text in xlsx and in csv, control characters do not break it, the Chinese file name
arrives, and the export stays scoped and audited."""

import csv
import io
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from tests.factories import signed_in
from warmstation.appeals import services
from warmstation.appeals.models import Appeal
from warmstation.core.models import AuditEvent

HYPERLINK = '=HYPERLINK("http://x"&B1,"点击查看详情")'


def _client(user):
    return signed_in(user, user.auth_level)


@pytest.fixture
def cases(s):
    made = {}
    for key, title in [("link", HYPERLINK), ("plus", "+86 拖欠"), ("at", "@SUM(A1)"),
                       ("minus", "-5度 太冷")]:
        made[key] = services.appeal_create(actor=s["worker"], category=s["cats"]["housing"],
                                           area=s["ylj"], title=title, body="b")
    # A control character that got in before input was held to its contract (PostgreSQL cannot
    # store NUL in text at all, so the NUL case is the helper's own test in core/tests).
    bad = services.appeal_create(actor=s["worker"], category=s["cats"]["housing"], area=s["ylj"],
                                 title="住宿", body="b")
    Appeal.objects.filter(pk=bad.pk).update(title="住\x01宿\x1b难")
    made["control"] = bad
    services.appeal_create(actor=s["other_worker"], category=s["cats"]["housing"],
                           area=s["sz"], title="西潞住宿", body="b")
    return made


def test_xlsx_writes_formula_like_titles_as_plain_text(s, cases):
    response = _client(s["gc_admin"]).get("/appeals/export.xlsx")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    by_title = {row[1].value: row[1] for row in ws.iter_rows(min_row=2)}
    cell = by_title[HYPERLINK]
    assert cell.data_type == "s" and cell.value == HYPERLINK
    assert cell.quotePrefix
    for title in ("+86 拖欠", "@SUM(A1)", "-5度 太冷"):
        assert by_title[title].data_type == "s" and by_title[title].quotePrefix
    assert "住宿难" in by_title  # the control characters are dropped, the row is kept
    assert "西潞住宿" not in by_title  # scoped as the inbox is
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    event = AuditEvent.objects.get(action="export", actor=s["gc_admin"])
    assert event.detail["rows"] == 5 and event.detail["format"] == "xlsx"


def test_csv_has_a_bom_and_quotes_formula_like_titles(s, cases):
    response = _client(s["gc_admin"]).get("/appeals/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    titles = {r[1] for r in rows[1:]}
    assert "'" + HYPERLINK in titles and HYPERLINK not in titles
    assert {"'+86 拖欠", "'@SUM(A1)", "'-5度 太冷", "住宿难"} <= titles
    assert "西潞住宿" not in titles
    assert AuditEvent.objects.get(action="export", actor=s["gc_admin"]).detail["format"] == "csv"


def test_the_file_name_is_chinese_with_an_ascii_fallback(s, cases):
    disposition = _client(s["gc_admin"]).get("/appeals/export.xlsx")["Content-Disposition"]
    assert disposition.startswith('attachment; filename="__-')
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded).startswith("诉求-") and unquote(encoded).endswith(".xlsx")


def test_a_worker_exports_only_their_own_cases(s, cases):
    response = _client(s["other_worker"]).get("/appeals/export.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r[1] for r in rows[1:]] == ["西潞住宿"]


def test_an_export_above_the_bound_is_refused_not_cut(s, cases, monkeypatch):
    from warmstation.appeals import views

    monkeypatch.setattr(views, "EXPORT_MAX_ROWS", 3)
    response = _client(s["gc_admin"]).get("/appeals/export.xlsx")
    assert response.status_code == 302 and response["Location"] == "/appeals/inbox/"
    assert not AuditEvent.objects.filter(action="export").exists()
