"""End to end, in a real Chromium at 360 px: a worker looks for the nearest station that is open
now and has charging, opens it and finds the AMap link at the station's GCJ-02 position."""

from datetime import time

import pytest
from django.utils import timezone

from tests.conftest import screenshot
from tests.factories import build_area_tree, make_station
from warmstation.core import geo
from warmstation.stations.models import Amenity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
HERE = (39.7480, 116.1400)  # the worker, WGS-84


def _hours_far_from_now():
    """One hour a day, six hours from now: closed whenever the test runs (no clock mocking)."""
    hour = (timezone.localtime().hour + 6) % 24
    return [(d, time(hour), time((hour + 1) % 24)) for d in range(7)]


def test_nearest_open_station_with_charging(live_server, phone):
    tree = build_area_tree()
    Amenity.objects.create(code="charging", name_zh="充电", name_en="Charging", order=0)
    Amenity.objects.create(code="water", name_zh="饮用水", name_en="Drinking water", order=1)
    # ~100 m: has charging but closed now; ~300 m: open, no charging; ~900 m: open, charging.
    make_station(tree["ylj"], HERE[0] + 0.0009, HERE[1], name="近处驿站（已关门）",
                 hours=_hours_far_from_now(), amenities=["charging", "water"])
    make_station(tree["ylj"], HERE[0] + 0.0027, HERE[1], name="中间驿站（无充电）",
                 is_24h=True, amenities=["water"])
    target = make_station(tree["ylj"], HERE[0] + 0.0081, HERE[1], name="远处驿站（可充电）",
                          is_24h=True, amenities=["charging", "water"])
    page = phone

    page.goto(f"{live_server.url}/stations/?lat={HERE[0]}&lng={HERE[1]}")
    rows = page.locator("li.station-row")
    assert rows.count() == 3
    assert "近处驿站" in rows.first.inner_text()  # nearest first, before filtering
    page.get_by_label("只看营业中").check()
    page.get_by_label("充电").check()
    page.get_by_role("button", name="查找").click()
    page.wait_for_url("**open=1**")

    first = page.locator("li.station-row").first
    assert "远处驿站（可充电）" in first.inner_text()
    assert "营业中" in first.inner_text()
    assert page.locator("li.station-row").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "stations-360.png")

    first.get_by_role("link").click()
    page.wait_for_url(f"**/stations/{target.pk}/")
    glat, glng = geo.from_wgs84(target.lat, target.lng, "gcj02")
    href = page.get_by_role("link", name="高德地图导航").get_attribute("href")
    assert href.startswith(f"https://uri.amap.com/marker?position={glng:.6f},{glat:.6f}&")
    assert "coordinate=gaode" in href
    # GCJ-02 is offset from WGS-84 by a few hundred metres in Beijing: the link must not carry
    # the raw GPS position.
    assert f"{target.lng:.6f},{target.lat:.6f}" not in href
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "station-detail-360.png")
