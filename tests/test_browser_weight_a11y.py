"""Every worker page (360×740, a fresh cache each) and the counter, in a real Chromium: what it
transfers — HTML + CSS + JS, compressed, headers included; tiles and photos aside — stays under
100 KB, and axe-core finds no serious or critical violation. The figures go to
var/bench/pages.json (bench/RESULTS.md records them)."""

import json
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM_ARGS, DESK, PHONE  # noqa: F401 (CHROMIUM_ARGS documents)
from tests.factories import (
    build_area_tree,
    make_appeal_setup,
    make_merchant,
    make_offer,
    make_station,
    make_user,
    signed_in,
)
from warmstation.accounts.models import AuthLevel, Role
from warmstation.appeals import services as appeal_services
from warmstation.points.tests.factories import fund
from warmstation.stations.models import Amenity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BUDGET = 100 * 1024
COUNTED = {"document", "stylesheet", "script", "xhr", "fetch"}
OUT = Path(__file__).resolve().parent.parent / "var" / "bench" / "pages.json"


def _context(browser, live_server, user, level, *, phone=True):
    from django.conf import settings

    context = browser.new_context(locale="zh-CN", **(PHONE if phone else DESK))
    if user is not None:
        client = signed_in(user, level)
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                              "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                              "url": live_server.url}])
    return context


def _measure(browser, live_server, user, level, path, *, phone=True, then=None):
    """Load `path` in a fresh context (empty cache); bytes by resource type, axe violations."""
    from axe_playwright_python.sync_playwright import Axe

    context = _context(browser, live_server, user, level, phone=phone)
    page = context.new_page()
    sizes: dict[str, int] = {}
    encodings: set[str] = set()

    def finished(request):
        kind = request.resource_type
        if kind not in COUNTED:
            return
        s = request.sizes()
        sizes[kind] = sizes.get(kind, 0) + s["responseBodySize"] + s["responseHeadersSize"]
        response = request.response()
        if response is not None:
            encodings.add(response.headers.get("content-encoding", "none"))

    page.on("requestfinished", finished)
    page.goto(f"{live_server.url}{path}")
    if then:
        then(page)
    page.wait_for_load_state("networkidle")
    results = Axe().run(page)
    bad = [(v["id"], v["impact"], len(v["nodes"])) for v in results.response["violations"]
           if v["impact"] in ("serious", "critical")]
    minor = [(v["id"], v["impact"]) for v in results.response["violations"]
             if v["impact"] not in ("serious", "critical")]
    context.close()
    return {"path": path, "bytes": sum(sizes.values()), "by_type": sizes,
            "encodings": sorted(encodings), "axe_serious": bad, "axe_other": minor}


@pytest.fixture
def world():
    tree = build_area_tree()
    tree["ylj"].center_lat, tree["ylj"].center_lng = 39.7480, 116.1400
    tree["ylj"].save()
    s = make_appeal_setup(tree)
    Amenity.objects.create(code="charging", name_zh="充电", name_en="Charging", order=0)
    station = make_station(tree["ylj"], 39.7482, 116.1400, name="伊林郡驿站", is_24h=True,
                           amenities=["charging"])
    owner = make_user(Role.MERCHANT, tree["ylj"])
    merchant = make_merchant(tree["ylj"], 39.7485, 116.1405, name="拱辰爱心餐馆", staff=owner)
    make_offer(merchant, title="爱心套餐")
    fund(s["worker"], 100)
    case = appeal_services.appeal_create(actor=s["worker"], category=s["cats"]["housing"],
                                         area=tree["ylj"], title="想找短租房", body="附近有没有？")
    return {"s": s, "station": station, "merchant": merchant, "owner": owner, "case": case}


def test_worker_pages_and_the_counter_are_light_and_pass_axe(live_server, browser, world):
    worker, W = world["s"]["worker"], AuthLevel.CODE
    show_code = lambda page: page.get_by_role("button", name="出示核销码").first.click()  # noqa: E731
    pages = [
        (None, 0, "/"), (None, 0, "/login/"), (None, 0, "/stations/"),
        (worker, W, "/"), (worker, W, "/stations/?open=1"),
        (worker, W, f"/stations/{world['station'].pk}/"), (worker, W, "/wallet/"),
        (worker, W, "/appeals/"), (worker, W, "/appeals/new/"),
        (worker, W, f"/appeals/{world['case'].pk}/"), (worker, W, "/me/"),
        (worker, W, "/register/"), (worker, W, "/appeals/policy/"),
    ]
    rows = [_measure(browser, live_server, u, lv, p) for u, lv, p in pages]
    code = _measure(browser, live_server, worker, W, "/wallet/", then=show_code)
    code["path"] = "/wallet/codes/<id>/ (after 出示核销码)"
    rows.append(code)
    rows.append(_measure(browser, live_server, world["owner"], AuthLevel.PASSWORD,
                         f"/merchant/{world['merchant'].pk}/", phone=False))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    for r in rows:
        print(f"{r['path']:45} {r['bytes'] / 1024:6.1f} KB {r['by_type']} {r['encodings']} "
              f"axe serious: {r['axe_serious']} other: {r['axe_other']}")
    heavy = [(r["path"], r["bytes"]) for r in rows if r["bytes"] >= BUDGET]
    assert not heavy, heavy
    inaccessible = [(r["path"], r["axe_serious"]) for r in rows if r["axe_serious"]]
    assert not inaccessible, inaccessible
    # Pages came gzipped, static files as brotli; no Leaflet without tiles.
    assert all("gzip" in r["encodings"] and "br" in r["encodings"] for r in rows), \
        [(r["path"], r["encodings"]) for r in rows]
    assert "leaflet" not in json.dumps(rows[2]) and rows[2]["by_type"].get("script", 0) < 5000
