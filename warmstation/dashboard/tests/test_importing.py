"""Base-data import: rows judged one by one (column and problem in both languages), nothing
half-imported, the same file twice changes nothing, area admins only in their own areas,
hostile files refused with a message, never a 500."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from openpyxl import Workbook, load_workbook

from tests.factories import BrandFactory, as_level, make_station, make_user, make_worker, signed_in
from warmstation.accounts.models import Role, User
from warmstation.benefits.models import Merchant
from warmstation.core import geo
from warmstation.core.errors import Conflict, InvalidInput
from warmstation.core.models import AuditEvent
from warmstation.dashboard import importing_services as svc
from warmstation.dashboard.exports_data import header
from warmstation.dashboard.importing_models import ImportBatch
from warmstation.dashboard.importing_permissions import access_import_batch_by_id
from warmstation.stations.models import Station

YLJ_CENTRE = (39.7480, 116.1400)


@pytest.fixture
def world(tree):
    tree["district"].center_lat, tree["district"].center_lng = 39.7476, 116.1370
    tree["district"].save()
    tree["ylj"].center_lat, tree["ylj"].center_lng = YLJ_CENTRE
    tree["ylj"].save()
    BrandFactory()
    district = as_level(make_user(Role.DISTRICT_ADMIN, tree["district"]))
    gc_admin = as_level(make_user(Role.AREA_ADMIN, tree["gc"]))
    xl_admin = as_level(make_user(Role.AREA_ADMIN, tree["xl"]))
    return {**tree, "district_admin": district, "gc_admin": gc_admin, "xl_admin": xl_admin}


def _csv(kind: str, rows: list[list], head: list[str] | None = None) -> SimpleUploadedFile:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(head or header(kind))
    writer.writerows(rows)
    return SimpleUploadedFile("data.csv", ("\ufeff" + buf.getvalue()).encode("utf-8"))


def _xlsx(kind: str, rows: list[list]) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    ws.append(header(kind))
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("data.xlsx", buf.getvalue())


def _upload(actor, kind, upload) -> ImportBatch:
    """Upload, and let the check task run (the suite's tasks run at once, on commit)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        batch = svc.import_batch_create(actor=actor, kind=kind, upload=upload, filename=upload.name)
    batch.refresh_from_db()
    return batch


def _apply(actor, batch, only_valid) -> ImportBatch:
    """Start the import, and let its task write every row."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        svc.import_batch_apply(actor=actor, batch=batch, only_valid=only_valid)
    batch.refresh_from_db()
    return batch


def _errors(batch: ImportBatch) -> dict[int, list[tuple[str, str]]]:
    return {
        r["row"]: [(e["column"], e["zh"] + " / " + e["en"]) for e in r["errors"]]
        for r in batch.report
        if r["errors"]
    }


def _bd09(lat, lng):
    return geo.from_wgs84(lat, lng, "bd09")


WORKER_ROWS = [
    ["13800000001", "张三", "courier", "sf", "YLJ"],  # 2 ok
    [
        "１３８ ０００ ０００ ０２",
        "李四",
        "外卖骑手",
        "",
        "GC、YLJ",
    ],  # 3 ok: full-width digits, label
    ["12345", "王五", "courier", "", "YLJ"],  # 4 bad phone
    ["13800000004", "赵六", "courier", "", "NOWHERE"],  # 5 unknown area
    ["13800000001", "张三", "courier", "sf", "YLJ"],  # 6 duplicate of row 2
    ["13800000006", '=HYPERLINK("x")', "courier", "", "YLJ"],  # 7 formula
    ["13800000007", "钱七", "pilot", "", "SZ"],  # 8 bad job type
]


def test_worker_rows_are_reported_one_by_one_and_nothing_is_half_imported(world):
    batch = _upload(world["district_admin"], "workers", _csv("workers", WORKER_ROWS))
    errors = _errors(batch)
    assert batch.rows_total == 7 and batch.rows_invalid == 5 and batch.rows_create == 2
    assert set(errors) == {4, 5, 6, 7, 8}
    assert (
        errors[4][0][0] == "mobile" and "手机号" in errors[4][0][1] and "mobile" in errors[4][0][1]
    )
    assert errors[5][0][0] == "areas" and "NOWHERE" in errors[5][0][1]
    assert (
        errors[6][0][0] == "mobile" and "第 2 行" in errors[6][0][1] and "row 2" in errors[6][0][1]
    )
    assert errors[7][0][0] == "real_name" and "formula" in errors[7][0][1]
    assert errors[8][0][0] == "job_type" and "courier" in errors[8][0][1]
    assert "138****0001" in {r["label"] for r in batch.report}  # masked in the report
    with pytest.raises(Conflict):
        _apply(world["district_admin"], batch, False)
    assert not User.objects.filter(mobile__startswith="1380000").exists()

    batch = _apply(world["district_admin"], batch, True)
    assert batch.status == "imported" and batch.rows_create == 2 and batch.rows == []
    li = User.objects.get(mobile="13800000002")
    assert li.real_name == "李四" and li.worker_profile.job_type == "food_delivery"
    assert sorted(a.code for a in li.worker_profile.areas.all()) == ["GC", "YLJ"]
    assert li.grants.filter(role=Role.WORKER).exists()
    assert not li.consents.exists()  # no consent is given on the worker's behalf
    assert AuditEvent.objects.filter(action="import.apply").count() == 1
    with pytest.raises(Conflict):  # a second click imports nothing twice
        _apply(world["district_admin"], batch, True)


def test_the_same_file_twice_changes_nothing_and_a_changed_row_updates(world):
    rows = [r for r in WORKER_ROWS[:2]]
    first = _upload(world["district_admin"], "workers", _xlsx("workers", rows))
    _apply(world["district_admin"], first, False)
    audit_before = AuditEvent.objects.filter(action__startswith="worker.").count()
    again = _upload(world["district_admin"], "workers", _xlsx("workers", rows))
    assert [r["action"] for r in again.report] == ["unchanged", "unchanged"]
    again = _apply(world["district_admin"], again, False)
    assert again.rows_unchanged == 2 and again.rows_create == again.rows_update == 0
    assert AuditEvent.objects.filter(action__startswith="worker.").count() == audit_before

    changed = [rows[0][:3] + ["", "GC"], rows[1]]
    batch = _upload(world["district_admin"], "workers", _xlsx("workers", changed))
    assert batch.report[0]["action"] == "update"
    assert set(batch.report[0]["changes"]) == {"brand", "areas"}
    _apply(world["district_admin"], batch, False)
    profile = User.objects.get(mobile="13800000001").worker_profile
    assert profile.brand is None and [a.code for a in profile.areas.all()] == ["GC"]


def test_an_area_admin_imports_only_into_their_own_areas(world):
    make_worker([world["sz"]], mobile="13800000009")
    rows = [
        ["13800000011", "孙八", "courier", "", "YLJ"],
        ["13800000012", "周九", "courier", "", "SZ"],  # another street's community
        ["13800000009", "吴十", "courier", "", "YLJ"],
    ]  # another street's worker
    batch = _upload(world["gc_admin"], "workers", _csv("workers", rows))
    errors = _errors(batch)
    assert set(errors) == {3, 4}
    assert "不在您管辖" in errors[3][0][1] and errors[4][0][0] == "areas"
    _apply(world["gc_admin"], batch, True)
    assert User.objects.filter(mobile="13800000011").exists()
    assert not User.objects.filter(mobile="13800000012").exists()
    assert [a.code for a in User.objects.get(mobile="13800000009").worker_profile.areas.all()] == [
        "SZ"
    ]
    # the batch is the uploader's (and the district's): another area admin finds nothing
    with pytest.raises(Exception) as exc:
        access_import_batch_by_id(world["xl_admin"], batch.pk)
    assert type(exc.value).__name__ == "NotFound"
    assert access_import_batch_by_id(world["district_admin"], batch.pk) == batch


def test_station_coordinates_outside_china_swapped_or_in_the_wrong_system(world):
    lat, lng = YLJ_CENTRE
    glat, glng = geo.from_wgs84(lat, lng, "gcj02")
    blat, blng = _bd09(lat, lng)
    rows = [
        ["高德驿站", "youth", "YLJ", "地址1", glat, glng, "gcj02", "010-69300001", "", "是"],  # 2
        ["伦敦驿站", "youth", "YLJ", "地址2", 51.5, -0.12, "wgs84", "", "", ""],  # 3
        ["颠倒驿站", "youth", "YLJ", "地址3", lng, lat, "wgs84", "", "", ""],  # 4
        ["百度驿站", "youth", "YLJ", "地址4", blat, blng, "wgs84", "", "", ""],  # 5
        ["上海驿站", "youth", "GC", "地址5", 31.23, 121.47, "wgs84", "", "", ""],  # 6
        ["电话驿站", "youth", "YLJ", "地址6", lat, lng, "wgs84", "9999-12-31", "", ""],  # 7
        ["未知系驿站", "youth", "YLJ", "地址7", lat, lng, "utm", "", "", ""],  # 8
        ["高德驿站", "mall", "YLJ", "地址8", lat, lng, "wgs84", "", "", ""],  # 9 dup
    ]
    batch = _upload(world["district_admin"], "stations", _xlsx("stations", rows))
    errors = _errors(batch)
    assert set(errors) == {3, 4, 5, 6, 7, 8, 9}
    assert "中国境内" in errors[3][0][1] and "China" in errors[3][0][1]
    assert "填反" in errors[4][0][1]
    assert errors[5][0][0] == "crs" and "bd09" in errors[5][0][1]
    assert "房山区" in errors[6][0][1]
    assert errors[7][0][0] == "phone" and errors[8][0][0] == "crs"
    assert errors[9][0][0] == "name" and "第 2 行" in errors[9][0][1]
    _apply(world["district_admin"], batch, True)
    station = Station.objects.get(name="高德驿站")
    assert geo.distance_m(station.lat, station.lng, lat, lng) < 1  # stored as WGS-84
    assert station.is_24h and station.phone == "010-69300001"
    assert Station.objects.count() == 1


def test_merchant_import_then_reimport_is_unchanged(world):
    rows = [
        [
            "爱心餐馆",
            "餐饮",
            "YLJ",
            "良乡西路8号",
            39.748,
            116.14,
            "wgs84",
            "李经理",
            "010-69300002",
            "10:00",
            "21:00",
        ]
    ]
    batch = _upload(world["gc_admin"], "merchants", _csv("merchants", rows))
    assert batch.is_clean, batch.report
    _apply(world["gc_admin"], batch, False)
    m = Merchant.objects.get(name="爱心餐馆")
    assert m.kind == "restaurant" and m.opens.hour == 10
    again = _upload(world["gc_admin"], "merchants", _csv("merchants", rows))
    assert again.rows_unchanged == 1
    rows[0][9] = "９：３０"  # full-width digits and colon
    changed = _upload(world["gc_admin"], "merchants", _csv("merchants", rows))
    assert changed.report[0]["changes"] == ["opens"]


def test_xlsx_formulas_numbers_and_times_are_read_as_a_person_typed_them(world):
    from datetime import time

    from warmstation.areas.services import area_upsert

    area_upsert(code="110111005", name_zh="拱辰街道二", level="street", parent=world["district"])
    rows = [
        [
            "餐馆甲",
            "restaurant",
            110111005,
            "地址",
            39.75,
            116.14,
            "wgs84",
            "",
            13900000000,
            time(8, 0),
            0.875,
        ],
        ["餐馆乙", "restaurant", "YLJ", "=1+1", 39.748, 116.14, "wgs84", "", "", "8:00", "20:00"],
    ]
    batch = _upload(world["district_admin"], "merchants", _xlsx("merchants", rows))
    assert batch.report[0]["action"] == "create", batch.report[0]
    assert (
        batch.rows[0]["values"]["closes"] == "21:00" and batch.rows[0]["values"]["opens"] == "08:00"
    )
    assert _errors(batch)[3][0][0] == "address"


def test_the_header_must_name_the_required_columns(world):
    with pytest.raises(InvalidInput) as exc:
        _upload(world["district_admin"], "stations", _csv("stations", [["a"]], head=["名称"]))
    assert exc.value.code == "missing_columns" and "Latitude" in exc.value.message_en
    # English headers alone are understood
    english = ["Mobile", "Name", "Job type", "Work areas"]
    batch = _upload(
        world["district_admin"],
        "workers",
        _csv("workers", [["13800000021", "郑十一", "courier", "YLJ"]], head=english),
    )
    assert batch.is_clean


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"0" * 80_000_000)
    return buf.getvalue()


@pytest.mark.parametrize(
    "name, data, code",
    [
        ("bomb.xlsx", _zip_bomb(), "file_too_large"),
        ("rows.csv", b"mobile\n" + b"1\n" * 1_000_000, "too_many_rows"),
        ("nul.csv", b"\xef\xbb\xbfmobile,name\n138\x00,x\n", "nul_in_file"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old_excel"),
        ("broken.xlsx", b"PK\x03\x04garbage", "unreadable_file"),
        ("big.csv", b"a" * 5_000_001, "file_too_large"),
        ("empty.csv", "手机号,姓名\n".encode(), "empty_file"),
    ],
)
def test_hostile_files_get_a_clear_message(world, name, data, code):
    with pytest.raises(InvalidInput) as exc:
        _upload(world["district_admin"], "workers", SimpleUploadedFile(name, data))
    assert exc.value.code == code and exc.value.message_zh and exc.value.message_en


def test_upload_page_flow_keeps_the_report_and_the_choice(world):
    client = signed_in(world["district_admin"])
    # a refused upload keeps the chosen kind and says why, in the page's language
    page = client.post(
        "/district/data/",
        {
            "kind": "stations",
            "file": SimpleUploadedFile("x.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
        },
    )
    assert page.status_code == 422
    assert 'value="stations" selected' in page.content.decode() and ".xlsx" in page.content.decode()
    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        page = client.post(
            "/district/data/", {"kind": "workers", "file": _csv("workers", WORKER_ROWS)}
        )
    assert page.status_code == 302
    url = page["Location"]
    # before the check task has run: the page says so and reloads itself (no script needed)
    waiting = client.get(url)
    assert waiting["Refresh"] == "3" and "正在逐行检查" in waiting.content.decode()
    assert "全部导入" not in waiting.content.decode()
    for callback in queued:
        callback()
    report = client.get(url)
    assert "Refresh" not in report
    report = report.content.decode()
    assert "手机号" in report and "只导入正确的行" in report and "全部导入" not in report
    client.cookies["django_language"] = "en"
    english = client.get(url).content.decode()
    assert "Duplicate of row 2" in english and "Import only the valid rows" in english
    download = client.get(url + "?format=csv")
    assert download.content.startswith(b"\xef\xbb\xbf")
    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        done = client.post(url + "apply/", {"mode": "valid"})
    assert done.status_code == 302 and ImportBatch.objects.get().status == "importing"
    client.cookies["django_language"] = "zh-hans"
    running = client.get(url)
    assert running["Refresh"] == "3" and "已处理 0 / 2 行" in running.content.decode()
    for callback in queued:
        callback()
    result = client.get(url).content.decode()
    assert ImportBatch.objects.get().status == "imported" and "导入完成：新建 2 条" in result


def test_templates_have_both_languages_and_an_example_row(world):
    client = signed_in(world["gc_admin"])
    response = client.get("/district/data/template/", {"kind": "stations", "format": "csv"})
    text = response.content.decode("utf-8")
    assert (
        text.startswith("\ufeff")
        and "驿站名称 Station name" in text
        and "坐标系 Coordinate system" in text
    )
    assert len([line for line in text.splitlines() if line]) == 2
    response = client.get("/district/data/template/", {"kind": "workers"})
    ws = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    assert [c for c in next(ws.iter_rows(values_only=True))][0] == "手机号 Mobile"


def test_exports_are_scoped_audited_and_escape_formulas(world):
    make_station(world["ylj"], 39.748, 116.14, name='=HYPERLINK("http://evil","点我")')
    make_station(world["sz"], 39.70, 116.15, name="@SUM(1+1)")
    make_station(world["ylj"], 39.749, 116.14, name="\tTAB驿站")
    client = signed_in(world["gc_admin"])
    text = client.get(
        "/district/data/export/", {"kind": "stations", "format": "csv"}
    ).content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    names = [r[0] for r in rows[1:]]
    assert '\'=HYPERLINK("http://evil","点我")' in names and "'\tTAB驿站" in names
    assert not any("SUM" in n for n in names)  # the other street's station is not exported
    xlsx = client.get("/district/data/export/", {"kind": "stations", "format": "xlsx"})
    ws = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    cell = next(c for c in ws["A"] if c.value and "HYPERLINK" in str(c.value))
    assert cell.data_type == "s" and cell.quotePrefix
    assert AuditEvent.objects.filter(action="export", object_type="stations.station").count() == 2
    make_worker([world["ylj"]], mobile="13800000031")
    text = client.get(
        "/district/data/export/", {"kind": "workers", "format": "csv"}
    ).content.decode("utf-8")
    assert "138****0031" in text and "13800000031" not in text


def test_the_api_uploads_reports_and_imports(world):
    from warmstation.accounts.models import AuthLevel
    from warmstation.accounts.services import api_token_issue

    token = api_token_issue(user=world["gc_admin"], auth_level=AuthLevel.MFA)
    client = signed_in(world["gc_admin"])
    auth = {"Authorization": f"Bearer {token}"}
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            "/api/v1/data/imports",
            {"kind": "workers", "file": _csv("workers", WORKER_ROWS[:4])},
            headers=auth,
        )
    assert response.status_code == 202, response.content
    accepted = response.json()
    assert accepted["status"] == "checking" and response["Location"] == accepted["url"]
    assert accepted["url"] == f"/api/v1/data/imports/{accepted['id']}"
    body = client.get(accepted["url"], headers=auth).json()
    assert body["rows_invalid"] == 2 and body["status"] == "validated"
    bad = next(r for r in body["report"] if r["row"] == 4)
    assert bad["errors"][0]["column"] == "mobile" and bad["errors"][0]["message"]["en"]
    refused = client.post(
        f"/api/v1/data/imports/{body['id']}/apply",
        {"only_valid": False},
        content_type="application/json",
        headers=auth,
    )
    assert refused.status_code == 409 and refused["Content-Type"] == "application/problem+json"
    with TestCase.captureOnCommitCallbacks(execute=True):
        done = client.post(
            f"/api/v1/data/imports/{body['id']}/apply",
            {"only_valid": True},
            content_type="application/json",
            headers=auth,
        )
    assert done.status_code == 202 and done.json()["status"] == "importing"
    imported = client.get(done["Location"], headers=auth).json()
    assert imported["status"] == "imported" and imported["rows_create"] == 2
    assert imported["rows_done"] == imported["progress_of"] == 2
    hostile = client.post(
        "/api/v1/data/imports",
        {"kind": "workers", "file": SimpleUploadedFile("x.csv", b"a\x00b")},
        headers=auth,
    )
    assert hostile.status_code == 422 and hostile.json()["code"] == "nul_in_file"
    other = api_token_issue(user=world["xl_admin"], auth_level=AuthLevel.MFA)
    assert (
        client.get(
            f"/api/v1/data/imports/{body['id']}", headers={"Authorization": f"Bearer {other}"}
        ).status_code
        == 404
    )


def test_a_row_the_database_refuses_at_import_is_reported_and_left_out(world, monkeypatch):
    from django.db import IntegrityError

    from warmstation.dashboard import importing_rows

    real = importing_rows.write

    def flaky(kind, ctx, values, request):
        real(kind, ctx, values, request)
        if values["mobile"].endswith("2"):  # e.g. created meanwhile by another import
            raise IntegrityError("unique mobile")

    monkeypatch.setattr(importing_rows, "write", flaky)
    batch = _upload(world["district_admin"], "workers", _csv("workers", WORKER_ROWS[:2]))
    # Rows are written chunk by chunk: the refused row is rolled back alone (its savepoint)
    # and reported; the rows of other chunks cannot wait on it.
    batch = _apply(world["district_admin"], batch, False)
    assert batch.status == "imported"
    assert batch.rows_create == 1 and batch.rows_invalid == 1
    refused = next(r for r in batch.report if r["row"] == 3)
    assert refused["action"] == "error" and "重新上传" in refused["errors"][0]["zh"]
    assert User.objects.filter(mobile="13800000001").exists()
    assert not User.objects.filter(mobile="13800000002").exists()


def test_a_batch_left_waiting_is_discarded_with_its_rows(world):
    from datetime import timedelta

    from django.utils import timezone

    batch = _upload(world["district_admin"], "workers", _csv("workers", WORKER_ROWS[:1]))
    assert svc.import_batch_expire_due() == 0
    assert svc.import_batch_expire_due(now=timezone.now() + timedelta(days=8)) == 1
    batch.refresh_from_db()
    assert batch.status == "discarded" and batch.rows == [] and batch.report
