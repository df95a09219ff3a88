"""The goods cabinet: stock in and out, lending and returns, never below zero — including
under real concurrency on PostgreSQL — and who may change a station."""

import threading

import pytest
from django.db import connection, connections
from django.test import Client

from tests.factories import make_station, make_user, make_worker, signed_in
from warmstation.accounts.models import AuthLevel, Role
from warmstation.core.errors import ApplicationError
from warmstation.core.models import AuditEvent
from warmstation.stations import services
from warmstation.stations.models import Loan, Stock, StockMovement


@pytest.fixture
def station(tree):
    steward = make_user(Role.STEWARD, tree["ylj"])
    return make_station(tree["ylj"], 39.748, 116.14, steward=steward,
                        stock={"umbrella": 2, "water": 10})


def test_lend_and_return(station, tree):
    worker = make_worker([tree["ylj"]])
    loan = services.loan_create(actor=station.steward, station=station, item_code="umbrella",
                                worker=worker)
    assert Stock.objects.get(station=station, item__code="umbrella").quantity == 1
    services.loan_return(actor=station.steward, loan=loan)
    assert Stock.objects.get(station=station, item__code="umbrella").quantity == 2
    with pytest.raises(ApplicationError) as err:
        services.loan_return(actor=station.steward, loan=loan)
    assert err.value.code == "already_returned"
    assert Stock.objects.get(station=station, item__code="umbrella").quantity == 2
    reasons = list(StockMovement.objects.filter(station=station).values_list("reason", flat=True))
    assert sorted(reasons) == ["lend", "return"]


def test_never_lends_more_than_on_the_shelf(station, tree):
    worker = make_worker([tree["ylj"]])
    for _ in range(2):
        services.loan_create(actor=None, station=station, item_code="umbrella", worker=worker)
    with pytest.raises(ApplicationError) as err:
        services.loan_create(actor=None, station=station, item_code="umbrella", worker=worker)
    assert err.value.code == "out_of_stock"
    assert Loan.objects.filter(station=station).count() == 2


def test_give_out_refuses_to_go_negative(station):
    services.stock_change(actor=None, station=station, item_code="water", delta=-10,
                          reason="out")
    with pytest.raises(ApplicationError):
        services.stock_change(actor=None, station=station, item_code="water", delta=-1,
                              reason="out")
    with pytest.raises(ApplicationError):
        services.stock_change(actor=None, station=station, item_code="water", delta=5,
                              reason="out")
    assert Stock.objects.get(station=station, item__code="water").quantity == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_lending_never_exceeds_stock(tree):
    station = make_station(tree["ylj"], 39.748, 116.14, stock={"umbrella": 3})
    workers = [make_worker([tree["ylj"]]) for _ in range(12)]
    barrier = threading.Barrier(len(workers))
    results = []

    def borrow(worker):
        try:
            barrier.wait()
            services.loan_create(actor=None, station=station, item_code="umbrella",
                                 worker=worker)
            results.append("ok")
        except ApplicationError as exc:
            results.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=borrow, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 3
    assert results.count("out_of_stock") == 9
    assert Stock.objects.get(station=station).quantity == 0
    assert Loan.objects.filter(station=station).count() == 3


def test_overdue_list(station, tree):
    from datetime import timedelta

    from django.utils import timezone

    from warmstation.stations.selectors import overdue_loans

    worker = make_worker([tree["ylj"]])
    late = services.loan_create(actor=None, station=station, item_code="umbrella", worker=worker)
    services.loan_create(actor=None, station=station, item_code="umbrella", worker=worker)
    Loan.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=1))
    assert list(overdue_loans(stations=[station])) == [late]


@pytest.fixture
def people(station, tree):
    other = make_station(tree["sz"], 39.72, 116.11, steward=make_user(Role.STEWARD, tree["sz"]))
    return {
        "anonymous": (None, None),
        "worker": (make_worker([tree["ylj"]]), AuthLevel.CODE),
        "own_steward": (station.steward, AuthLevel.PASSWORD),
        "other_steward": (other.steward, AuthLevel.PASSWORD),
        "gc_admin": (make_user(Role.AREA_ADMIN, tree["gc"]), AuthLevel.MFA),
        "xl_admin": (make_user(Role.AREA_ADMIN, tree["xl"]), AuthLevel.MFA),
        "district": (make_user(Role.DISTRICT_ADMIN, tree["district"]), AuthLevel.MFA),
    }


@pytest.mark.parametrize("who, status", [
    ("anonymous", 401), ("worker", 403), ("other_steward", 404), ("xl_admin", 404),
    ("own_steward", 201), ("gc_admin", 201), ("district", 201),
])
def test_who_may_lend(people, station, tree, who, status):
    user, level = people[who]
    client = Client() if user is None else signed_in(user, level)
    borrower = make_worker([tree["ylj"]], mobile="13611112222")
    response = client.post(f"/api/v1/stations/{station.pk}/loans",
                           {"item": "umbrella", "worker_mobile": borrower.mobile},
                           content_type="application/json")
    assert response.status_code == status, response.content
    assert Loan.objects.filter(station=station).exists() == (status == 201)
    if status == 201:
        assert response.json()["worker_masked"] == "136****2222"
        assert AuditEvent.objects.filter(action="loan.create").exists()


@pytest.mark.parametrize("who, status", [
    ("anonymous", 401), ("worker", 403), ("other_steward", 404), ("own_steward", 200),
    ("xl_admin", 404), ("gc_admin", 200),
])
def test_who_may_change_hours(people, station, who, status):
    user, level = people[who]
    client = Client() if user is None else signed_in(user, level)
    response = client.put(f"/api/v1/stations/{station.pk}/hours",
                          {"spans": [{"weekday": 0, "opens": "18:00", "closes": "02:00"}]},
                          content_type="application/json")
    assert response.status_code == status
    assert station.hours.count() == (1 if status == 200 else 0)
    if status == 200:
        assert response.json()["hours"] == ["周一 18:00–次日02:00"]


def test_public_card_and_hidden_inactive_station(people, station):
    assert Client().get(f"/api/v1/stations/{station.pk}").status_code == 200
    station.is_active = False
    station.save()
    assert Client().get(f"/api/v1/stations/{station.pk}").status_code == 404
    steward, level = people["own_steward"]
    assert signed_in(steward, level).get(f"/api/v1/stations/{station.pk}").status_code == 200


def test_steward_lists_only_their_stations(people, station):
    steward, level = people["own_steward"]
    body = signed_in(steward, level).get("/api/v1/stations").json()
    ids = [s["id"] for s in body["items"]]
    assert body["count"] == 1
    assert ids == [station.pk]


def test_service_record_and_check_in(people, station, tree):
    steward, level = people["own_steward"]
    from warmstation.stations.models import ServiceItem

    ServiceItem.objects.create(code="charge_phone", name_zh="手机充电")
    response = signed_in(steward, level).post(
        f"/api/v1/stations/{station.pk}/services",
        {"service": "charge_phone", "worker_label": "匿名小哥"}, content_type="application/json")
    assert response.status_code == 201
    worker, wlevel = people["worker"]
    client = signed_in(worker, wlevel)
    first = client.post("/api/v1/stations/check-in", {"token": station.checkin_token},
                        content_type="application/json")
    again = client.post("/api/v1/stations/check-in", {"token": station.checkin_token},
                        content_type="application/json")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]  # one check-in per hour counts
    bad = client.post("/api/v1/stations/check-in", {"token": "nope"},
                      content_type="application/json")
    assert bad.status_code == 404
    from warmstation.stations.selectors import served_by_month

    rows = served_by_month(stations=[station])
    # One anonymous service and one worker's check-in: two people, two records.
    assert rows[0]["records"] == 2 and rows[0]["workers"] == 1 and rows[0]["people"] == 2
