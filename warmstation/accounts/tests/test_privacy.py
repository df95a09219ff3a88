"""A worker's privacy rights (a copy of their data, closing the account) and how their data is
protected (ID numbers encrypted at rest, mobile numbers masked for admins unless revealed)."""

import json
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

from tests.factories import BrandFactory, make_user, signed_in
from warmstation.accounts.models import (
    ApiToken,
    AuthLevel,
    ConsentRecord,
    Role,
    SmsCode,
    User,
    WorkerProfile,
)
from warmstation.accounts.services import (
    api_token_issue,
    sms_code_request,
    sms_code_verify,
    worker_register,
)
from warmstation.core.masking import mask_mobile
from warmstation.core.models import AuditEvent
from warmstation.outreach.models import OutboxMessage

pytestmark = pytest.mark.django_db

MOBILE = "13812341234"
ID_NUMBER = "110111199001011234"


def code_sent_to(mobile: str) -> str:
    body = (OutboxMessage.objects.filter(recipient=mobile, purpose="sign_in_code")
            .order_by("-created_at", "-id").first().body)
    return re.search(r"(?<!\d)(\d{6})(?!\d)", body).group(1)


def registered_worker(tree, mobile: str = MOBILE) -> User:
    """A worker who signed in by SMS code and registered, as on the real pages."""
    sms_code_request(mobile=mobile)
    user = sms_code_verify(mobile=mobile, code=code_sent_to(mobile))
    worker_register(user=user, real_name="王小哥", job_type="courier", brand=BrandFactory(),
                    areas=[tree["ylj"]], accept_terms=True, allow_location=True)
    profile = user.worker_profile
    profile.id_number = ID_NUMBER
    profile.save()
    return User.objects.get(pk=user.pk)


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


# --- a copy of my data -------------------------------------------------------------------------

def test_the_export_holds_everything_about_the_worker(tree):
    # given
    worker = registered_worker(tree)
    client = signed_in(worker, AuthLevel.CODE)

    # when
    response = client.get("/api/v1/me/export")

    # then
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["account"]["mobile"] == MOBILE
    assert data["account"]["real_name"] == "王小哥"
    profile = data["worker_profile"]
    assert profile["job_type"] == "courier"
    assert profile["brand"] == "顺丰速运"
    assert profile["areas"] == [{"code": "YLJ", "name": "伊林郡社区"}]
    assert profile["id_number"] == ID_NUMBER
    assert {(c["purpose"], c["granted"]) for c in data["consents"]} == {
        (ConsentRecord.Purpose.TERMS, True), (ConsentRecord.Purpose.LOCATION, True)}
    assert [r["role"] for r in data["roles"]] == [Role.WORKER]
    assert {"auth.login", "worker.register", "role.grant"} <= {a["action"] for a in data["activity"]}
    assert [s["used"] for s in data["sign_in_codes"]] == [True]


def test_the_export_is_audited(tree):
    # given
    worker = registered_worker(tree)
    raw = api_token_issue(user=worker, auth_level=AuthLevel.CODE)

    # when
    response = Client().get("/api/v1/me/export", **bearer(raw))

    # then
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="privacy.export")
    assert event.actor == worker
    assert event.object_id == str(worker.pk)
    assert [t["prefix"] for t in response.json()["api_tokens"]] == [raw[:8]]


def test_the_export_page_downloads_the_same_data_as_a_json_file(tree):
    # given
    worker = registered_worker(tree)
    client = signed_in(worker, AuthLevel.CODE)

    # when
    response = client.get("/me/export.json")

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["account"]["mobile"] == MOBILE
    assert data["worker_profile"]["areas"][0]["code"] == "YLJ"
    assert "王小哥" in response.content.decode()  # readable Chinese, not \\u escapes
    assert AuditEvent.objects.filter(action="privacy.export", actor=worker).count() == 1


def test_the_export_needs_a_signed_in_worker(db):
    assert Client().get("/api/v1/me/export").status_code == 401
    assert Client().get("/me/export.json")["Location"].startswith("/login/")
    assert not AuditEvent.objects.filter(action="privacy.export").exists()


def test_the_export_holds_only_the_callers_own_data(tree):
    # given
    registered_worker(tree)
    other = registered_worker(tree, mobile="13912345678")

    # when
    data = signed_in(other, AuthLevel.CODE).get("/api/v1/me/export").json()

    # then
    assert MOBILE not in json.dumps(data)
    assert data["account"]["mobile"] == "13912345678"


# --- closing my account ------------------------------------------------------------------------

def test_closing_the_account_erases_personal_data_and_keeps_the_audit_trail(tree):
    # given
    worker = registered_worker(tree)
    raw = api_token_issue(user=worker, auth_level=AuthLevel.CODE)
    events_before = AuditEvent.objects.filter(actor=worker).count()
    profile_pk = worker.worker_profile.pk

    # when
    response = Client().post("/api/v1/me/close", **bearer(raw))

    # then
    assert response.status_code == 204
    closed = User.objects.get(pk=worker.pk)
    assert closed.mobile == f"closed-{worker.pk}"
    assert closed.real_name == ""
    assert closed.is_active is False
    assert closed.closed_at is not None
    assert not closed.has_usable_password()
    assert not WorkerProfile.objects.filter(pk=profile_pk).exists()
    assert closed.grants.count() == 0
    assert ApiToken.objects.filter(user=worker, revoked_at__isnull=True).count() == 0
    assert Client().get("/api/v1/me", **bearer(raw)).status_code == 401
    assert not SmsCode.objects.filter(mobile=MOBILE).exists()
    assert not OutboxMessage.objects.filter(recipient=MOBILE).exists()
    assert not OutboxMessage.objects.filter(body__contains=MOBILE).exists()
    assert AuditEvent.objects.filter(actor=worker).count() == events_before + 1
    assert AuditEvent.objects.filter(actor=worker, action="privacy.close").count() == 1


def test_closing_the_account_signs_out_its_web_sessions(tree):
    # given
    worker = registered_worker(tree)
    browser = signed_in(worker, AuthLevel.CODE)
    raw = api_token_issue(user=worker, auth_level=AuthLevel.CODE)

    # when
    Client().post("/api/v1/me/close", **bearer(raw))

    # then
    assert browser.get("/api/v1/me").status_code == 401


def test_closing_on_the_page_needs_the_confirmation_word(tree):
    # given
    worker = registered_worker(tree)
    client = signed_in(worker, AuthLevel.CODE)

    # when
    response = client.post("/me/close/", {"confirm": "关闭"})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/me/"
    worker.refresh_from_db()
    assert worker.mobile == MOBILE
    assert worker.is_active
    assert WorkerProfile.objects.filter(user=worker).exists()
    assert not AuditEvent.objects.filter(action="privacy.close").exists()
    assert client.get("/api/v1/me").status_code == 200


def test_closing_on_the_page_with_the_confirmation_word(tree):
    # given
    worker = registered_worker(tree)
    client = signed_in(worker, AuthLevel.CODE)

    # when
    response = client.post("/me/close/", {"confirm": " 注销 "})

    # then
    assert response.status_code == 302
    worker.refresh_from_db()
    assert worker.mobile == f"closed-{worker.pk}"
    assert worker.real_name == ""
    assert not worker.is_active
    assert not WorkerProfile.objects.filter(user=worker).exists()
    assert client.get("/api/v1/me").status_code == 401


def test_closing_only_takes_a_post(tree):
    # given
    worker = registered_worker(tree)

    # when
    response = signed_in(worker, AuthLevel.CODE).get("/me/close/?confirm=注销")

    # then
    assert response.status_code == 405
    assert User.objects.get(pk=worker.pk).is_active


def test_the_same_number_can_sign_up_again_as_a_new_account(tree):
    # given
    worker = registered_worker(tree)
    signed_in(worker, AuthLevel.CODE).post("/me/close/", {"confirm": "注销"})
    cache.delete(f"sms-code-lock:{MOBILE}")  # the resend minute has passed

    # when
    sms_code_request(mobile=MOBILE)
    fresh = sms_code_verify(mobile=MOBILE, code=code_sent_to(MOBILE))

    # then
    assert fresh.pk != worker.pk
    assert fresh.mobile == MOBILE
    assert fresh.real_name == ""
    assert fresh.grants.count() == 0
    assert not WorkerProfile.objects.filter(user=fresh).exists()
    assert User.objects.get(pk=worker.pk).mobile == f"closed-{worker.pk}"
    assert AuditEvent.objects.get(action="auth.login", actor=fresh).detail["new_account"] is True


# --- data at rest and on screen ----------------------------------------------------------------

def test_id_numbers_are_encrypted_at_rest(tree):
    # given
    worker = registered_worker(tree)
    profile_pk = worker.worker_profile.pk

    # when
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM accounts_workerprofile WHERE id = %s", [profile_pk])
        (raw,) = cursor.fetchone()

    # then
    assert raw
    assert ID_NUMBER not in raw
    assert WorkerProfile.objects.get(pk=profile_pk).id_number == ID_NUMBER


def test_totp_secrets_are_encrypted_at_rest(tree):
    # given
    admin = make_user(Role.AREA_ADMIN, tree["gc"], totp=True)

    # when
    with connection.cursor() as cursor:
        cursor.execute("SELECT totp_secret FROM accounts_user WHERE id = %s", [admin.pk])
        (raw,) = cursor.fetchone()

    # then
    assert "JBSWY3DPEHPK3PXP" not in raw
    assert User.objects.get(pk=admin.pk).totp_secret == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_the_my_data_page_masks_the_id_number(tree):
    # given
    worker = registered_worker(tree)

    # when
    html = signed_in(worker, AuthLevel.CODE).get("/me/").content.decode()

    # then
    assert ID_NUMBER not in html
    assert "110111********1234" in html


@pytest.mark.parametrize(("mobile", "masked"), [
    ("13812341234", "138****1234"),
    ("19900001111", "199****1111"),
    ("", ""),
    (None, ""),
])
def test_mask_mobile(mobile, masked):
    assert mask_mobile(mobile) == masked


# --- admins see masked numbers, and reveal one on purpose --------------------------------------

@pytest.fixture
def gc_admin(tree):
    return make_user(Role.AREA_ADMIN, tree["gc"])


def test_an_area_admin_sees_workers_in_their_area_with_masked_mobiles(tree, gc_admin):
    # given
    registered_worker(tree)  # in YLJ, under GC
    outside = registered_worker(tree, mobile="13912345678")
    outside.worker_profile.areas.set([tree["sz"]])  # under XL

    # when
    response = signed_in(gc_admin).get("/api/v1/workers")

    # then
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    assert [(w["real_name"], w["mobile_masked"]) for w in items] == [("王小哥", "138****1234")]
    assert "mobile" not in items[0]
    assert MOBILE not in response.content.decode()
    assert "13912345678" not in response.content.decode()


def test_the_workers_page_masks_mobiles_too(tree, gc_admin):
    # given
    registered_worker(tree)

    # when
    html = signed_in(gc_admin).get("/workers/").content.decode()

    # then
    assert "138****1234" in html
    assert MOBILE not in html


def test_revealing_a_mobile_shows_it_and_is_audited(tree, gc_admin):
    # given
    worker = registered_worker(tree)
    client = signed_in(gc_admin)
    listed = client.get("/api/v1/workers").json()["items"][0]

    # when
    response = client.post(f"/api/v1/workers/{listed['id']}/reveal")

    # then
    assert response.status_code == 200, response.content
    assert response.json() == {"id": listed["id"], "mobile": MOBILE}
    event = AuditEvent.objects.get(action="privacy.reveal")
    assert event.actor == gc_admin
    assert event.object_type == "accounts.user"
    assert event.object_id == str(worker.pk)
    assert event.detail == {"field": "mobile"}


def test_revealing_on_the_workers_page_is_audited(tree, gc_admin):
    # given
    worker = registered_worker(tree)

    # when
    response = signed_in(gc_admin).post(f"/workers/{worker.worker_profile.pk}/reveal/")

    # then
    assert response.status_code == 200
    assert MOBILE in response.content.decode()
    assert AuditEvent.objects.filter(action="privacy.reveal", actor=gc_admin).count() == 1


def test_a_worker_outside_the_admins_area_cannot_be_revealed(tree, gc_admin):
    # given
    outside = registered_worker(tree)
    outside.worker_profile.areas.set([tree["sz"]])

    # when
    api = signed_in(gc_admin).post(f"/api/v1/workers/{outside.worker_profile.pk}/reveal")
    page = signed_in(gc_admin).post(f"/workers/{outside.worker_profile.pk}/reveal/")

    # then
    assert api.status_code == 404
    assert api.json()["code"] == "not_found"
    assert MOBILE not in api.content.decode()
    assert page.status_code == 404
    assert MOBILE not in page.content.decode()
    assert not AuditEvent.objects.filter(action="privacy.reveal").exists()


def test_a_missing_worker_looks_the_same_as_one_outside_the_area(tree, gc_admin):
    # when
    response = signed_in(gc_admin).post("/api/v1/workers/999999/reveal")

    # then
    assert response.status_code == 404


def test_an_area_admin_without_totp_cannot_reveal(tree, gc_admin):
    # given
    worker = registered_worker(tree)

    # when
    response = signed_in(gc_admin, AuthLevel.PASSWORD).post(
        f"/api/v1/workers/{worker.worker_profile.pk}/reveal")

    # then
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="privacy.reveal").exists()


def test_a_worker_cannot_list_or_reveal_other_workers(tree):
    # given
    worker = registered_worker(tree)
    other = registered_worker(tree, mobile="13912345678")
    client = signed_in(other, AuthLevel.CODE)

    # when / then
    assert client.get("/api/v1/workers").status_code == 403
    assert client.post(f"/api/v1/workers/{worker.worker_profile.pk}/reveal").status_code == 403


def test_a_district_admin_can_reveal_any_worker(tree):
    # given
    worker = registered_worker(tree)
    worker.worker_profile.areas.set([tree["sz"]])
    district_admin = make_user(Role.DISTRICT_ADMIN, tree["district"])

    # when
    response = signed_in(district_admin).post(
        f"/api/v1/workers/{worker.worker_profile.pk}/reveal")

    # then
    assert response.status_code == 200
    assert response.json()["mobile"] == MOBILE


def test_closed_accounts_are_not_listed(tree, gc_admin):
    # given
    worker = registered_worker(tree)
    signed_in(worker, AuthLevel.CODE).post("/me/close/", {"confirm": "注销"})

    # when
    response = signed_in(gc_admin).get("/api/v1/workers")

    # then
    assert response.json()["count"] == 0


def test_revealing_without_javascript_answers_a_page_and_with_htmx_the_fragment(tree, gc_admin):
    worker = registered_worker(tree)
    url = f"/workers/{worker.worker_profile.pk}/reveal/"
    page = signed_in(gc_admin).post(url, {"next": "/workers/?area=GC"}).content.decode()
    assert "<html" in page and MOBILE in page and 'href="/workers/?area=GC"' in page
    fragment = signed_in(gc_admin).post(url, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith("<span") and MOBILE in fragment
    evil = signed_in(gc_admin).post(url, {"next": "https://evil.example/"}).content.decode()
    assert "evil.example" not in evil
