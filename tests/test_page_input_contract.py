"""Every page, posted (and queried) with values outside any form's contract: numbers beyond the
database's integers, days out of range, times that are no time, text at the length limit and
past it, control characters. Whatever the page does with them, it answers without a 5xx; a
control character is always refused (422) before any view runs.

Pages and form field names come from the URL configuration and the templates, so a new page or
a new field is driven without touching this file. Deterministic in CI; FUZZ_RANDOM=1 explores."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import get_resolver
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.factories import (
    build_area_tree,
    make_appeal_setup,
    make_merchant,
    make_offer,
    make_station,
    make_user,
    make_worker,
    once_per_module,
    signed_in,
)
from warmstation.accounts.models import AuthLevel, Role

SKIP_PREFIXES = ("api/", "hsds/", "open311/", "admin/", "^media", "i18n/", "healthz", "readyz", "metrics", "logout/",
                 "me/close/")


def _walk(patterns, prefix=""):
    for p in patterns:
        if hasattr(p, "url_patterns"):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        else:
            yield prefix + str(p.pattern)


PAGES = sorted({route for route in _walk(get_resolver().url_patterns)
                if not route.startswith(SKIP_PREFIXES)})
FIELDS = sorted({name for path in Path(settings.BASE_DIR, "warmstation").rglob("*.html")
                 for name in re.findall(r'name="([a-z_]+[0-9]*)"', path.read_text())
                 if name not in ("csrfmiddlewaretoken", "next")})
BAD = ["9" * 25, str(2**63), "-5", "0", "1e30", "NaN", "Infinity", "0001-01-01", "9999-12-31",
       "2024-02-30", "25:99", "12345", "长" * 5000, "١٢٣", "²", "１２", "", " ", "%", "' OR 1=1 --"]
CONTROL = ["a\x00b", "\x1b[2J", "a\x7fb", "a\u2028b"]


def _jpeg() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 16), "orange").save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def world_once(django_db_setup, django_db_blocker):
    with once_per_module(django_db_blocker):
        yield _build_world()


@pytest.fixture
def world(world_once, db):
    return world_once


def _build_world():
    from warmstation.appeals import services as appeal_services
    from warmstation.stations import services as station_services

    tree = build_area_tree()
    people = make_appeal_setup(tree)
    worker = make_worker([tree["ylj"]])
    station = make_station(tree["ylj"], 39.72, 116.11, stock={"umbrella": 3})
    loan = station_services.loan_create(actor=None, station=station, item_code="umbrella",
                                        worker=worker)
    merchant_staff = make_user(Role.MERCHANT, tree["gc"])
    merchant = make_merchant(tree["gc"], staff=merchant_staff)
    offer = make_offer(merchant)
    appeal = appeal_services.appeal_create(
        actor=people["worker"], category=people["cats"]["housing"], area=tree["ylj"],
        title="住宿难", body="找不到短租房", submitter=people["worker"])
    from warmstation.housing.services import booking_create
    from warmstation.housing.tests.factories import FAMILY, make_flat

    flat = make_flat(tree["gc"], station=station)
    today = timezone.localdate()
    booking = booking_create(worker=worker, flat=flat, check_in=today,
                             check_out=today + timedelta(days=2), visitors=FAMILY)
    from datetime import date

    from warmstation.union import services as union

    application = union.membership_apply(user=worker, area=tree["ylj"], employer="申通快递",
                                         job_type="courier", consent=True)
    batch = union.batch_enrol(actor=people["district"], title="集中入会",
                              held_on=date(2026, 11, 20), area=tree["ylj"],
                              rows=[union.BatchRow(1, "张三", "13900000061")],
                              consent_confirmed=True)
    from warmstation.housing.models import Resource
    from warmstation.housing.services import rental_apply, resource_save, survey_save

    survey = survey_save(worker=worker, area=tree["ylj"], housing="own", rent=None,
                         commute_minutes=10, household=1, needs=set())
    resource = resource_save(actor=None, resource=Resource(), kind="dormitory", name="宿舍",
                             area=tree["ylj"], address="拱辰")
    rental = rental_apply(worker=worker, resource=resource)
    from warmstation.reports import services as report_services
    from warmstation.reports.models import ReportCategory

    report_services.report_categories_seed()  # a flushing test may have emptied it
    photo = report_services.photo_upload(actor=people["worker"], data=_jpeg())
    problem, _ = report_services.report_create(
        actor=people["worker"], category=ReportCategory.objects.get(code="exposed_garbage"),
        lat=39.72, lng=116.11, area=tree["ylj"], photo_ids=[photo.pk])
    ids = {"survey_id": survey.pk, "resource_id": resource.pk, "rental_id": rental.pk,
           "application_id": application.pk, "batch_id": batch.pk,
           "flat_id": flat.pk, "booking_id": booking.pk,
           "problem_id": problem.pk, "photo_id": photo.pk, "client_id": 1,
           "station_id": station.pk, "loan_id": loan.pk, "merchant_id": merchant.pk,
           "offer_id": offer.pk, "appeal_id": appeal.pk, "worker_id": worker.worker_profile.pk,
           "contact_id": tree["gc"].contacts.first().pk, "redemption_id": 1, "attachment_id": 1,
           "code": "GC", "token": station.checkin_token, "notice_id": 1, "group_id": 1,
           "channel_id": 1, "member_id": 1, "message_id": 1, "join_token": "x",
           "exception_id": 1}
    from warmstation.volunteering.services import shift_signup
    from warmstation.volunteering.tests.factories import make_shift, make_task

    task = make_task(tree["ylj"])
    shift = make_shift(task)
    from warmstation.volunteering.errands import errand_post

    ids["errand_id"] = errand_post(actor=organiser_user(tree), area=tree["ylj"], title="买菜",
                                   resident_name="王奶奶", resident_address="3号楼").pk
    from warmstation.volunteering.models import Issuer, ServiceRecord

    record = ServiceRecord.objects.create(
        number="FSVRPAGE1", worker=people["worker"], masked_name="张*", minutes=60,
        issuer=Issuer.objects.create(name="平台", responsible_person="甲", clerk="乙",
                                     contact="1"))
    ids.update(record_id=record.pk, number=record.number)
    ids.update(task_id=task.pk, shift_id=shift.pk,
               signup_id=shift_signup(worker=people["worker"], shift_id=shift.pk).pk)
    organiser = make_user(Role.ORGANISER, tree["gc"])
    clients = [signed_in(people["district"]), signed_in(people["worker"], AuthLevel.CODE),
               signed_in(merchant_staff, AuthLevel.PASSWORD),
               signed_in(people["rsj_staff"], AuthLevel.PASSWORD)]
    steward = make_user(Role.STEWARD, tree["ylj"])
    station.steward = steward
    station.save()
    clients.append(signed_in(steward, AuthLevel.PASSWORD))
    clients.append(signed_in(organiser, AuthLevel.PASSWORD))
    return {"ids": ids, "clients": clients}


def organiser_user(tree):
    return make_user(Role.ORGANISER, tree["gc"])


def _url(route: str, ids: dict) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), route)


def test_pages_and_fields_are_found():
    assert len(PAGES) > 30 and {"title", "body", "mobile", "points", "date"} <= set(FIELDS)


@pytest.mark.parametrize("route", PAGES)
def test_a_page_answers_bad_input_without_a_server_error(world, route):
    url = _url(route, world["ids"])
    # The people who may open the page (the others are refused before any input is read).
    allowed = [c for c in world["clients"] if c.get(url).status_code < 400] or world["clients"]
    # Every field of every form at once, each with a value drawn from BAD (sometimes one with a
    # control character): whichever fields this page reads, they get bad values.
    forms = st.fixed_dictionaries({name: st.sampled_from(BAD) for name in FIELDS})

    @given(who=st.sampled_from(allowed), form=forms, control=st.sampled_from([None, *CONTROL]),
           method=st.sampled_from(["post", "post", "get"]))
    @hsettings(max_examples=10, deadline=None, database=None,
               derandomize=os.environ.get("FUZZ_RANDOM") != "1",
               suppress_health_check=list(HealthCheck))
    def check(who, form, control, method):
        if control is not None:
            form = {**form, FIELDS[len(form["title"]) % len(FIELDS)]: control}
        if method == "get":  # a query string is bounded by the web server: keep it short
            form = {k: v[:100] for k, v in list(form.items())[:20]}
            if control is not None:
                form["q"] = control
        response = getattr(who, method)(url, form)
        assert response.status_code < 500, (method, url, response.status_code)
        if control is not None:
            assert response.status_code == 422, (method, url, response.status_code)

    check()
