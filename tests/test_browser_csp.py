"""The strict Content-Security-Policy holds in a real Chromium on a representative page of every
role (issue 18 item 1): worker home, stations with the map (tiles from a configured host), wallet,
report and need forms, the merchant's counter, the steward's console, the department's inbox, the
district view and the Django admin. Any `securitypolicyviolation` event, or a console message
about the Content Security Policy, fails the test."""

import pytest
from django.utils.csp import CSP

from tests.conftest import page_as
from tests.factories import (
    as_level,
    build_area_tree,
    make_appeal_setup,
    make_merchant,
    make_station,
    make_user,
)
from warmstation.accounts.models import AuthLevel, Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TILE_HOST = "http://tiles.invalid"  # never resolves: the browser only has to be *allowed* to ask

LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def _visit(page, url: str) -> list[str]:
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text)
            if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text
            else None)
    response = page.goto(url, wait_until="networkidle")
    assert response is not None and response.status == 200, (url, response and response.status)
    assert "Content-Security-Policy" in {k.title(): v for k, v in response.headers.items()}
    violations = page.evaluate("window.__csp")
    return violations + console


def test_no_page_of_any_role_breaks_the_policy(live_server, browser, settings):
    # Tiles from a configured host: the map loads Leaflet, and the tile host is in img-src.
    settings.MAP_TILE_URL = TILE_HOST + "/{z}/{x}/{y}.png"
    settings.SECURE_CSP = {**settings.SECURE_CSP,
                           "img-src": [CSP.SELF, "data:", TILE_HOST]}
    tree = build_area_tree()
    people = make_appeal_setup(tree)
    steward = as_level(make_user(Role.STEWARD, tree["gc"]), AuthLevel.PASSWORD)
    station = make_station(tree["ylj"], 39.7207, 116.1101, steward=steward,
                           amenities=("water", "charging"), is_24h=True)
    merchant_staff = as_level(make_user(Role.MERCHANT, tree["gc"]), AuthLevel.PASSWORD)
    make_merchant(tree["gc"], staff=merchant_staff)
    visits = {
        people["worker"]: ["/", "/stations/?open=1", f"/stations/{station.pk}/", "/wallet/",
                           "/reports/new/", "/appeals/new/"],
        merchant_staff: ["/merchant/"],
        steward: [f"/steward/{station.pk}/"],
        people["rsj_staff"]: ["/appeals/inbox/"],
        people["district"]: ["/district/", "/appeals/board/", "/admin/",
                             "/admin/accounts/user/"],
    }
    found: dict[str, list[str]] = {}
    for person, urls in visits.items():
        page = page_as(browser, live_server, person)
        page.add_init_script(LISTEN)
        try:
            for url in urls:
                if problems := _visit(page, live_server.url + url):
                    found[url] = problems
        finally:
            page.context.close()
    assert not found, found


def test_the_map_page_loads_leaflet_under_the_policy(live_server, browser, settings):
    settings.MAP_TILE_URL = TILE_HOST + "/{z}/{x}/{y}.png"
    settings.SECURE_CSP = {**settings.SECURE_CSP,
                           "img-src": [CSP.SELF, "data:", TILE_HOST]}
    tree = build_area_tree()
    people = make_appeal_setup(tree)
    make_station(tree["ylj"], 39.7207, 116.1101, is_24h=True)
    page = page_as(browser, live_server, people["worker"], phone=True)
    page.add_init_script(LISTEN)
    try:
        assert _visit(page, live_server.url + "/stations/") == []
        # Leaflet ran (its container class is set by its script, not by the template), and
        # asked for tiles from the configured host.
        page.wait_for_selector(".leaflet-container", timeout=10_000)
        tiles = page.eval_on_selector_all("img.leaflet-tile", "els => els.map(e => e.src)")
        assert tiles and all(src.startswith(TILE_HOST) for src in tiles), tiles
        assert page.evaluate("window.__csp") == []
        # The detector itself works: an injected inline script is refused and reported.
        page.evaluate("() => { const s = document.createElement('script');"
                      " s.textContent = 'window.injected = 1'; document.body.appendChild(s); }")
        page.wait_for_function("window.__csp.length > 0", timeout=5_000)
        assert page.evaluate("window.injected") is None
    finally:
        page.context.close()
