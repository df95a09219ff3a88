"""The street geocoder behind Open311's address_string: a station's address or name, else the
deepest area named (Chinese or English, full-width and spacing normalised); an address that
names nothing of ours is a 400 in the specification's error format, in JSON and in XML."""

from __future__ import annotations

from xml.etree import ElementTree as ET  # noqa: N817

import pytest
from django.test import Client

from tests.factories import make_station
from warmstation.areas.models import Area
from warmstation.reports import services
from warmstation.reports.geocoder import geocode, normalise
from warmstation.reports.models import Problem
from warmstation.reports.tests.factories import SZ, YLJ

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(w):
    _client, secret = services.open311_client_issue(
        actor=w["district"], name="海淀随手拍", areas=[w["gc"], w["xl"]]
    )
    return secret


@pytest.fixture
def station(w):
    Area.objects.filter(code="GC").update(name_en="Gongchen Subdistrict")
    st = make_station(w["ylj"], 39.7511, 116.1433, name="伊林郡暖心驿站")
    st.address = "北京市房山区拱辰街道行宫西街1号院"
    st.save()
    return st


def _post(fmt: str, key: str, address: str):
    return Client().post(
        f"/open311/v2/requests.{fmt}",
        {"api_key": key, "service_code": "exposed_garbage", "address_string": address},
    )


def test_normalising_full_width_and_spacing():
    assert normalise("拱辰街道　伊林郡 社区") == "拱辰街道伊林郡社区"
    assert normalise("行宫西街１号院（东门）") == "行宫西街1号院东门"
    assert normalise(" Gongchen  Subdistrict ") == "gongchensubdistrict"


def test_places_by_station_address_area_name_and_english(w, station):
    at_station = geocode("房山区 拱辰街道行宫西街１号院 东门口")
    assert at_station.kind == "station" and (at_station.lat, at_station.lng) == (39.7511, 116.1433)
    assert at_station.area.code == "YLJ"
    assert geocode("伊林郡暖心驿站门口").kind == "station"
    community = geocode("北京市房山区拱辰街道　伊林郡 社区南门")
    assert (community.kind, community.area.code) == ("area", "YLJ")
    assert (community.lat, community.lng) == YLJ
    short = geocode("苏庄三里 北口")  # without 社区
    assert short.area.code == "SZ" and (short.lat, short.lng) == SZ
    english = geocode("near Gongchen Subdistrict office")
    assert english.area.code == "GC"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_address_string_files_a_request_at_the_place(w, key, station, fmt):
    response = _post(fmt, key, "拱辰街道　行宫西街１号院")
    assert response.status_code == 201, response.content
    problem = Problem.objects.get()
    assert (problem.lat, problem.lng, problem.area.code) == (39.7511, 116.1433, "YLJ")
    assert problem.address == "拱辰街道　行宫西街１号院"  # kept as sent


@pytest.mark.parametrize("address", ["上海市黄浦区南京东路1号", "房山区", "，，"])
def test_an_unknown_address_is_a_400_in_both_formats(w, key, station, address):
    data = _post("json", key, address)
    assert data.status_code == 400
    [error] = data.json()
    assert error["code"] == 400 and error["description"].startswith("address_string: ")
    assert "lat and long" in error["description"]
    xml = _post("xml", key, address)
    assert xml.status_code == 400 and xml["Content-Type"].startswith("text/xml")
    root = ET.fromstring(xml.content)
    assert root.tag == "errors" and root.find("error/code").text == "400"
    assert "address_string" in root.find("error/description").text
    assert not Problem.objects.exists()
