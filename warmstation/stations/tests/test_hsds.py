"""The HSDS 3.0 read API publishes active stations as services at locations with schedules,
classified by taxonomies; its filters are cumulative. (Validity against the official schemas:
tests/test_hsds_schemas.py.)"""

from datetime import time

import pytest
from django.test import Client

from tests.factories import make_station
from warmstation.stations.models import Amenity, Station

PAGE_KEYS = {"total_items", "total_pages", "page_number", "size", "first_page", "last_page",
             "empty", "contents"}


@pytest.fixture
def stations(tree):
    day = make_station(tree["gc"], 39.73, 116.13, name="日间驿站",
                       hours=[(0, time(9), time(21)), (5, time(18), time(2))],
                       amenities=["charging"])
    day.operator = "团区委"
    day.description = "提供热水和微波炉"
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
    assert schedules == {("MO", "09:00+08:00", "21:00+08:00"),
                         ("SA", "18:00+08:00", "02:00+08:00")}
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


def _terms(client, **query):
    return client.get("/hsds/taxonomy_terms", {"per_page": 200, **query}).json()["contents"]


def _total(path, **query):
    body = Client().get(path, query)
    assert body.status_code == 200, body.content
    return body.json()["total_items"]


def test_attributes_resolve_to_published_taxonomy_terms(stations):
    day, always = stations
    client = Client()
    body = client.get(f"/hsds/services/{day.public_id}").json()
    kinds = {a["link_type"] for a in body["attributes"]}
    assert kinds == {"amenity", "station_kind"}  # no service items linked in this test
    for attribute in body["attributes"]:
        assert attribute["link_id"] == body["id"] and attribute["link_entity"] == "service"
        found = client.get(f"/hsds/taxonomy_terms/{attribute['taxonomy_term_id']}")
        assert found.status_code == 200
        t = found.json()
        assert t == attribute["taxonomy_term"]
        assert client.get(f"/hsds/taxonomies/{t['taxonomy_id']}").json() == t["taxonomy_detail"]
    taxonomies = client.get("/hsds/taxonomies").json()
    assert taxonomies["total_items"] == 3
    names = {t["name"] for t in taxonomies["contents"]}
    assert names == {"驿站设施 Station amenities", "服务项目 Service items",
                     "驿站类型 Station kinds"}
    kind_terms = {t["code"] for t in _terms(client) if t["taxonomy_id"] == next(
        x["id"] for x in taxonomies["contents"] if x["name"].endswith("Station kinds"))}
    assert kind_terms == set(Station.Kind.values)


def test_taxonomy_filters_are_cumulative_on_both_lists(stations):
    day, always = stations
    client = Client()
    charging = next(t for t in _terms(client, search="charging"))
    youth = next(t for t in _terms(client) if t["code"] == "youth")
    union = next(t for t in _terms(client) if t["code"] == "union_24h")
    orgs = {o["name"]: o["id"] for o in client.get("/hsds/organizations").json()["contents"]}
    for path in ("/hsds/services", "/hsds/service_at_locations"):
        assert _total(path, taxonomy_term_id=charging["id"]) == 1
        assert _total(path, taxonomy_term_id=youth["id"]) == 2  # both are youth stations
        assert _total(path, taxonomy_term_id=union["id"]) == 0
        assert _total(path, taxonomy_id=charging["taxonomy_id"]) == 1  # only day has amenities
        assert _total(path, taxonomy_id=youth["taxonomy_id"]) == 2
        # Unknown ids select nothing (a filter is never ignored)
        assert _total(path, taxonomy_term_id="00000000-0000-0000-0000-000000000000") == 0
        assert _total(path, taxonomy_term_id="nonsense") == 0
        assert _total(path, taxonomy_id="nonsense") == 0
        assert _total(path, organization_id="nonsense") == 0
        # Cumulative: every filter must hold
        assert _total(path, taxonomy_term_id=youth["id"], organization_id=orgs["团区委"]) == 1
        assert _total(path, taxonomy_term_id=charging["id"],
                      organization_id=orgs["房山区委改革办"]) == 0
        assert _total(path, taxonomy_term_id=youth["id"], search="全天") == 1
    found = client.get("/hsds/services", {"taxonomy_term_id": charging["id"]}).json()
    assert [s["id"] for s in found["contents"]] == [str(day.public_id)]


def test_taxonomy_terms_list_filters(stations):
    client = Client()
    everything = client.get("/hsds/taxonomy_terms", {"per_page": 200}).json()
    amenities = next(t for t in client.get("/hsds/taxonomies").json()["contents"]
                     if t["name"].endswith("amenities"))
    only = _terms(client, taxonomy_id=amenities["id"])
    assert only and all(t["taxonomy_id"] == amenities["id"] for t in only)
    assert len(only) < everything["total_items"]
    assert _terms(client, taxonomy_id="nonsense") == []
    assert _terms(client, parent_id=only[0]["id"]) == []  # ours are all top-level
    assert len(_terms(client, top_only="true")) == everything["total_items"]
    assert {t["code"] for t in _terms(client, search="驿站")} >= {"party_mass", "mall"}
    assert client.get("/hsds/taxonomy_terms/nonsense").status_code == 404
    assert client.get("/hsds/taxonomies/nonsense").status_code == 404


def test_single_organization_and_service_at_location(stations):
    day, always = stations
    client = Client()
    orgs = client.get("/hsds/organizations").json()["contents"]
    tuanwei = next(o for o in orgs if o["name"] == "团区委")
    body = client.get(f"/hsds/organizations/{tuanwei['id']}").json()
    assert body["name"] == "团区委"
    assert [loc["name"] for loc in body["locations"]] == ["日间驿站"]
    assert body["services"] == [{"id": str(day.public_id), "name": "日间驿站",
                                 "status": "active"}]
    nested = client.get(f"/hsds/organizations/{tuanwei['id']}", {"full_service": "true"}).json()
    assert nested["services"][0]["service_at_locations"][0]["schedules"]
    sal = client.get("/hsds/services/" + str(always.public_id)).json()["service_at_locations"][0]
    single = client.get(f"/hsds/service_at_locations/{sal['id']}").json()
    assert single["id"] == sal["id"] and single["service_id"] == str(always.public_id)
    assert single["location"]["addresses"][0]["address_1"] == "测试地址"
    assert single["schedules"][0]["opens_at"] == "00:00+08:00"
    for path in ("/hsds/organizations/nonsense", "/hsds/service_at_locations/nonsense",
                 f"/hsds/service_at_locations/{always.public_id}"):
        missing = client.get(path)
        assert missing.status_code == 404 and \
            missing["Content-Type"] == "application/problem+json"


def test_search_covers_names_descriptions_and_addresses(stations):
    day, always = stations
    always.address = "良乡镇西关大街8号"
    always.save()
    always.amenities.add(Amenity.objects.create(code="toilet", name_zh="卫生间",
                                                name_en="Toilet"))
    for path in ("/hsds/services", "/hsds/service_at_locations"):
        assert _total(path, search="微波炉") == 1  # the day station's own description
        assert _total(path, search="卫生间") == 1  # an amenity, in the generated description
        assert _total(path, search="toilet") == 1  # … in English too
        assert _total(path, search="西关大街") == 1  # an address
        assert _total(path, search="骑手") == 1  # the generated description's text
        assert _total(path, search="小哥加油站") == 2  # the kind's name
        assert _total(path, search="没有这个词") == 0


@pytest.mark.parametrize("path", ["/hsds/services", "/hsds/service_at_locations"])
@pytest.mark.parametrize("value", ["0.5", "1700000000", "2026-01-01", "2026-01-01 08:00",
                                   "yesterday", "2026-13-01T00:00:00Z"])
def test_modified_after_takes_only_iso_8601_date_times(db, path, value):
    response = Client().get(path, {"modified_after": value})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] in ("invalid_datetime", "datetime_from_date_parsing", "invalid_input")
    assert "modified_after" in problem["detail"]["zh"] and "modified_after" in \
        problem["detail"]["en"]


@pytest.mark.parametrize("value", ["2026-01-01T08:00:00+08:00", "2026-01-01T00:00Z",
                                   "2026-01-01T08:00:00.123456+0800", "2026-01-01T08:00",
                                   "2026-01-01T08:00:00 08:00"])  # "+" unescaped in a URL
def test_modified_after_iso_8601_forms_are_read(stations, value):
    assert _total("/hsds/services", modified_after=value) == 2


def test_single_records_take_a_fixed_number_of_queries(tree, django_assert_max_num_queries):
    """No query per station, schedule, amenity or contact (prefetched)."""
    for i in range(6):
        s = make_station(tree["gc"], 39.7 + i / 100, 116.1, is_24h=i % 2 == 0,
                         hours=[(d, time(8), time(20)) for d in range(7)],
                         amenities=["charging", "water"])
        s.operator = "区总工会"
        s.save()
    client = Client()
    org = next(o for o in client.get("/hsds/organizations").json()["contents"]
               if o["name"] == "区总工会")
    sal = client.get("/hsds/service_at_locations").json()["contents"][0]["id"]
    service = client.get("/hsds/services").json()["contents"][0]["id"]
    for url in (f"/hsds/organizations/{org['id']}?full_service=true",
                f"/hsds/organizations/{org['id']}", f"/hsds/service_at_locations/{sal}",
                f"/hsds/services/{service}", "/hsds/organizations?full=true&full_service=true"):
        with django_assert_max_num_queries(8):
            assert client.get(url).status_code == 200
