"""The nearby search: equal to a brute-force ranking on random data, index-backed, in every
coordinate system, with open_now and amenity filters."""

import random
from datetime import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import make_station
from warmstation.core import geo
from warmstation.stations.models import Station
from warmstation.stations.selectors import station_nearby

CENTRE = (39.7476, 116.1370)


@pytest.fixture
def random_stations(tree):
    rng = random.Random(7)
    for i in range(150):
        # Mostly near the centre, some far out, some exactly on cell edges.
        if i % 10 == 0:
            lat, lng = round(39.74 + 0.02 * rng.randint(-3, 3), 2), round(116.14, 2)
        else:
            lat = CENTRE[0] + rng.uniform(-0.12, 0.12)
            lng = CENTRE[1] + rng.uniform(-0.15, 0.15)
        make_station(tree["gc"], lat, lng, is_24h=(i % 3 == 0),
                     amenities=["charging"] if i % 2 else [])
    return Station.objects.all()


def brute_force(lat, lng, radius_m, limit, amenity=None):
    qs = Station.objects.order_by("pk")  # ties in distance: the selector orders them by id
    if amenity:
        qs = qs.filter(amenities__code=amenity)
    points = [(s.pk, s.lat, s.lng) for s in qs]
    return [pk for _d, pk in geo.nearest(points, lat, lng, radius_m)][:limit]


@pytest.mark.parametrize("seed", range(8))
def test_nearby_equals_brute_force(random_stations, seed):
    rng = random.Random(seed)
    lat = CENTRE[0] + rng.uniform(-0.1, 0.1)
    lng = CENTRE[1] + rng.uniform(-0.1, 0.1)
    radius = rng.choice([300, 1500, 5000, 12000, 40000])
    limit = rng.choice([1, 5, 20, 100])
    amenity = rng.choice([None, "charging"])
    got = station_nearby(lat=lat, lng=lng, radius_m=radius, limit=limit,
                         amenities=[amenity] if amenity else [])
    assert [r["station"].pk for r in got] == brute_force(lat, lng, radius, limit, amenity)
    distances = [r["distance_m"] for r in got]
    assert distances == sorted(distances)


def test_nearby_uses_the_cell_index_not_a_scan(random_stations):
    with CaptureQueriesContext(connection) as ctx:
        station_nearby(lat=CENTRE[0], lng=CENTRE[1], radius_m=2000, limit=10)
    first = ctx.captured_queries[0]["sql"]
    assert "cell_s IN" in first or "cell_l IN" in first
    # Candidates, then the chosen stations with hours, exceptions and amenities: no N+1.
    assert len(ctx.captured_queries) <= 5


def test_open_now_filter(tree):
    closed = make_station(tree["gc"], 39.7476, 116.1371, hours=[])  # no hours: never open
    always = make_station(tree["gc"], 39.7476, 116.1380, is_24h=True)
    got = station_nearby(lat=39.7476, lng=116.1370, radius_m=1000, limit=10, open_now=True)
    assert [r["station"].pk for r in got] == [always.pk]
    got = station_nearby(lat=39.7476, lng=116.1370, radius_m=1000, limit=10, open_now=False)
    assert [r["station"].pk for r in got] == [closed.pk]


def test_api_answers_in_the_requested_crs(tree):
    station = make_station(tree["gc"], 39.7476, 116.1370, is_24h=True,
                           amenities=["charging"])
    make_station(tree["gc"], 39.7500, 116.1370, hours=[(d, time(0), time(0)) for d in range(7)])
    client = Client()
    for crs in ("wgs84", "gcj02", "bd09"):
        lat, lng = geo.from_wgs84(39.7476, 116.1370, crs)
        body = client.get("/api/v1/places/nearby", {"lat": lat, "lng": lng, "crs": crs,
                                                    "radius_m": 1000, "amenity": "charging",
                                                    "open_now": "true"}).json()
        assert body["crs"] == crs and body["count"] == 1
        place = body["places"][0]
        assert place["id"] == station.pk and place["distance_m"] <= 1
        assert geo.distance_m(lat, lng, place["lat"], place["lng"]) < 1
        assert place["open_now"] is True and place["kind"] == "station"


@pytest.mark.parametrize("params", [
    {"lat": 91, "lng": 116},
    {"lat": 39.7, "lng": 116, "crs": "mars"},
    {"lat": 39.7, "lng": 116, "radius_m": 999999},
    {"lat": 39.7, "lng": 116, "limit": 0},
    {"lng": 116},
])
def test_bad_parameters_are_422_in_both_languages(db, params):
    response = Client().get("/api/v1/places/nearby", params)
    assert response.status_code == 422
    assert set(response.json()["detail"]) == {"zh", "en"}



def _prepared_runs():
    """(statement, times run) of this connection's prepared nearby searches."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, generic_plans + custom_plans FROM pg_prepared_statements "
                       "WHERE statement LIKE %s", ["WITH c AS (SELECT id, lat, lng%"])
        return cursor.fetchall()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements: PostgreSQL")
def test_the_search_is_one_prepared_statement_planned_once(random_stations):
    # Given the connection as earlier tests left it, when three searches at different points
    # (different numbers of small cells) run, then one prepared statement served all three
    # (a search wide enough for the large cells has a text of its own).
    before = dict(_prepared_runs())
    for lat, lng, radius in ((CENTRE[0], CENTRE[1], 500), (39.70, 116.10, 3000),
                             (39.80, 116.20, 5000)):
        station_nearby(lat=lat, lng=lng, radius_m=radius, limit=10)
    after = dict(_prepared_runs())
    assert len(after) == 1
    name, runs = next(iter(after.items()))
    assert runs - before.get(name, 0) == 3


def test_no_prepared_statement_behind_a_transaction_pooler(random_stations, settings):
    # PgBouncer in transaction mode hands the server connection to other clients: nothing is
    # prepared, the cells are spelled out, and the search finds the same.
    want = [r["station"].pk for r in station_nearby(lat=CENTRE[0], lng=CENTRE[1],
                                                    radius_m=5000, limit=20)]
    settings.DATABASE_POOL_MODE = "transaction"
    before = _prepared_runs()
    with CaptureQueriesContext(connection) as ctx:
        got = station_nearby(lat=CENTRE[0], lng=CENTRE[1], radius_m=5000, limit=20)
    assert [r["station"].pk for r in got] == want
    assert "unnest" not in ctx.captured_queries[0]["sql"]
    assert _prepared_runs() == before
