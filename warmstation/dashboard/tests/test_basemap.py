"""The base map's layers and the area boundaries a district supplies (GCJ-02 converted)."""

import json

import pytest
from django.core.management import CommandError, call_command

from tests.factories import as_level, make_station, make_user, signed_in
from warmstation.accounts.models import Role
from warmstation.core import geo
from warmstation.core.errors import InvalidInput
from warmstation.dashboard.models import AreaBoundary
from warmstation.dashboard.services import boundaries_load

# A square around 拱辰 in WGS-84, then as the district's GCJ-02 file would have it.
SQUARE = [(39.70, 116.10), (39.70, 116.20), (39.80, 116.20), (39.80, 116.10), (39.70, 116.10)]


def _collection(points, code="GC"):
    ring = [[lng, lat] for lat, lng in points]
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": code},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }


@pytest.mark.django_db
def test_a_gcj02_boundary_is_stored_as_wgs84(tree, tmp_path):
    gcj = [geo.wgs84_to_gcj02(lat, lng) for lat, lng in SQUARE]
    path = tmp_path / "streets.geojson"
    path.write_text(
        json.dumps(
            {
                **_collection(gcj),
                "features": _collection(gcj)["features"]
                + _collection(gcj, code="NOPE")["features"],
            }
        )
    )
    call_command("load_boundaries", str(path), "--crs", "gcj02")
    ring = AreaBoundary.objects.get(area=tree["gc"]).geometry["coordinates"][0]
    for (lng, lat), (wlat, wlng) in zip(ring, SQUARE, strict=True):
        assert geo.distance_m(lat, lng, wlat, wlng) < 0.5


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad",
    [
        {"type": "Feature"},
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "properties": {"code": "GC"},
                    "geometry": {"type": "Point", "coordinates": [116.1, 39.7]},
                }
            ],
        },
        _collection([(99.0, 116.1), (39.7, 116.2), (39.8, 116.2)]),
    ],
)
def test_a_malformed_file_changes_nothing(tree, bad):
    with pytest.raises(InvalidInput):
        boundaries_load(collection=bad, crs="wgs84")
    assert not AreaBoundary.objects.exists()


@pytest.mark.django_db
def test_an_unreadable_file_is_a_command_error(tmp_path):
    path = tmp_path / "x.geojson"
    path.write_text("{not json")
    with pytest.raises(CommandError):
        call_command("load_boundaries", str(path))


@pytest.mark.django_db
def test_the_map_shows_the_layers_of_the_viewer_s_areas(tree):
    boundaries_load(collection=_collection(SQUARE), crs="wgs84")
    make_station(tree["ylj"], 39.7482, 116.1400, name="伊林郡驿站")
    make_station(tree["sz"], 39.7800, 116.1000, name="苏庄驿站")
    gc = signed_in(as_level(make_user(Role.AREA_ADMIN, tree["gc"])))
    body = gc.get("/district/map/?layer=stations&layer=boundaries").content.decode()
    assert "伊林郡驿站" in body and "苏庄驿站" not in body and "区域边界 1 个" in body
    bad = gc.get("/district/map/?layer=nope").content.decode()
    assert 'class="flash error"' in bad and "伊林郡驿站" in bad  # the default layers instead
