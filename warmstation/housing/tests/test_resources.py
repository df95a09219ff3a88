"""Housing resources and rental intentions: the office adds resources, a worker applies, the
office moves the application to a signed intention; figures by area; scoping."""

import json

import pytest

from tests.factories import as_level, make_user, make_worker, signed_in
from warmstation.accounts.models import AuthLevel, Role
from warmstation.core.errors import Conflict, InvalidInput
from warmstation.housing import services
from warmstation.housing.models import RentalApplication, Resource
from warmstation.housing.selectors import resource_figures

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(tree):
    office = as_level(make_user(Role.HOUSING_OFFICE, tree["gc"]), AuthLevel.PASSWORD)
    flat = services.resource_save(actor=office, resource=Resource(), kind="converted_flat",
                                  name="拱辰改建公寓", area=tree["ylj"], address="拱辰路1号",
                                  rooms=8, beds=16, available=8, rent=800)
    return {**tree, "office": office, "flat": flat,
            "office_xl": as_level(make_user(Role.HOUSING_OFFICE, tree["xl"]), AuthLevel.PASSWORD),
            "worker": as_level(make_worker([tree["ylj"]]), AuthLevel.CODE)}


def test_an_application_moves_to_a_signed_intention(w):
    application = services.rental_apply(worker=w["worker"], resource=w["flat"], people=2)
    with pytest.raises(Conflict):
        services.rental_apply(worker=w["worker"], resource=w["flat"])  # one open at a time
    for action in ("review", "viewing", "sign"):
        services.rental_move(actor=w["office"], application=application, action=action)
    application.refresh_from_db()
    assert application.status == "signed" and application.signed_at is not None
    with pytest.raises(Conflict) as late:
        services.rental_move(actor=w["office"], application=application, action="decline",
                             note="已无空房")
    assert late.value.code == "invalid_transition"
    figures = resource_figures(Resource.objects.all(), RentalApplication.objects.all())
    assert figures == [{"code": "GC", "name": "拱辰街道", "resources": 1, "rooms": 8,
                        "beds": 16, "available": 8, "open": 0, "signed": 1}]


def test_declining_needs_a_reason_and_the_worker_may_withdraw(w):
    application = services.rental_apply(worker=w["worker"], resource=w["flat"])
    with pytest.raises(InvalidInput):
        services.rental_move(actor=w["office"], application=application, action="decline")
    services.rental_move(actor=w["worker"], application=application, action="withdraw")
    assert RentalApplication.objects.get().status == "withdrawn"
    services.rental_apply(worker=w["worker"], resource=w["flat"])  # may apply again


def test_api_and_pages_scoped_to_the_office(w):
    worker = signed_in(w["worker"], AuthLevel.CODE)
    made = worker.post(f"/api/v1/housing/resources/{w['flat'].pk}/applications",
                       json.dumps({"people": 2}), content_type="application/json")
    assert made.status_code == 201, made.content
    rid = made.json()["id"]
    far = signed_in(w["office_xl"], AuthLevel.PASSWORD)
    step = {"action": "review"}
    assert far.post(f"/api/v1/housing/rental-applications/{rid}/steps", json.dumps(step),
                    content_type="application/json").status_code == 404
    office = signed_in(w["office"], AuthLevel.PASSWORD)
    moved = office.post(f"/api/v1/housing/rental-applications/{rid}/steps", json.dumps(step),
                        content_type="application/json")
    assert moved.status_code == 200 and moved.json()["status"] == "reviewing"
    assert "****" in moved.json()["worker_mobile"]
    assert worker.post(f"/api/v1/housing/rental-applications/{rid}/steps",
                       json.dumps({"action": "sign"}),
                       content_type="application/json").status_code == 404
    assert office.post(f"/housing/office/applications/{rid}/",
                       {"action": "sign"}).status_code == 302
    assert RentalApplication.objects.get().status == "signed"
    page = office.get("/housing/office/").content.decode()
    assert 'data-signed="1"' in page
    assert 'data-signed="1"' not in far.get("/housing/office/").content.decode()
    assert worker.get("/housing/resources/").status_code == 200
    figures = office.get("/api/v1/housing/figures").json()
    assert figures["areas"][0]["signed"] == 1
