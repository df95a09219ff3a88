"""四个一 activities (people reached, a care delivery taking goods from a station's cabinet,
points for participants) and the volunteer-service record: its PDF's text and QR code, the public
verification page (masked name only), revocation, the platform-record statement."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
import zxingcpp
from django.test import Client
from django.utils import timezone
from PIL import Image

from tests.factories import as_level, make_station, make_worker, signed_in
from warmstation.accounts.models import AuthLevel
from warmstation.core.errors import Conflict
from warmstation.points.models import LedgerTransaction
from warmstation.points.tests.factories import make_rule
from warmstation.stations.models import Stock
from warmstation.volunteering import activities, records, services
from warmstation.volunteering.models import Activity, Issuer
from warmstation.volunteering.tests.factories import make_organiser, make_shift, make_task


@pytest.fixture
def w(tree):
    make_rule("four_ones_activity", 15, source="civic")
    make_rule("volunteer_shift", 20)
    organiser = make_organiser(tree["gc"])
    station = make_station(tree["ylj"], 39.72, 116.11, stock={"water": 10, "mask": 5})
    worker = as_level(make_worker([tree["ylj"]]), AuthLevel.CODE)
    worker.real_name = "张明远"
    worker.save(update_fields=["real_name"])
    worker.worker_profile.id_number = "110111199001011234"
    worker.worker_profile.save()
    return {**tree, "organiser": organiser, "station": station, "worker": worker}


def test_a_care_delivery_takes_its_goods_from_the_cabinet_and_pays_participants(w):
    c = signed_in(w["organiser"], AuthLevel.PASSWORD)
    r = c.post("/volunteer/activities/", {
        "area": "YLJ", "kind": "care_delivery", "title": "夏日送清凉",
        "held_on": timezone.localdate().isoformat(), "people_reached": "120",
        "station": str(w["station"].pk), "qty_water": "6", "qty_mask": "",
        "participants": w["worker"].mobile})
    assert r.status_code == 302, r.content[:600]
    a = Activity.objects.get(title="夏日送清凉")
    assert a.people_reached == 120 and a.goods == [{"item": "water", "quantity": 6}]
    assert Stock.objects.get(station=w["station"], item__code="water").quantity == 4
    assert LedgerTransaction.objects.filter(user=w["worker"], action="four_ones_activity",
                                            points=15).count() == 1
    # more than on the shelf: the whole record is refused, nothing taken
    r = c.post("/volunteer/activities/", {
        "area": "YLJ", "kind": "care_delivery", "title": "再送一次",
        "held_on": timezone.localdate().isoformat(), "people_reached": "10",
        "station": str(w["station"].pk), "qty_water": "5"})
    assert r.status_code == 409 and "再送一次" in r.content.decode()
    assert not Activity.objects.filter(title="再送一次").exists()
    assert Stock.objects.get(station=w["station"], item__code="water").quantity == 4
    page = c.get("/volunteer/activities/").content.decode()
    assert "120" in page and "夏日送清凉" in page


def test_a_visit_counts_people_reached_into_the_figures(w):
    from warmstation.volunteering.permissions import activity_list
    from warmstation.volunteering.selectors import four_ones_figures

    for kind, n in (("visit", 30), ("initiative", 200), ("shared_service", 300)):
        activities.activity_record(actor=w["organiser"], area=w["ylj"], kind=kind,
                                   title=f"活动{kind}", held_on=timezone.localdate(),
                                   people_reached=n)
    figures = {f["kind"]: f for f in four_ones_figures(activities=activity_list(w["organiser"]))}
    assert figures["shared_service"]["reached"] == 300 and figures["care_delivery"]["reached"] == 0
    assert sum(f["reached"] for f in figures.values()) == 530


def _confirmed_hours(w, minutes=90):
    task = make_task(w["ylj"], organiser=w["organiser"], title="社区检查岗值守")
    start = timezone.now() - timedelta(hours=5)
    shift = make_shift(task, starts_at=start, hours=3)
    s = services.shift_signup(worker=w["worker"], shift_id=shift.pk,
                              now=start - timedelta(days=1))
    services.attendance_mark(actor=w["organiser"], signup=s, action="check_in", now=start)
    services.attendance_mark(actor=w["organiser"], signup=s, action="check_out",
                             now=start + timedelta(minutes=minutes))
    services.attendance_confirm(actor=w["organiser"], signup=s)


def _pdf_text_and_qr(data: bytes, tmp_path) -> tuple[str, list[str]]:
    path = tmp_path / "record.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", str(path),
                    str(tmp_path / "record")], check=True)
    codes = [r.text for r in zxingcpp.read_barcodes(Image.open(tmp_path / "record.png"))]
    return text, codes


def test_the_record_pdf_holds_the_67_fields_and_its_qr_opens_the_verification(w, tmp_path):
    c = signed_in(w["worker"], AuthLevel.CODE)
    r = c.post("/volunteer/records/")
    assert r.status_code == 409  # nothing confirmed yet
    _confirmed_hours(w)
    assert c.post("/volunteer/records/").status_code == 302
    record = w["worker"].volunteer_records.get()
    pdf = c.get(f"/volunteer/records/{record.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    text, codes = _pdf_text_and_qr(pdf.content, tmp_path)
    flat = text.replace(" ", "")
    number = w["worker"].volunteer_profile.number
    for expected in ("张明远", "居民身份证", "110111********1234", number, "1.5小时",
                     record.number, "社区检查岗值守", "出具单位", "负责人", "经办人", "联系方式",
                     "出具日期", "不是志愿服务记录证明"):
        assert expected.replace(" ", "") in flat, expected
    assert "199001011234" not in flat
    assert len(codes) == 1 and codes[0].endswith(f"/volunteer/verify/{record.number}/")
    # the public page: masked name and hours, nothing else about the person
    page = Client().get(codes[0].split("testserver", 1)[1]).content.decode()
    assert "张**" in page and "1.5" in page and "真实有效" in page
    for secret in ("张明远", "110111", w["worker"].mobile, number):
        assert secret not in page, secret
    assert "不是志愿服务记录证明" in page
    # revoked: the page says so
    assert c.post(f"/volunteer/records/{record.pk}/revoke/", {"reason": "信息有误"}).status_code == 302
    page = Client().get(f"/volunteer/verify/{record.number}/").content.decode()
    assert "撤销，不再有效" in page and "真实有效" not in page
    with pytest.raises(Conflict):
        records.record_revoke(actor=w["worker"], record=record, reason="再撤一次")
    assert Client().get("/volunteer/verify/NOPE123/").status_code == 404


def test_a_qualified_issuer_certifies_without_the_platform_statement(w, tmp_path):
    Issuer.objects.create(area=w["gc"], name="拱辰街道志愿服务协会", responsible_person="刘会长",
                          clerk="陈干事", contact="010-69300001", qualified=True)
    _confirmed_hours(w, minutes=120)
    record = records.record_issue(worker=w["worker"])
    text, _codes = _pdf_text_and_qr(records.record_pdf(
        record, verify_url=f"https://ws.example/volunteer/verify/{record.number}/"), tmp_path)
    flat = text.replace(" ", "")
    assert "志愿服务记录证明" in flat and "拱辰街道志愿服务协会" in flat and "刘会长" in flat
    assert "不是志愿服务记录证明" not in flat and "2.0小时" in flat
    # someone else's record is not theirs to download
    other = signed_in(as_level(make_worker([w["ylj"]]), AuthLevel.CODE), AuthLevel.CODE)
    assert other.get(f"/volunteer/records/{record.pk}/pdf/").status_code == 404
