"""Service cards from live data: the text of the PDF (extracted with pdftotext) is the area's
contact lines and nearest stations, Chinese included; the font is embedded (pdffonts); the QR
code on the PDF and on the PNG decodes (zxing-cpp) to the area's live page; the A4 sheet holds
ten cards with crop marks on two pages; a changed contact is on the next download."""

from __future__ import annotations

import io
import subprocess

import pytest
import zxingcpp
from django.test import Client
from PIL import Image
from pypdf import PdfReader

from tests.factories import make_station, make_worker, signed_in
from warmstation.accounts.models import AuthLevel
from warmstation.areas.models import AreaContact

pytestmark = pytest.mark.django_db


@pytest.fixture
def area(tree, settings):
    settings.PUBLIC_BASE_URL = "https://warm.example.org"
    ylj = tree["ylj"]
    ylj.center_lat, ylj.center_lng = 39.748, 116.140
    ylj.save()
    AreaContact.objects.create(area=tree["gc"], kind="steward", name="服务管家王芳",
                               phone="13911112222")
    AreaContact.objects.create(area=tree["gc"], kind="service_centre",
                               name="拱辰街道党群服务中心", phone="010-69300100")
    make_station(ylj, 39.7482, 116.1401, name="伊林郡暖心驿站", is_24h=True)
    make_station(ylj, 39.7600, 116.1500, name="远一点的驿站")
    return ylj


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def _fonts(pdf: bytes, tmp_path) -> list[str]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return out.splitlines()[2:]


def _qr_codes(pdf: bytes, tmp_path, page: int = 1) -> list[str]:
    path = tmp_path / "qr.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "300", "-f", str(page), "-l", str(page),
                    "-singlefile", str(path), str(tmp_path / "qr")], check=True)
    return [r.text for r in zxingcpp.read_barcodes(Image.open(tmp_path / "qr.png"))
            if r.format == zxingcpp.BarcodeFormat.QRCode]


def test_the_card_pdf_says_what_the_area_has(area, tmp_path):
    response = Client().get("/cards/YLJ/card.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.content
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2  # front and back
    box = reader.pages[0].mediabox
    assert round(float(box.width) / 72 * 25.4) == 90 and round(float(box.height) / 72 * 25.4) == 54
    text = _text(pdf, tmp_path)
    for expected in ("拱辰街道 · 伊林郡社区", "拱辰小哥专属热线", "010-69300001", "拱辰派出所",
                     "010-69300010", "伊林郡社区居委会", "010-69310001", "服务管家王芳",
                     "13911112222", "拱辰街道党群服务中心", "伊林郡暖心驿站", "24小时"):
        assert expected in text, expected
    fonts = _fonts(pdf, tmp_path)
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # every font embedded
    assert _qr_codes(pdf, tmp_path) == ["https://warm.example.org/cards/YLJ/"]


def test_the_card_follows_the_live_data(area, tmp_path):
    AreaContact.objects.filter(name="拱辰派出所").update(phone="010-69399999")
    text = _text(Client().get("/cards/YLJ/card.pdf").content, tmp_path)
    assert "010-69399999" in text and "010-69300010" not in text


def test_the_png_for_chat_is_the_same_card_and_its_qr_decodes(area):
    response = Client().get("/cards/YLJ/card.png")
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.width >= 1000  # sharp enough to read on a phone
    codes = [r.text for r in zxingcpp.read_barcodes(image)]
    assert codes == ["https://warm.example.org/cards/YLJ/"]


def test_the_a4_sheet_has_ten_cards_with_crop_marks(area, tmp_path):
    pdf = Client().get("/cards/YLJ/sheet.pdf").content
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2
    box = reader.pages[0].mediabox
    assert round(float(box.width) / 72 * 25.4) == 210 and round(float(box.height) / 72 * 25.4) == 297
    text = _text(pdf, tmp_path)
    assert text.count("拱辰小哥专属热线") == 10
    assert len(_qr_codes(pdf, tmp_path)) == 10
    # the crop marks are strokes outside the cards' area (drawn as lines: " l" operators)
    content = reader.pages[0].get_contents().get_data().decode("latin-1")
    assert content.count(" l\n") + content.count(" l S") >= 2 * (2 + 1) + 2 * (5 + 1)


def test_the_card_page_is_public_and_a_worker_has_a_way_to_it(area):
    page = Client().get("/cards/YLJ/")
    html = page.content.decode()
    assert page.status_code == 200 and "拱辰小哥专属热线" in html and "card.pdf" in html
    assert Client().get("/cards/NOPE/").status_code == 404
    worker = make_worker([area])
    response = signed_in(worker, AuthLevel.CODE).get("/cards/mine/")
    assert response.status_code == 302 and response["Location"] == "/cards/YLJ/"
