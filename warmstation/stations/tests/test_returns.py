"""Taking lent items back. By id only a station's own loans (a guessable id never reaches another
station's loan); at any station by what the worker shows — their mobile and the item."""

import pytest

from tests.factories import make_station, make_user, make_worker, signed_in
from warmstation.accounts.models import AuthLevel, Role
from warmstation.stations import services
from warmstation.stations.models import Loan, Stock


@pytest.fixture
def w(tree):
    here = make_station(tree["ylj"], 39.748, 116.14, steward=make_user(Role.STEWARD, tree["ylj"]),
                        stock={"umbrella": 1})
    there = make_station(tree["sz"], 39.72, 116.11, steward=make_user(Role.STEWARD, tree["sz"]),
                         stock={"umbrella": 1})
    worker = make_worker([tree["ylj"]], mobile="13612340001")
    loan = services.loan_create(actor=there.steward, station=there, item_code="umbrella",
                                worker=worker)
    return {"here": here, "there": there, "worker": worker, "loan": loan}


def _api(w, who):
    return signed_in(w[who].steward, AuthLevel.PASSWORD)


def test_an_id_does_not_reach_another_stations_loan(w):
    response = _api(w, "here").post(f"/api/v1/stations/{w['here'].pk}/loans/{w['loan'].pk}/return")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    w["loan"].refresh_from_db()
    assert w["loan"].returned_at is None


def test_a_station_takes_back_an_item_lent_elsewhere_by_mobile_and_item(w):
    url = f"/api/v1/stations/{w['here'].pk}/returns"
    client = _api(w, "here")
    body = {"item": "umbrella", "worker_mobile": "13612340001"}
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["id"] == w["loan"].pk and response.json()["returned_at"]
    assert Stock.objects.get(station=w["here"]).quantity == 2  # onto this station's shelf
    # Nothing more open for that worker and item: looks missing.
    assert client.post(url, body, content_type="application/json").status_code == 404


@pytest.mark.parametrize("body, status", [
    ({"item": "water", "worker_mobile": "13612340001"}, 404),   # no such loan
    ({"item": "umbrella", "worker_mobile": "13999999999"}, 422),  # nobody with that mobile
])
def test_return_by_borrower_refusals_change_nothing(w, body, status):
    response = _api(w, "here").post(f"/api/v1/stations/{w['here'].pk}/returns", body,
                                    content_type="application/json")
    assert response.status_code == status
    if status == 422:
        assert response.json()["code"] == "unknown_worker"
    assert Loan.objects.filter(returned_at=None).count() == 1


def test_the_console_form_takes_back_an_item_lent_elsewhere(w):
    client = signed_in(w["here"].steward, AuthLevel.PASSWORD)
    response = client.post(f"/steward/{w['here'].pk}/returns/",
                           {"item": "umbrella", "mobile": "136 1234 0001"})
    assert response.status_code == 302
    w["loan"].refresh_from_db()
    assert w["loan"].returned_at is not None
