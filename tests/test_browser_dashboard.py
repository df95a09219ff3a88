"""The district view in a real browser at a desk's 1280×800: the dashboard draws its charts
(uPlot, served by whitenoise), the coverage map its cells and numbered candidates (Leaflet);
no script errors, no serious or critical axe-core violation; screenshots for a human to look at
(var/screenshots/dashboard.png, coverage.png)."""

import pytest
from django.conf import settings

from tests.conftest import screenshot
from tests.factories import signed_in
from warmstation.accounts.models import AuthLevel
from warmstation.dashboard.tests.test_coverage import B, _report
from warmstation.dashboard.tests.test_figures import build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DESK_800 = {"viewport": {"width": 1280, "height": 800}}


def _page(browser, live_server, user):
    client = signed_in(user, AuthLevel.MFA)
    context = browser.new_context(locale="zh-CN", **DESK_800)
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                          "url": live_server.url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return page, errors


def _axe(page):
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page)
    return [(v["id"], v["impact"], len(v["nodes"])) for v in result.response["violations"]
            if v["impact"] in ("serious", "critical")]


def test_dashboard_and_coverage_map_in_the_browser(live_server, browser):
    world = build()
    for worker in world["ylj"][:6]:  # a gap 3 km east of the only station of 伊林郡
        _report(world["tree"]["ylj"], B, worker)
    page, errors = _page(browser, live_server, world["district"])
    page.goto(f"{live_server.url}/district/")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-kpi=workers]").inner_text().strip() == "13"
    # Every panel's chart is drawn (uPlot puts a canvas in each box).
    assert page.locator("[data-chart] .uplot canvas").count() == 8
    assert page.locator("[data-chart=workers] .u-legend").inner_text().count("小哥总数") == 1
    screenshot(page, "dashboard.png")
    assert not _axe(page)

    page.goto(f"{live_server.url}/district/coverage/?signal=reports&signal=checkins&distance=500")
    page.wait_for_load_state("networkidle")
    assert page.locator(".leaflet-container").count() == 1
    ranks = page.locator(".cand-label")
    rows = page.locator("[data-testid=candidates] tbody tr")
    assert ranks.count() == rows.count() >= 1 and ranks.first.inner_text() == "1"
    screenshot(page, "coverage.png")
    assert not _axe(page)

    page.goto(f"{live_server.url}/district/map/?layer=stations&layer=density")
    page.wait_for_load_state("networkidle")
    assert page.locator(".leaflet-container").count() == 1
    screenshot(page, "basemap.png")
    assert not _axe(page)
    assert not errors, errors

    area_page, area_errors = _page(browser, live_server, world["gc_admin"])
    area_page.goto(f"{live_server.url}/district/")
    assert area_page.locator("[data-kpi=workers]").inner_text().strip() == "7"
    assert not area_errors
