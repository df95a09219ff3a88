"""A worker an import put on the list has never agreed to the terms and privacy policy: their
first sign-in asks for it before anything else and records it; registering by oneself works as
before."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase

from tests.factories import BrandFactory, as_level, build_area_tree, make_user, once_per_module
from warmstation.accounts.models import ConsentRecord, Role, User
from warmstation.accounts.tests.test_sms_codes import code_sent_to
from warmstation.dashboard import importing_services as svc
from warmstation.dashboard.exports_data import header

pytestmark = pytest.mark.django_db
IMPORTED = "13900001001"
SELF_REGISTERED = "13900001002"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with once_per_module(django_db_blocker):
        tree = build_area_tree()
        BrandFactory()
        admin = as_level(make_user(Role.AREA_ADMIN, tree["gc"]))
        buf = io.StringIO()
        csv.writer(buf).writerows([header("workers"), [IMPORTED, "导入甲", "courier", "", "YLJ"]])
        with TestCase.captureOnCommitCallbacks(execute=True):
            batch = svc.import_batch_create(
                actor=admin,
                kind="workers",
                upload=SimpleUploadedFile("w.csv", buf.getvalue().encode()),
                filename="w.csv",
            )
        batch.refresh_from_db()
        with TestCase.captureOnCommitCallbacks(execute=True):
            svc.import_batch_apply(actor=admin, batch=batch, only_valid=False)
        yield {**tree, "admin": admin}


def _sign_in(mobile: str, next_url: str = "/me/") -> tuple[Client, object]:
    client = Client()
    client.post("/login/", {"mobile": mobile, "action": "send", "next": next_url})
    response = client.post(
        "/login/",
        {"mobile": mobile, "action": "verify", "next": next_url, "code": code_sent_to(mobile)},
    )
    return client, response


def test_an_imported_worker_is_asked_for_consent_before_anything_else(world):
    user = User.objects.get(mobile=IMPORTED)
    assert user.worker_profile.terms_due and not user.consents.exists()
    client, response = _sign_in(IMPORTED, "/stations/")
    assert response.status_code == 302 and response["Location"] == "/register/?next=/stations/"
    # every other page leads back to the consent first
    for path in ("/", "/stations/", "/appeals/new/"):
        page = client.get(path)
        assert page.status_code == 302 and page["Location"].startswith("/register/?next=")
    form = client.get("/register/").content.decode()
    assert 'name="accept_terms"' in form and "区里已为您登记了以下资料" in form
    assert 'value="导入甲"' in form  # what the import entered, to check
    ylj = world["ylj"]
    refused = client.post(
        "/register/",
        {"real_name": "导入甲", "job_type": "courier", "areas": [ylj.pk], "next": "/stations/"},
    )
    assert refused.status_code == 422 and not user.consents.exists()
    assert client.get("/").status_code == 302  # still asked
    done = client.post(
        "/register/",
        {
            "real_name": "导入甲",
            "job_type": "courier",
            "areas": [ylj.pk],
            "accept_terms": "on",
            "next": "/stations/",
        },
    )
    assert done.status_code == 302 and done["Location"] == "/stations/"
    terms = user.consents.get(purpose=ConsentRecord.Purpose.TERMS)
    assert terms.granted and terms.ip
    user.worker_profile.refresh_from_db()
    assert not user.worker_profile.terms_due
    assert client.get("/").status_code == 200


def test_self_registration_is_unchanged_and_a_later_import_asks_nothing(world):
    client, response = _sign_in(SELF_REGISTERED, "/")
    assert response["Location"].startswith("/register/")
    ylj = world["ylj"]
    missing = client.post(
        "/register/", {"real_name": "自己", "job_type": "courier", "areas": [ylj.pk]}
    )
    assert missing.status_code == 422
    assert (
        client.post(
            "/register/",
            {"real_name": "自己", "job_type": "courier", "areas": [ylj.pk], "accept_terms": "on"},
        ).status_code
        == 302
    )
    profile = User.objects.get(mobile=SELF_REGISTERED).worker_profile
    assert not profile.terms_due
    # an import that updates this worker does not make them agree again
    from warmstation.accounts.services import worker_enrol

    worker_enrol(
        actor=world["admin"],
        mobile=SELF_REGISTERED,
        real_name="自己人",
        job_type="courier",
        brand=None,
        areas=[ylj],
    )
    profile.refresh_from_db()
    assert not profile.terms_due
    assert client.get("/stations/").status_code == 200


def test_a_worker_asked_for_consent_may_still_see_or_close_their_data(world):
    from warmstation.accounts.services import worker_enrol

    worker_enrol(
        actor=world["admin"],
        mobile="13900001003",
        real_name="导入乙",
        job_type="courier",
        brand=None,
        areas=[world["ylj"]],
    )
    client, _response = _sign_in("13900001003")
    assert client.get("/me/").status_code == 200
    assert client.get("/stations/").status_code == 302
