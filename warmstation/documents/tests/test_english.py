"""Printed matter in English: when the request's language is English, the card (PDF, A4 sheet)
and the handbook (A5, booklet) carry English labels; what stays Chinese is only the names and
addresses of places and people, as stored (extracted from the PDFs with pdftotext)."""

from __future__ import annotations

import re
import subprocess
from datetime import time

import pytest
from django.test import Client

from tests.factories import make_merchant, make_offer, make_station
from warmstation.areas.models import Area, AreaContact

pytestmark = pytest.mark.django_db
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+")


@pytest.fixture
def street(tree):
    from warmstation.stations.models import ServiceItem

    ylj = tree["ylj"]
    ylj.center_lat, ylj.center_lng = 39.748, 116.140
    ylj.save()
    AreaContact.objects.create(
        area=tree["gc"], kind="steward", name="服务管家王芳", phone="13911112222"
    )
    weekdays = [(d, time(8), time(20)) for d in range(5)]
    st = make_station(
        ylj, 39.7482, 116.1401, name="伊林郡暖心驿站", hours=weekdays, amenities=("charging",)
    )
    st.address = "拱辰街道行宫西街1号院"
    st.save()
    st.services.add(ServiceItem.objects.create(code="rest", name_zh="休息", name_en="A rest"))
    make_station(ylj, 39.7490, 116.1410, name="全天驿站", is_24h=True)
    m = make_merchant(tree["gc"], 39.745, 116.145, name="爱心餐馆")
    m.contact_name, m.phone = "店长李", "13911110000"
    m.save()
    make_offer(m, title="暖心套餐", price="12.00", normal_price="20.00")
    return tree["gc"]


def _names() -> list[str]:
    """Names and addresses of places and people, and offers' titles, as stored."""
    from warmstation.benefits.models import Merchant, Offer
    from warmstation.stations.models import Station

    values: set[str] = set()
    for model, fields in (
        (Area, ["name_zh"]),
        (AreaContact, ["name", "address", "hours"]),
        (Station, ["name", "address"]),
        (Merchant, ["name", "address", "contact_name"]),
        (Offer, ["title"]),
    ):
        for row in model.objects.values_list(*fields):
            values.update(v for v in row if v)
    return sorted(values, key=len, reverse=True)


def _chinese_left(pdf: bytes, tmp_path) -> tuple[str, list[str]]:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    rest = text
    for value in _names():
        rest = rest.replace(value, " ")
    return text, sorted(set(CJK.findall(rest)))


def _get(url: str) -> bytes:
    client = Client()
    client.cookies["django_language"] = "en"
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200, url
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_card_in_english_has_english_labels_and_chinese_names(street, tmp_path):
    for url in ("/cards/YLJ/card.pdf", "/cards/YLJ/sheet.pdf"):
        text, left = _chinese_left(_get(url), tmp_path)
        assert not left, (url, left)
        assert "Service card" in text and "Nearby stations" in text, url
        assert "伊林郡暖心驿站" in text and "服务管家王芳" in text  # names as stored
    zh = Client().get("/cards/YLJ/card.pdf").content
    text, left = _chinese_left(zh, tmp_path)
    assert "暖心卡" in text and "附近驿站" in text  # Chinese stays the default


def test_the_handbook_in_english_beside_the_chinese_edition(street, tmp_path):
    text, left = _chinese_left(_get("/cards/GC/handbook/a5.pdf"), tmp_path)
    assert not left, left
    for label in (
        "Overview map",
        "Opening hours",
        "Mon, Tue, Wed, Thu, Fri 08:00–20:00",
        "Open 24 hours",
        "A rest",
        "¥12 (usually ¥20)",
        "Discount-meal partners (1)",
    ):
        assert label in text, label
    assert "拱辰街道行宫西街1号院" in text and "店长李" in text and "暖心套餐" in text
    booklet, left = _chinese_left(_get("/cards/GC/handbook/booklet.pdf"), tmp_path)
    assert not left and "Overview map" in booklet
    zh = b"".join(Client().get("/cards/GC/handbook/a5.pdf").streaming_content)
    text, _left = _chinese_left(zh, tmp_path)
    assert "总览图" in text and "Overview map" not in text
