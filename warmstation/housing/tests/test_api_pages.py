"""The flat through the API and the pages: a worker books and sees the taken nights, a refused
booking names them (problem+json and the form), the steward checks the family in and out, the
worker's number stays masked on the desk."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import as_level, make_station, make_user, make_worker, signed_in
from warmstation.accounts.models import AuthLevel, Role
from warmstation.housing.models import Booking, FlatNight
from warmstation.housing.tests.factories import make_flat

pytestmark = pytest.mark.django_db


def _d(n):
    return (timezone.localdate() + timedelta(days=n)).isoformat()


@pytest.fixture
def w(tree):
    steward = as_level(make_user(Role.STEWARD, tree["ylj"]), AuthLevel.PASSWORD)
    station = make_station(tree["ylj"], 39.74, 116.14, steward=steward)
    flat = make_flat(tree["gc"], station=station)
    worker = as_level(make_worker([tree["ylj"]]), AuthLevel.CODE)
    worker.real_name = "王大力"
    worker.save(update_fields=["real_name"])
    return {"flat": flat, "steward": steward, "worker": worker, **tree,
            "other": as_level(make_worker([tree["sz"]]), AuthLevel.CODE),
            "steward_other": as_level(make_user(Role.STEWARD, tree["sz"]), AuthLevel.PASSWORD)}


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_api_booking_calendar_and_refusal(w):
    client = signed_in(w["worker"], AuthLevel.CODE)
    url = f"/api/v1/housing/flats/{w['flat'].pk}/bookings"
    ok = _post(client, url, {"check_in": _d(2), "check_out": _d(4),
                             "visitors": [{"name": "王芳", "relation": "spouse"}]})
    assert ok.status_code == 201, ok.content
    assert ok.json()["nights"] == 2 and ok.json()["worker_mobile"] == w["worker"].mobile
    cal = client.get(f"/api/v1/housing/flats/{w['flat'].pk}/calendar?days=7").json()
    assert cal["taken_nights"] == [_d(2), _d(3)]
    flat = client.get(f"/api/v1/housing/flats/{w['flat'].pk}").json()
    assert {e["code"] for e in flat["equipment"]} == {"fridge", "washer", "induction_cooker"}
    other = signed_in(w["other"], AuthLevel.CODE)
    refused = _post(other, url, {"check_in": _d(3), "check_out": _d(5),
                                 "visitors": [{"name": "李母", "relation": "parent"}]})
    assert refused.status_code == 409
    assert refused["Content-Type"] == "application/problem+json"
    body = refused.json()
    assert body["code"] == "nights_taken" and body["taken_nights"] == [_d(3)]
    assert _d(3) in body["detail"]["zh"] and _d(3) in body["detail"]["en"]
    touching = _post(other, url, {"check_in": _d(4), "check_out": _d(6),
                                  "visitors": [{"name": "李母", "relation": "parent"}]})
    assert touching.status_code == 201
    # The other worker does not see the first worker's booking.
    assert other.get(f"/api/v1/housing/bookings/{ok.json()['id']}").status_code == 404
    assert other.get("/api/v1/housing/bookings").json()["count"] == 1


def test_api_steward_checks_in_and_out_with_the_worker_masked(w):
    worker = signed_in(w["worker"], AuthLevel.CODE)
    booking = _post(worker, f"/api/v1/housing/flats/{w['flat'].pk}/bookings",
                    {"check_in": _d(0), "check_out": _d(3),
                     "visitors": [{"name": "王芳", "relation": "spouse"}]}).json()
    steward = signed_in(w["steward"], AuthLevel.PASSWORD)
    listed = steward.get("/api/v1/housing/bookings?managed=true").json()
    assert listed["count"] == 1
    assert listed["items"][0]["worker_mobile"] != w["worker"].mobile
    assert "****" in listed["items"][0]["worker_mobile"]
    assert listed["items"][0]["visitors"] == [{"name": "王芳", "relation": "spouse"}]
    far = signed_in(w["steward_other"], AuthLevel.PASSWORD)
    assert far.post(f"/api/v1/housing/bookings/{booking['id']}/check-in").status_code == 404
    assert worker.post(f"/api/v1/housing/bookings/{booking['id']}/check-in").status_code == 403
    done = steward.post(f"/api/v1/housing/bookings/{booking['id']}/check-in")
    assert done.status_code == 200 and done.json()["status"] == "checked_in"
    again = steward.post(f"/api/v1/housing/bookings/{booking['id']}/check-in")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    out = steward.post(f"/api/v1/housing/bookings/{booking['id']}/check-out")
    assert out.json()["status"] == "checked_out"
    assert FlatNight.objects.count() == 0


def test_pages_book_refuse_with_the_taken_nights_cancel(w):
    worker = signed_in(w["worker"], AuthLevel.CODE)
    page = worker.get("/housing/")
    assert page.status_code == 200 and "冰箱" in page.content.decode()
    url = f"/housing/flats/{w['flat'].pk}/"
    form = {"check_in": _d(2), "check_out": _d(5), "name_0": "王芳", "relation_0": "spouse"}
    assert worker.post(url, form).status_code == 302
    shown = worker.get(url).content.decode()
    assert f'class="night taken" data-night="{_d(3)}"' in shown
    assert f'class="night free" data-night="{_d(5)}"' in shown  # check-out day is free
    other = signed_in(w["other"], AuthLevel.CODE)
    refused = other.post(url, {**form, "check_in": _d(4), "check_out": _d(6), "name_0": "李母",
                               "relation_0": "parent"})
    assert refused.status_code == 409
    text = refused.content.decode()
    assert _d(4) in text and 'value="李母"' in text  # the nights named, the input kept
    booking = Booking.objects.get()
    assert worker.post(f"/housing/bookings/{booking.pk}/cancel/").status_code == 302
    assert FlatNight.objects.count() == 0
    assert other.post(url, {**form, "name_0": "李母"}).status_code == 302


def test_desk_page_for_the_steward_only(w):
    worker = signed_in(w["worker"], AuthLevel.CODE)
    worker.post(f"/housing/flats/{w['flat'].pk}/", {"check_in": _d(0), "check_out": _d(2),
                                                   "name_0": "王芳", "relation_0": "spouse"})
    booking = Booking.objects.get()
    steward = signed_in(w["steward"], AuthLevel.PASSWORD)
    desk = steward.get("/housing/desk/").content.decode()
    assert "王芳" in desk and "王**" in desk and w["worker"].mobile not in desk
    far = signed_in(w["steward_other"], AuthLevel.PASSWORD).get("/housing/desk/")
    assert "王芳" not in far.content.decode()
    assert steward.post(f"/housing/desk/bookings/{booking.pk}/check-in/").status_code == 302
    assert Booking.objects.get().status == "checked_in"
    assert steward.post(f"/housing/desk/bookings/{booking.pk}/check-out/").status_code == 302
    assert Booking.objects.get().status == "checked_out"
    assert worker.get("/housing/desk/").status_code == 403


def test_the_pages_and_refusals_in_english(w):
    worker = signed_in(w["worker"], AuthLevel.CODE)
    en = {"HTTP_ACCEPT_LANGUAGE": "en"}
    page = worker.get(f"/housing/flats/{w['flat'].pk}/", **en).content.decode()
    assert "Free nights" in page and "Fridge" in page and "Induction cooker" in page
    assert "空房日历" not in page
    form = {"check_in": _d(2), "check_out": _d(4), "name_0": "王芳", "relation_0": "spouse"}
    worker.post(f"/housing/flats/{w['flat'].pk}/", form)
    other = signed_in(w["other"], AuthLevel.CODE)
    refused = other.post(f"/housing/flats/{w['flat'].pk}/", form, **en).content.decode()
    assert f"These nights are already booked: {_d(2)}, {_d(3)}" in refused


def test_home_links_to_housing_and_the_desk(w):
    home = signed_in(w["worker"], AuthLevel.CODE).get("/").content.decode()
    assert 'href="/housing/"' in home
    steward = signed_in(w["steward"], AuthLevel.PASSWORD).get("/").content.decode()
    assert 'href="/housing/desk/"' in steward
