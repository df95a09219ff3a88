"""The worker's and the organiser's pages and the API, end to end through the test client:
create a task and a shift, sign up, scan in and out, confirm; scoping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import as_level, make_user, make_worker, signed_in
from warmstation.accounts.models import AuthLevel, Role
from warmstation.accounts.services import api_token_issue
from warmstation.points.tests.factories import make_rule
from warmstation.volunteering.models import Shift, Signup, VolunteerTask
from warmstation.volunteering.tests.factories import PLACE, make_organiser, make_shift, make_task


@pytest.fixture
def w(tree):
    make_rule("volunteer_shift", 20)
    worker = as_level(make_worker([tree["ylj"]]), AuthLevel.CODE)
    return {**tree, "organiser": make_organiser(tree["gc"]),
            "organiser_xl": make_organiser(tree["xl"]), "worker": worker}


def _api(user, level):
    from django.test import Client

    return Client(headers={"Authorization": f"Bearer {api_token_issue(user=user, auth_level=level)}"})


def test_organiser_pages_create_a_task_and_an_overnight_shift(w):
    c = signed_in(w["organiser"], AuthLevel.PASSWORD)
    r = c.post("/volunteer/organise/", {"area": "YLJ", "kind": "patrol", "title": "行走的哨兵",
                                        "place_name": "拱辰城管指挥中心", "lat": "39.7207",
                                        "lng": "116.1101", "checkin_radius_m": "300"})
    assert r.status_code == 302
    task = VolunteerTask.objects.get(title="行走的哨兵")
    day = (timezone.localdate() + timedelta(days=2)).isoformat()
    r = c.post(f"/volunteer/organise/tasks/{task.pk}/",
               {"date": day, "starts": "22:00", "ends": "06:00", "capacity": "5"})
    assert r.status_code == 302, r.content[:500]
    shift = Shift.objects.get(task=task)
    assert shift.duration == timedelta(hours=8)
    page = c.get(f"/volunteer/organise/tasks/{task.pk}/")
    assert b"<svg" in page.content and task.checkin_token.encode() in page.content
    # a refused form keeps what was typed, with the message beside the field
    r = c.post(f"/volunteer/organise/tasks/{task.pk}/",
               {"date": day, "starts": "22:00", "ends": "06:00", "capacity": "0",
                "note": "MARKNOTE"})
    assert r.status_code == 422 and b"MARKNOTE" in r.content
    # the other street's organiser does not see it
    other = signed_in(w["organiser_xl"], AuthLevel.PASSWORD)
    assert other.get(f"/volunteer/organise/tasks/{task.pk}/").status_code == 404
    assert other.post("/volunteer/organise/", {"area": "YLJ", "kind": "patrol", "title": "x",
                                               "place_name": "y", "lat": "39.7",
                                               "lng": "116.1"}).status_code == 422


def test_worker_signs_up_scans_in_and_out_organiser_confirms_points(w):
    task = make_task(w["ylj"], organiser=w["organiser"])
    start = timezone.now() + timedelta(minutes=20)
    shift = make_shift(task, starts_at=start, hours=2)
    c = signed_in(w["worker"], AuthLevel.CODE)
    assert task.title.encode() in c.get("/volunteer/").content
    assert c.get(f"/volunteer/?lat={PLACE[0]}&lng={PLACE[1]}").status_code == 200
    assert c.get(f"/volunteer/tasks/{task.pk}/").status_code == 200
    assert c.post(f"/volunteer/shifts/{shift.pk}/signup/").status_code == 302
    s = Signup.objects.get(worker=w["worker"])
    assert s.status == "placed"
    page = c.get(f"/volunteer/check/{task.checkin_token}/")
    assert "确认签到" in page.content.decode()
    r = c.post(f"/volunteer/check/{task.checkin_token}/",
               {"lat": str(PLACE[0] + 0.02), "lng": str(PLACE[1])})
    assert r.status_code == 409 and "超出" in r.content.decode()
    r = c.post(f"/volunteer/check/{task.checkin_token}/",
               {"lat": str(PLACE[0]), "lng": str(PLACE[1])})
    assert r.status_code == 200 and "签到成功" in r.content.decode()
    r = c.post(f"/volunteer/check/{task.checkin_token}/", {})
    assert "签退成功" in r.content.decode()
    assert c.get(f"/volunteer/check/nope{task.checkin_token}/").status_code == 404
    mine = c.get("/volunteer/mine/")
    assert task.title in mine.content.decode()
    # the organiser's desk: confirm (a zero-minute attendance pays nothing: it is checked out)
    desk = signed_in(w["organiser"], AuthLevel.PASSWORD)
    assert w["worker"].mobile.encode() in desk.get(f"/volunteer/organise/shifts/{shift.pk}/").content
    assert desk.post(f"/volunteer/organise/signups/{s.pk}/", {"action": "confirm"}).status_code == 302
    s.refresh_from_db()
    assert s.confirmed_at is not None
    other = signed_in(w["organiser_xl"], AuthLevel.PASSWORD)
    assert other.post(f"/volunteer/organise/signups/{s.pk}/",
                      {"action": "confirm"}).status_code == 404


def test_the_api_runs_the_same_flow(w):
    org = _api(w["organiser"], AuthLevel.PASSWORD)
    r = org.post("/api/v1/volunteering/tasks", {
        "area_code": "YLJ", "kind": "checkpoint", "title": "社区检查岗", "place_name": "北门",
        "lat": PLACE[0], "lng": PLACE[1]}, content_type="application/json")
    assert r.status_code == 201, r.content
    task_id = r.json()["id"]
    start = (timezone.now() + timedelta(minutes=30)).isoformat()
    end = (timezone.now() + timedelta(hours=3)).isoformat()
    r = org.post(f"/api/v1/volunteering/tasks/{task_id}/shifts",
                 {"starts_at": start, "ends_at": end, "capacity": 1},
                 content_type="application/json")
    assert r.status_code == 201, r.content
    shift_id = r.json()["id"]
    api = _api(w["worker"], AuthLevel.CODE)
    assert api.get("/api/v1/volunteering/tasks?mine=true").json()["count"] == 1
    near = api.get(f"/api/v1/volunteering/tasks/nearby?lat={PLACE[0]}&lng={PLACE[1]}").json()
    assert near["tasks"][0]["id"] == task_id and near["tasks"][0]["distance_m"] == 0
    r = api.post(f"/api/v1/volunteering/shifts/{shift_id}/signup")
    assert r.status_code == 201 and r.json()["status"] == "placed"
    signup_id = r.json()["id"]
    token = VolunteerTask.objects.get(pk=task_id).checkin_token
    r = api.post("/api/v1/volunteering/check", {"token": token, "lat": PLACE[0], "lng": PLACE[1]},
                 content_type="application/json")
    assert r.status_code == 200 and r.json()["checked_in_at"]
    assert api.post("/api/v1/volunteering/check", {"token": "nope"},
                    content_type="application/json").status_code == 404
    r = org.get(f"/api/v1/volunteering/shifts/{shift_id}/roster")
    assert r.json()["count"] == 1
    r = org.post(f"/api/v1/volunteering/signups/{signup_id}/attendance", {"action": "check_out"},
                 content_type="application/json")
    assert r.status_code == 200 and r.json()["checked_out_at"]
    r = org.post(f"/api/v1/volunteering/signups/{signup_id}/confirm")
    assert r.status_code == 200 and r.json()["confirmed"]
    hours = api.get("/api/v1/volunteering/me/hours").json()
    assert hours["shifts"] == 1
    assert api.get("/api/v1/volunteering/me/signups").json()["count"] == 1
    # someone else's sign-up cannot be cancelled; the other street's organiser sees nothing
    other = _api(as_level(make_worker([w["sz"]]), AuthLevel.CODE), AuthLevel.CODE)
    assert other.post(f"/api/v1/volunteering/signups/{signup_id}/cancel").status_code == 404
    xl = _api(w["organiser_xl"], AuthLevel.PASSWORD)
    assert xl.get(f"/api/v1/volunteering/shifts/{shift_id}/roster").status_code == 404
    assert xl.post(f"/api/v1/volunteering/signups/{signup_id}/confirm").status_code == 404
    resident = _api(make_user(Role.RESIDENT, w["gc"]), AuthLevel.CODE)
    assert resident.get("/api/v1/volunteering/tasks").status_code == 403


def test_the_pages_read_in_english(w):
    from django.conf import settings

    task = make_task(w["ylj"], organiser=w["organiser"])
    shift = make_shift(task)
    c = signed_in(w["worker"], AuthLevel.CODE)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = c.get(f"/volunteer/tasks/{task.pk}/").content.decode()
    assert "Sign up" in page and "Checkpoint duty" in page and "报名" not in page
    r = c.post(f"/volunteer/shifts/{shift.pk}/signup/", follow=True)
    assert "Signed up." in r.content.decode()
    desk = signed_in(w["organiser"], AuthLevel.PASSWORD)
    desk.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = desk.get(f"/volunteer/organise/shifts/{shift.pk}/").content.decode()
    assert "Roster · check-in desk" in page and "签到台" not in page


def test_the_periodic_job_is_registered():
    from django.conf import settings

    assert ("volunteering", "warmstation.volunteering.services.volunteering_tick") in \
        settings.PERIODIC_JOBS
