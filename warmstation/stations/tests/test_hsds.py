"""The HSDS 3.0 read API publishes active stations as services at locations with schedules."""

from datetime import time

import pytest
from django.test import Client

from tests.factories import make_station

PAGE_KEYS = {"total_items", "total_pages", "page_number", "size", "first_page", "last_page",
             "empty", "contents"}


@pytest.fixture
def stations(tree):
    day = make_station(tree["gc"], 39.73, 116.13, name="日间驿站",
                       hours=[(0, time(9), time(21)), (5, time(18), time(2))],
                       amenities=["charging"])
    day.operator = "团区委"
    day.save()
    always = make_station(tree["ylj"], 39.75, 116.14, name="全天驿站", is_24h=True)
    hidden = make_station(tree["ylj"], 39.75, 116.15, name="停用驿站")
    hidden.is_active = False
    hidden.save()
    return day, always


def test_root_describes_the_api(db):
    body = Client().get("/hsds/").json()
    assert body["version"] == "3.0" and body["openapi_url"].endswith("/hsds/openapi.json")
    assert Client().get("/hsds/openapi.json").status_code == 200


def test_services_page(stations):
    body = Client().get("/hsds/services", {"per_page": 1}).json()
    assert set(body) == PAGE_KEYS
    assert body["total_items"] == 2 and body["total_pages"] == 2 and body["size"] == 1
    assert body["first_page"] and not body["last_page"] and not body["empty"]
    second = Client().get("/hsds/services", {"per_page": 1, "page": 2}).json()
    names = {body["contents"][0]["name"], second["contents"][0]["name"]}
    assert names == {"日间驿站", "全天驿站"}  # the inactive one is not published
    assert Client().get("/hsds/services", {"search": "全天"}).json()["total_items"] == 1


def test_fully_nested_service_with_location_and_schedules(stations):
    day, _ = stations
    body = Client().get(f"/hsds/services/{day.public_id}").json()
    assert body["id"] == str(day.public_id) and body["status"] == "active"
    assert body["organization"]["name"] == "团区委"
    assert body["organization_id"] == body["organization"]["id"]
    sal = body["service_at_locations"][0]
    assert sal["location"]["latitude"] == pytest.approx(39.73)
    assert sal["location"]["addresses"][0]["country"] == "CN"
    schedules = {(s["byday"], s["opens_at"], s["closes_at"]) for s in sal["schedules"]}
    assert schedules == {("MO", "09:00", "21:00"), ("SA", "18:00", "02:00")}
    assert all(s["freq"] == "WEEKLY" for s in sal["schedules"])
    assert body["url"].endswith(f"/stations/{day.pk}/")


def test_24_hour_schedule_and_ids_are_stable(stations):
    _, always = stations
    first = Client().get(f"/hsds/services/{always.public_id}").json()
    again = Client().get(f"/hsds/services/{always.public_id}").json()
    assert first["service_at_locations"][0]["id"] == again["service_at_locations"][0]["id"]
    (schedule,) = first["service_at_locations"][0]["schedules"]
    assert schedule["byday"] == "MO,TU,WE,TH,FR,SA,SU"


def test_organizations_and_service_at_locations(stations):
    orgs = Client().get("/hsds/organizations").json()
    assert {o["name"] for o in orgs["contents"]} == {"团区委", "房山区委改革办"}
    tuanwei = next(o for o in orgs["contents"] if o["name"] == "团区委")
    body = Client().get("/hsds/service_at_locations", {"organization_id": tuanwei["id"]}).json()
    assert body["total_items"] == 1
    assert body["contents"][0]["location"]["name"] == "日间驿站"


@pytest.mark.parametrize("path", ["/hsds/services/not-a-uuid",
                                  "/hsds/services/00000000-0000-0000-0000-000000000000"])
def test_unknown_service_is_problem_404(stations, path):
    response = Client().get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_inactive_station_is_not_found(tree):
    station = make_station(tree["gc"], 39.7, 116.1)
    station.is_active = False
    station.save()
    assert Client().get(f"/hsds/services/{station.public_id}").status_code == 404


@pytest.mark.parametrize("path", ["/hsds/services", "/hsds/service_at_locations"])
def test_modified_after_with_any_offset_python_accepts_is_answered(stations, path):
    """PostgreSQL refuses offsets beyond ±15:59 (Python takes up to ±23:59): found by the
    contract test on PostgreSQL as a 500."""
    client = Client()
    old = client.get(path, {"modified_after": "2000-01-01T00:00:00-16:06"})
    assert old.status_code == 200 and old.json()["total_items"] == len(stations)
    # Outside the window every date of the API keeps (2000..2100, core/schemas.Moment): 422.
    for far in ("4988-07-24T22:51:54-16:06", "0001-01-01T00:00:00+08:00"):
        refused = client.get(path, {"modified_after": far})
        assert refused.status_code == 422 and refused.json()["code"] == "invalid_date"
