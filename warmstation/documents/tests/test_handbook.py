"""The service handbook of a street, from live data: every station (location, hours, contacts,
services) and every meal partner (offer, contact, phone) in the extracted text, the font
embedded, the cover dated; the A5 booklet padded to a multiple of four and imposed in
saddle-stitch order on A4; regenerated in the background when the data changes and served
from storage."""

from __future__ import annotations

import io
import subprocess
from datetime import time

import pytest
from django.test import Client
from pypdf import PdfReader

from tests.factories import make_merchant, make_offer, make_station
from warmstation.documents.handbook import imposition, padded
from warmstation.documents.models import Handbook

# tasks: again through the Redis task backend and a real worker process (tests/brokered.py)
pytestmark = [pytest.mark.django_db, pytest.mark.tasks]


@pytest.fixture
def street(tree):
    from warmstation.stations.models import ServiceItem

    weekdays = [(d, time(8), time(20)) for d in range(5)]
    for i in range(6):
        st = make_station(tree["ylj"], 39.74 + i * 0.002, 116.14 + i * 0.001,
                          name=f"拱辰第{i + 1}驿站", hours=weekdays, amenities=("charging",))
        st.phone = f"010-6930{i:04d}"
        st.address = f"拱辰街道{i + 1}号"
        st.save()
    st.services.add(ServiceItem.objects.create(code="rest", name_zh="休息"))
    make_station(tree["ylj"], 39.75, 116.15, name="全天驿站", is_24h=True)
    for i in range(5):
        m = make_merchant(tree["gc"], 39.745, 116.145 + i * 0.001, name=f"爱心餐馆{i + 1}")
        m.contact_name, m.phone = f"店长{i + 1}", f"1391111000{i}"
        m.save()
        make_offer(m, title=f"暖心套餐{i + 1}", price="12.00", normal_price="20.00")
    make_station(tree["sz"], 39.72, 116.12, name="西潞的驿站")  # another street
    return tree["gc"]


def _pdf_text(pdf: bytes, tmp_path, *args: str) -> str:
    path = tmp_path / "h.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", *args, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_the_handbook_has_every_station_and_partner_of_the_street(street, tmp_path):
    page = Client().get("/cards/GC/handbook/")
    assert page.status_code == 200 and "数据截至" in page.content.decode()
    pdf = Client().get("/cards/GC/handbook/a5.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    body = b"".join(pdf.streaming_content)
    text = _pdf_text(body, tmp_path)
    for i in range(6):
        for expected in (f"拱辰第{i + 1}驿站", f"拱辰街道{i + 1}号", f"010-6930{i:04d}"):
            assert expected in text, expected
    assert "周一、二、三、四、五 08:00–20:00" in text and "24小时开放" in text
    assert "休息" in text and "充电" in text or "charging" in text
    for i in range(5):
        for expected in (f"爱心餐馆{i + 1}", f"店长{i + 1}", f"1391111000{i}", f"暖心套餐{i + 1}"):
            assert expected in text, expected
    assert "12元（原价20元）" in text
    assert "西潞的驿站" not in text
    assert "总览图" in text and "数据截至" in text
    reader = PdfReader(io.BytesIO(body))
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (148, 210)
    path = tmp_path / "f.pdf"
    path.write_bytes(body)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)


def test_the_booklet_is_padded_and_imposed_for_double_sided_a4(street, tmp_path):
    Client().get("/cards/GC/handbook/")
    handbook = Handbook.objects.get(street=street)
    booklet = b"".join(Client().get("/cards/GC/handbook/booklet.pdf").streaming_content)
    reader = PdfReader(io.BytesIO(booklet))
    total = handbook.pages + (-handbook.pages % 4)
    assert len(reader.pages) == total // 2  # two A5 pages a side
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (297, 210)
    # side 1 carries the last page (left) and the cover (right)
    first = _pdf_text(booklet, tmp_path, "-f", "1", "-l", "1")
    assert "新就业群体服务手册" in first and "拱辰街道" in first


def test_saddle_stitch_order():
    assert imposition(8) == [(8, 1), (2, 7), (6, 3), (4, 5)]
    assert len(padded([[]] * 5)) == 8 and len(padded([[]] * 8)) == 8
    for n in (4, 8, 12, 16):
        pages = sorted(p for side in imposition(n) for p in side)
        assert pages == list(range(1, n + 1))


def test_a_change_regenerates_the_handbook_in_the_background(street, tmp_path,
                                                               django_capture_on_commit_callbacks):
    from warmstation.stations.models import Station

    Client().get("/cards/GC/handbook/")
    before = Handbook.objects.get(street=street)
    station = Station.objects.get(name="拱辰第1驿站")
    with django_capture_on_commit_callbacks(execute=True):
        station.name = "拱辰改名驿站"
        station.save()
    after = Handbook.objects.get(street=street)
    assert after.stale_since is None and after.generated_at > before.generated_at
    text = _pdf_text(b"".join(Client().get("/cards/GC/handbook/a5.pdf").streaming_content),
                     tmp_path)
    assert "拱辰改名驿站" in text and "拱辰第1驿站" not in text


def test_only_a_street_has_a_handbook(street):
    assert Client().get("/cards/YLJ/handbook/").status_code == 404
    assert Client().get("/cards/NOPE/handbook/a5.pdf").status_code == 404
