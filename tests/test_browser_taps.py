"""End to end at 360×740: every worker task is on the home's first screen and done in at most
three taps from it (typing is not a tap; a link, a button, a choice in a list is). The counts
are recorded in bench/RESULTS.md."""

import re

import pytest

from tests.conftest import page_as, screenshot
from tests.factories import (
    build_area_tree,
    make_appeal_setup,
    make_merchant,
    make_offer,
    make_station,
)
from warmstation.accounts.models import AuthLevel
from warmstation.appeals import services as appeal_services
from warmstation.points.tests.factories import fund
from warmstation.stations.models import Amenity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MAX_TAPS = 3


class Taps:
    """Counts the taps of one task from the home page."""

    def __init__(self, page, home: str):
        self.page, self.home, self.n = page, home, 0

    def start(self) -> "Taps":
        self.page.goto(self.home)
        self.n = 0
        return self

    def tap(self, locator) -> None:
        self.n += 1
        locator.click()

    def choose(self, select, value: str) -> None:
        self.n += 1
        select.select_option(value)


def test_every_worker_task_is_on_the_first_screen_and_within_three_taps(live_server, browser):
    tree = build_area_tree()
    tree["ylj"].center_lat, tree["ylj"].center_lng = 39.7480, 116.1400
    tree["ylj"].save()
    setup = make_appeal_setup(tree)
    worker = setup["worker"]
    Amenity.objects.create(code="charging", name_zh="充电", name_en="Charging", order=0)
    Amenity.objects.create(code="water", name_zh="饮用水", name_en="Drinking water", order=1)
    make_station(tree["ylj"], 39.7482, 116.1400, name="近处驿站（无充电）", is_24h=True,
                 amenities=["water"])
    target = make_station(tree["ylj"], 39.7520, 116.1400, name="充电驿站", is_24h=True,
                          amenities=["charging"])
    merchant = make_merchant(tree["ylj"], 39.7485, 116.1405, name="拱辰爱心餐馆")
    make_offer(merchant, title="爱心套餐")
    fund(worker, 100)
    appeal_services.appeal_create(actor=worker, category=setup["cats"]["housing"],
                                  area=tree["ylj"], title="想找短租房", body="附近有没有？")
    worker.auth_level = AuthLevel.CODE
    page = page_as(browser, live_server, worker, phone=True)
    taps = Taps(page, f"{live_server.url}/")
    counts = {}

    # Every tile is on the first screen, without scrolling.
    taps.start()
    tiles = page.locator("nav.launcher a.task")
    assert tiles.count() >= 5
    for i in range(tiles.count()):
        box = tiles.nth(i).bounding_box()
        assert box["y"] + box["height"] <= 740, tiles.nth(i).inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "worker-launcher-360.png")

    # The nearest open station with charging.
    taps.start().tap(page.locator("a.task-stations-list"))
    taps.tap(page.locator("nav.quick-filters").get_by_role("link", name="充电"))
    taps.tap(page.locator("li.station-row").first.get_by_role("link"))
    page.wait_for_url(f"**/stations/{target.pk}/")
    counts["nearest open station with charging"] = taps.n

    # A meal: the code to show at the counter.
    taps.start().tap(page.locator("a.task-benefits-wallet"))
    taps.tap(page.get_by_role("button", name="出示核销码").first)
    page.get_by_test_id("digits").wait_for()
    counts["a discounted meal (code shown)"] = taps.n

    # Raise a need.
    taps.start().tap(page.locator("a.task-appeals-new"))
    taps.choose(page.get_by_label("类别"), "traffic_parking")
    page.get_by_label("标题").fill("路边没有停车位")
    page.get_by_label("具体情况").fill("送餐时找不到地方停电动车。")
    taps.tap(page.get_by_role("button", name="提交"))
    page.get_by_text("诉求已提交").wait_for()
    counts["raise a need"] = taps.n

    # My needs, and one of them.
    taps.start().tap(page.locator("a.task-appeals-mine"))
    taps.tap(page.get_by_role("link", name=re.compile("想找短租房")))
    page.get_by_text("附近有没有？").wait_for()
    counts["my needs (open one)"] = taps.n

    # The service card.
    taps.start().tap(page.locator("a.task-card"))
    assert page.locator("article.service-card").first.is_visible()
    counts["my service card"] = taps.n

    print("\nTAPS", counts)
    assert all(n <= MAX_TAPS for n in counts.values()), counts
