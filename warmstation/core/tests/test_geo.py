"""Coordinate conversions and grid cells (property tests)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from warmstation.core import geo

# Mainland China, where the GCJ-02 shift applies.
china_lat = st.floats(min_value=18.0, max_value=53.0)
china_lng = st.floats(min_value=74.0, max_value=134.0)


@settings(max_examples=300)
@given(china_lat, china_lng, st.sampled_from(["gcj02", "bd09"]))
def test_round_trip_within_one_metre(lat, lng, crs):
    back = geo.to_wgs84(*geo.from_wgs84(lat, lng, crs), crs)
    assert geo.distance_m(lat, lng, *back) < 1.0


@settings(max_examples=300)
@given(china_lat, china_lng)
def test_gcj02_shift_is_real_but_bounded(lat, lng):
    # The published obfuscation moves points by tens to hundreds of metres, never kilometres.
    shift = geo.distance_m(lat, lng, *geo.wgs84_to_gcj02(lat, lng))
    assert 1 < shift < 1500


def test_known_point_matches_published_conversion():
    # Tiananmen (WGS-84 39.90750, 116.39723) → GCJ-02 ≈ (39.90890, 116.40347), within ~2 m.
    lat, lng = geo.wgs84_to_gcj02(39.90750, 116.39723)
    assert geo.distance_m(lat, lng, 39.90890, 116.40347) < 5


def test_outside_china_is_not_shifted():
    assert geo.from_wgs84(48.8584, 2.2945, "gcj02") == (48.8584, 2.2945)


@settings(max_examples=200)
@given(china_lat, china_lng, st.floats(min_value=10, max_value=50_000),
       st.floats(min_value=0, max_value=1), st.floats(min_value=0, max_value=6.283))
def test_covering_cells_contain_every_point_in_the_circle(lat, lng, radius, frac, bearing):
    import math

    d = radius * frac
    plat = lat + math.degrees(d * math.cos(bearing) / geo.EARTH_RADIUS_M)
    plng = lng + math.degrees(d * math.sin(bearing) / geo.EARTH_RADIUS_M) / math.cos(
        math.radians(plat))
    if geo.distance_m(lat, lng, plat, plng) > radius:
        return
    field, cells = geo.covering_cells(lat, lng, radius)
    small, large = geo.cells_of(plat, plng)
    assert (small if field == "cell_s" else large) in cells
    assert len(cells) <= max(geo.MAX_CELLS, 40)
