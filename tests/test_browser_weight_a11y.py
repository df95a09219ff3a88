"""Every worker page (360×740, a fresh cache each) and the counter, in a real Chromium: what it
transfers — HTML + CSS + JS, compressed, headers included; tiles and photos aside — stays under
100 KB, and axe-core finds no serious or critical violation. The figures go to
var/bench/pages.json (bench/RESULTS.md records them). The same for the staff desks at 1280×800
and the newer apps' pages (reports, volunteering, housing, union, notices, cards) on the demo
data, one browser and one live server for the module: var/bench/axe_desks.json."""

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


def _context(browser, live_server, user, level, *, phone=True, desk=DESK):
    from django.conf import settings

    context = browser.new_context(locale="zh-CN", **(PHONE if phone else desk))
    if user is not None:
        client = signed_in(user, level)
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                              "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                              "url": live_server.url}])
    return context


def _measure(browser, live_server, user, level, path, *, phone=True, then=None, desk=DESK):
    """Load `path` in a fresh context (empty cache); bytes by resource type, axe violations."""
    from axe_playwright_python.sync_playwright import Axe

    context = _context(browser, live_server, user, level, phone=phone, desk=desk)
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
    response = page.goto(f"{live_server.url}{path}")
    status = response.status if response is not None else 0
    if then:
        then(page)
    page.wait_for_load_state("networkidle")
    results = Axe().run(page)
    bad = [(v["id"], v["impact"], len(v["nodes"]), [n["target"] for n in v["nodes"][:3]])
           for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    minor = [(v["id"], v["impact"]) for v in results.response["violations"]
             if v["impact"] not in ("serious", "critical")]
    landed = page.url.removeprefix(live_server.url)
    context.close()
    return {"path": path, "status": status, "landed": landed,
            "bytes": sum(sizes.values()), "by_type": sizes,
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


DESK_800 = {"viewport": {"width": 1280, "height": 800}}
OUT_DESKS = OUT.with_name("axe_desks.json")


@pytest.fixture
def demo_world():
    """The Fangshan demo (no history): every app's pages have something to show."""
    from warmstation.demo.seed import seed_demo

    seed_demo(workers=15)


def _demo_pages():
    """(mobile of the demo sign-in, level, path, phone?) for the staff desks at 1280×800 and
    the newer apps' worker and public pages at 360×740."""
    from warmstation.appeals.models import Appeal
    from warmstation.reports.models import Problem
    from warmstation.stations.models import Station
    from warmstation.volunteering.models import VolunteerTask

    P, M = AuthLevel.PASSWORD, AuthLevel.MFA
    case = Appeal.objects.filter(department__code="rsj").order_by("pk").first()
    station = Station.objects.get(name="伊林郡社区“37°C+”暖心驿站")
    problem = Problem.objects.order_by("pk").first()
    task = VolunteerTask.objects.order_by("pk").first()
    desks = [
        ("13800000004", P, "/appeals/inbox/"), ("13800000004", P, f"/appeals/{case.pk}/"),
        ("13800000002", P, f"/steward/{station.pk}/"),
        ("13800000005", M, "/areas/110111011000/"), ("13800000005", M, "/workers/"),
        ("13800000005", M, "/appeals/board/"), ("13800000006", M, "/areas/"),
        ("13800000006", M, "/audit/"), ("13800000006", M, "/notices/desk/"),
        ("13800000006", M, "/notices/desk/new/"), ("13800000006", M, "/notices/desk/groups/"),
        ("13800000006", M, "/appeals/meeting/"), ("13800000006", M, "/reports/clients/"),
        ("13800000006", M, "/district/"),
        ("13800000008", P, "/reports/queue/"), ("13800000008", P, f"/reports/{problem.pk}/"),
        ("13800000008", P, "/volunteer/organise/"),
        ("13800000008", P, f"/volunteer/organise/tasks/{task.pk}/"),
        ("13800000008", P, "/volunteer/errands/desk/"), ("13800000008", P, "/volunteer/activities/"),
        ("13800000021", P, "/housing/desk/"), ("13800000021", P, "/housing/office/"),
        ("13800000022", P, "/union/desk/"), ("13800000022", P, "/union/batches/new/"),
    ]
    phone = [
        (None, 0, "/reports/public/"), (None, 0, f"/reports/public/{problem.pk}/"),
        ("13800000001", AuthLevel.CODE, "/reports/new/"), ("13800000001", AuthLevel.CODE, "/reports/"),
        ("13800000001", AuthLevel.CODE, "/volunteer/"),
        ("13800000001", AuthLevel.CODE, f"/volunteer/tasks/{task.pk}/"),
        ("13800000001", AuthLevel.CODE, "/volunteer/mine/"),
        ("13800000001", AuthLevel.CODE, "/volunteer/records/"),
        ("13800000001", AuthLevel.CODE, "/volunteer/errands/"),
        ("13800000001", AuthLevel.CODE, "/housing/resources/"),
        ("13800000001", AuthLevel.CODE, "/housing/survey/"),
        ("13800000001", AuthLevel.CODE, "/notices/groups/"),
        ("13800000001", AuthLevel.CODE, "/housing/"), ("13800000001", AuthLevel.CODE, "/union/"),
        ("13800000001", AuthLevel.CODE, "/notices/"),
        (None, 0, "/cards/110111-YLJ/"), (None, 0, "/cards/110111011000/handbook/"),
    ]
    return [(m, lv, p, False) for m, lv, p in desks] + [(m, lv, p, True) for m, lv, p in phone]


def _near_me(page):
    """The report form once a place is set: the same-problem prompt ("near me") is shown."""
    from warmstation.reports.models import Problem

    problem = Problem.objects.filter(status="dispatched").order_by("pk").first()
    page.click("summary")  # 手动输入坐标
    page.fill("input[name=lat]", f"{problem.lat:.6f}")
    page.fill("input[name=lng]", f"{problem.lng:.6f}")
    page.select_option("#category", problem.category.code)
    page.wait_for_selector('[data-testid="same-problem"]')


def test_staff_desks_and_the_newer_apps_pass_axe(live_server, browser, demo_world):
    from warmstation.accounts.models import User

    rows = []
    for mobile, level, path, phone in _demo_pages():
        user = User.objects.get(mobile=mobile) if mobile else None
        rows.append(_measure(browser, live_server, user, level, path, phone=phone,
                             desk=DESK_800))
    worker = User.objects.get(mobile="13800000001")
    near = _measure(browser, live_server, worker, AuthLevel.CODE, "/reports/new/", then=_near_me)
    near["path"] = "/reports/new/ (near me: the same-problem prompt)"
    rows.append(near)
    OUT_DESKS.parent.mkdir(parents=True, exist_ok=True)
    OUT_DESKS.write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    moved = [(r["path"], r["status"], r["landed"]) for r in rows
             if r["status"] != 200 or not r["path"].startswith(r["landed"])]
    assert not moved, moved  # every page was the page itself, not a sign-in or a refusal
    for r in rows:
        print(f"{r['path']:45} {r['bytes'] / 1024:6.1f} KB axe serious: {r['axe_serious']} "
              f"other: {r['axe_other']}")
    heavy = [(r["path"], r["bytes"]) for r in rows if r["bytes"] >= BUDGET]
    assert not heavy, heavy
    inaccessible = [(r["path"], r["axe_serious"]) for r in rows if r["axe_serious"]]
    assert not inaccessible, inaccessible
