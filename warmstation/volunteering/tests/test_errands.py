"""Errands: only verified workers take one; the resident's name, address and phone are seen by
the worker who took it and nobody else (API, pages, export), and only until it is done; the
resident confirms on a page made for an elderly person; hours and points once."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import as_level, make_user, make_worker, signed_in
from warmstation.accounts.models import AuthLevel, Role
from warmstation.accounts.services import api_token_issue
from warmstation.core.errors import Conflict, PermissionDenied
from warmstation.points.models import LedgerTransaction
from warmstation.points.tests.factories import make_rule
from warmstation.volunteering import errands
from warmstation.volunteering.models import Errand
from warmstation.volunteering.tests.factories import make_organiser

NAME, ADDRESS, PHONE = "王秀兰", "岗南社区3号楼2单元501", "13912345678"
SECRETS = (NAME, ADDRESS, PHONE)


@pytest.fixture
def w(tree):
    make_rule("errand_elderly", 10, source="errand")
    staff = make_organiser(tree["gc"])
    runner = as_level(make_worker([tree["ylj"]]), AuthLevel.CODE)
    bystander = as_level(make_worker([tree["ylj"]]), AuthLevel.CODE)
    for x in (runner, bystander):
        errands.errand_worker_verify(actor=staff, worker=x)
    resident = as_level(make_user(Role.RESIDENT, tree["ylj"]), AuthLevel.CODE)
    resident.real_name = NAME
    resident.save(update_fields=["real_name"])
    e = errands.errand_post(actor=staff, area=tree["ylj"], title="买菜", details="西红柿两斤",
                            where="岗南菜市场", resident_name=NAME, resident_address=ADDRESS,
                            resident_phone=PHONE, resident=resident)
    return {**tree, "staff": staff, "runner": runner, "bystander": bystander,
            "resident": resident, "errand": e,
            "unverified": as_level(make_worker([tree["ylj"]]), AuthLevel.CODE),
            "admin": as_level(make_user(Role.DISTRICT_ADMIN, tree["district"]), AuthLevel.MFA)}


def _api(user):
    return Client(headers={"Authorization":
                           f"Bearer {api_token_issue(user=user, auth_level=user.auth_level)}"})


def _leaks(content: bytes) -> list[str]:
    text = content.decode()
    return [s for s in SECRETS if s in text]


def test_only_a_verified_worker_takes_it_and_only_one(w):
    with pytest.raises(PermissionDenied):
        errands.errand_take(worker=w["unverified"], errand=w["errand"])
    errands.errand_take(worker=w["runner"], errand=w["errand"])
    with pytest.raises(Conflict):
        errands.errand_take(worker=w["bystander"], errand=w["errand"])


def test_the_resident_is_seen_by_the_runner_only_and_only_until_done(w):
    e = w["errand"]
    pages = {k: signed_in(w[k], w[k].auth_level)
             for k in ("runner", "bystander", "staff", "admin", "unverified")}
    apis = {k: _api(w[k]) for k in pages}
    # open: nobody but the resident sees who it is for
    for k in pages:
        assert not _leaks(pages[k].get(f"/volunteer/errands/{e.pk}/").content), k
        assert not _leaks(apis[k].get(f"/api/v1/volunteering/errands/{e.pk}").content), k
    errands.errand_take(worker=w["runner"], errand=e)
    page = pages["runner"].get(f"/volunteer/errands/{e.pk}/").content
    assert _leaks(page) == list(SECRETS)
    body = apis["runner"].get(f"/api/v1/volunteering/errands/{e.pk}").json()
    assert body["resident"] == {"name": NAME, "address": ADDRESS, "phone": PHONE}
    assert apis["runner"].get("/api/v1/volunteering/errands").json()["items"][0]["resident"]
    for k in ("bystander", "staff", "admin", "unverified"):
        for url in (f"/volunteer/errands/{e.pk}/", "/volunteer/errands/desk/",
                    "/volunteer/errands/", "/volunteer/errands/export.csv"):
            r = pages[k].get(url)
            assert not _leaks(r.content), (k, url, r.status_code)
        for url in (f"/api/v1/volunteering/errands/{e.pk}", "/api/v1/volunteering/errands"):
            assert not _leaks(apis[k].get(url).content), (k, url)
    # done: the runner no longer sees them either
    errands.errand_done(worker=w["runner"], errand=e, minutes=45)
    assert not _leaks(pages["runner"].get(f"/volunteer/errands/{e.pk}/").content)
    assert apis["runner"].get(f"/api/v1/volunteering/errands/{e.pk}").json()["resident"] is None


def test_the_resident_confirms_with_one_button_and_the_worker_is_paid_once(w):
    e = w["errand"]
    errands.errand_take(worker=w["runner"], errand=e)
    errands.errand_done(worker=w["runner"], errand=e, minutes=40)
    c = signed_in(w["resident"], AuthLevel.CODE)
    page = c.get(f"/volunteer/errands/{e.pk}/thanks/").content.decode()
    assert page.count("<button") - page.count('class="link"') == 1  # the one button (besides the header's)
    assert "elder" in page
    assert c.post(f"/volunteer/errands/{e.pk}/thanks/").status_code == 302
    assert c.post(f"/volunteer/errands/{e.pk}/thanks/").status_code == 302  # again: nothing
    e.refresh_from_db()
    assert e.status == "confirmed" and e.points == 10
    assert e.resident_address == "" and e.resident_phone == ""
    assert LedgerTransaction.objects.filter(user=w["runner"], action="errand_elderly").count() == 1
    hours = _api(w["runner"]).get("/api/v1/volunteering/me/hours").json()
    assert hours["errand_minutes"] == 40 and hours["errands"] == 1
    # someone else's errand: not found
    other = signed_in(as_level(make_user(Role.RESIDENT, w["sz"]), AuthLevel.CODE), AuthLevel.CODE)
    assert other.get(f"/volunteer/errands/{e.pk}/thanks/").status_code == 404


def test_a_resident_asks_and_staff_post_through_the_pages(w):
    c = signed_in(w["resident"], AuthLevel.CODE)
    r = c.post("/volunteer/errands/ask/", {"title": "取药", "details": "降压药",
                                          "address": "岗南社区5号楼"})
    assert r.status_code == 302
    asked = Errand.objects.get(title="取药")
    assert asked.resident == w["resident"] and asked.area == w["ylj"]
    assert asked.resident_phone == w["resident"].mobile
    staff = signed_in(w["staff"], AuthLevel.PASSWORD)
    r = staff.post("/volunteer/errands/desk/", {"area": "YLJ", "title": "代缴电费",
                                               "resident_name": "李大爷",
                                               "resident_address": "2号楼", "budget": "100"})
    assert r.status_code == 302
    r = staff.post("/volunteer/errands/desk/", {"area": "YLJ", "title": "代缴电费",
                                               "resident_name": "李大爷", "budget": "abc",
                                               "resident_address": "2号楼"})
    assert r.status_code == 422 and "李大爷" in r.content.decode()  # what was typed is kept
    r = staff.post("/volunteer/errands/verify/", {"mobile": w["unverified"].mobile})
    assert r.status_code == 302
    errands.errand_take(worker=w["unverified"], errand=asked)
    # API: staff of the other street see none of it
    xl = _api(make_organiser(w["xl"]))
    assert xl.get(f"/api/v1/volunteering/errands/{asked.pk}").status_code == 404
    assert xl.get("/api/v1/volunteering/errands").json()["count"] == 0
