"""The worker home's task launcher: tiles from settings.WORKER_TASKS in order, an entry whose URL
does not resolve (its app not built yet) skipped, a failing badge left out, not the page."""

from django.utils.translation import gettext_lazy as _

from tests.factories import make_worker, signed_in
from warmstation.accounts.launcher import worker_tasks
from warmstation.accounts.models import AuthLevel


def boom(user):
    raise RuntimeError("badge source down")


def seven(user):
    return 7


def test_tiles_keep_their_order_and_skip_urls_that_do_not_resolve(tree):
    worker = make_worker([tree["ylj"]])
    tasks = worker_tasks(worker, [
        ("appeals:mine", _("我的诉求"), "📋", f"{__name__}.seven"),
        ("not_an_app_yet:new", _("随手拍"), "📷", ""),
        ("stations:list?open=1", _("附近驿站"), "📍", f"{__name__}.boom"),
    ])
    assert [(t.name, t.url, t.badge) for t in tasks] == [
        ("appeals:mine", "/appeals/", 7), ("stations:list", "/stations/?open=1", None)]


def test_the_home_shows_the_tiles_before_the_card(tree, settings):
    worker = make_worker([tree["ylj"]])
    html = signed_in(worker, AuthLevel.CODE).get("/").content.decode()
    tiles = html.index('class="launcher"')
    for href in ("/stations/?open=1", "/wallet/", "/appeals/new/", "/appeals/", "#card-h"):
        assert f'href="{href}"' in html[tiles:]
    assert tiles < html.index('id="card-h"')
    assert "reports:new" not in html  # unresolved slots leave no trace



def test_more_work_areas_than_the_card_holds_are_refused_not_cut(tree):
    from warmstation.areas.services import area_upsert

    extra = [area_upsert(code=f"C{i}", name_zh=f"社区{i}", level="community", parent=tree["gc"])
             for i in range(11)]
    worker = make_worker([tree["ylj"]])
    response = signed_in(worker, AuthLevel.CODE).post("/register/", {
        "real_name": "张三", "job_type": "courier", "areas": [a.pk for a in extra]})
    html = response.content.decode()
    assert response.status_code == 422 and "最多选择 10 个工作区域，您选了 11 个" in html
    assert html.count("selected") >= 11  # the choice is kept for the worker to trim
    assert list(worker.worker_profile.areas.all()) == [tree["ylj"]]


def test_a_resident_s_home_shows_what_a_resident_can_do(tree):
    from tests.factories import make_user
    from warmstation.accounts.models import Role

    resident = make_user(Role.RESIDENT, tree["ylj"])
    html = signed_in(resident, AuthLevel.CODE).get("/").content.decode()
    launcher = html[html.index('class="launcher"'):]
    assert 'href="/stations/"' in launcher and 'href="/me/"' in launcher
    assert 'href="#card-h"' in launcher and "/wallet/" not in html
    page = signed_in(resident, AuthLevel.CODE).get("/register/").content.decode()
    assert "不需要登记为小哥" in page
