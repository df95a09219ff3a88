"""Bearer tokens (issue, use, revoke, expiry, the level they carry) and web sessions (absolute
lifetime, idle timeout)."""

import re
import time
from datetime import timedelta

import pyotp
import pytest
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.utils import timezone

from tests.factories import PASSWORD, make_user, make_worker, signed_in
from warmstation.accounts.middleware import SESSION_LEVEL, SESSION_STARTED
from warmstation.accounts.models import ApiToken, AuthLevel, Role, User
from warmstation.accounts.services import api_token_issue
from warmstation.core.models import AuditEvent
from warmstation.outreach.models import OutboxMessage

pytestmark = pytest.mark.django_db

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # what make_user(totp=True) sets


def code_sent_to(mobile: str) -> str:
    body = (OutboxMessage.objects.filter(recipient=mobile, purpose="sign_in_code")
            .order_by("-created_at", "-id").first().body)
    return re.search(r"(?<!\d)(\d{6})(?!\d)", body).group(1)


def sms_token(mobile: str) -> dict:
    """Sign in through the API as a worker app does: request a code, read it, exchange it."""
    client = Client()
    assert client.post("/api/v1/auth/sms-code", {"mobile": mobile},
                       content_type="application/json").status_code == 200
    response = client.post("/api/v1/auth/sms-token",
                           {"mobile": mobile, "code": code_sent_to(mobile)},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def me(token: str):
    return Client().get("/api/v1/me", **bearer(token))


def admin_with_totp(role: str, area) -> User:
    user = make_user(role, area, totp=True)
    User.objects.filter(pk=user.pk).update(totp_confirmed_at=timezone.now())
    return user


# --- bearer tokens -----------------------------------------------------------------------------

def test_a_token_from_an_sms_code_signs_in_at_level_1(tree):
    # given
    worker = make_worker([tree["ylj"]], mobile="13812341234")
    token = sms_token(worker.mobile)

    # when
    response = me(token["token"])

    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == worker.pk
    assert body["mobile"] == worker.mobile
    assert body["auth_level"] == AuthLevel.CODE
    assert body["area_codes"] == ["YLJ"]
    assert token["registered"] is True
    assert token["expires_in_s"] == 30 * 86400


def test_only_a_hash_of_the_token_is_stored(db):
    # given
    raw = sms_token("13812341234")["token"]

    # then
    stored = ApiToken.objects.get()
    assert raw not in {stored.key_hash, stored.prefix, stored.name}
    assert raw.startswith(stored.prefix)


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer ws_not-a-real-token",
                                    "Token ws_not-a-real-token"])
def test_no_or_a_bad_token_is_401_problem(db, header):
    # when
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = Client().get("/api/v1/me", **extra)

    # then
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["detail"]["zh"] and response.json()["detail"]["en"]


def test_a_revoked_token_stops_working(db):
    # given
    raw = sms_token("13812341234")["token"]
    user = User.objects.get(mobile="13812341234")
    other = api_token_issue(user=user, auth_level=AuthLevel.CODE, name="tablet")
    assert me(raw).status_code == 200

    # when
    response = Client().post("/api/v1/auth/revoke", **bearer(raw))

    # then
    assert response.status_code == 204
    assert me(raw).status_code == 401
    assert me(other).status_code == 200  # only the token used is revoked
    assert ApiToken.objects.filter(user=user, revoked_at__isnull=False).count() == 1
    assert AuditEvent.objects.filter(action="auth.token_revoke", actor=user).count() == 1


def test_revoking_needs_a_signed_in_caller(db):
    assert Client().post("/api/v1/auth/revoke").status_code == 401


def test_an_expired_token_stops_working(db):
    # given
    raw = sms_token("13812341234")["token"]
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    # when
    response = me(raw)

    # then
    assert response.status_code == 401


def test_a_token_is_valid_for_its_lifetime(db, settings):
    # given
    raw = sms_token("13812341234")["token"]
    token = ApiToken.objects.get()

    # then
    assert token.expires_at - token.created_at == pytest.approx(
        timedelta(days=settings.API_TOKEN_DAYS), abs=timedelta(seconds=5))
    ApiToken.objects.update(expires_at=timezone.now() + timedelta(minutes=1))
    assert me(raw).status_code == 200


def test_a_district_admin_signed_in_by_sms_is_only_a_worker_to_the_api(tree):
    # given
    district_admin = admin_with_totp(Role.DISTRICT_ADMIN, tree["district"])
    make_worker([tree["ylj"]])
    sms = sms_token(district_admin.mobile)["token"]

    # when
    response = Client().get("/api/v1/workers", **bearer(sms))

    # then
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    roles = me(sms).json()["roles"]
    assert [(r["role"], r["active"]) for r in roles] == [(Role.DISTRICT_ADMIN, False)]
    assert AuditEvent.objects.filter(action="access.denied", actor=district_admin).exists()


def test_a_district_admin_token_from_password_and_totp_lists_workers(tree):
    # given
    district_admin = admin_with_totp(Role.DISTRICT_ADMIN, tree["district"])
    make_worker([tree["ylj"]])
    response = Client().post("/api/v1/auth/staff-token",
                             {"mobile": district_admin.mobile, "password": PASSWORD,
                              "totp": pyotp.TOTP(SECRET).now()},
                             content_type="application/json")
    token = response.json()
    assert token["auth_level"] == AuthLevel.MFA

    # when
    listed = Client().get("/api/v1/workers", **bearer(token["token"]))

    # then
    assert listed.status_code == 200, listed.content
    assert listed.json()["count"] == 1
    assert me(token["token"]).json()["roles"][0]["active"] is True


def test_a_token_keeps_the_level_it_was_issued_at(tree):
    # given: the same admin holds a level-3 and a level-1 token
    district_admin = admin_with_totp(Role.DISTRICT_ADMIN, tree["district"])
    strong = api_token_issue(user=district_admin, auth_level=AuthLevel.MFA)
    weak = api_token_issue(user=district_admin, auth_level=AuthLevel.CODE)

    # when / then
    assert Client().get("/api/v1/workers", **bearer(strong)).status_code == 200
    assert Client().get("/api/v1/workers", **bearer(weak)).status_code == 403
    assert Client().get("/api/v1/workers", **bearer(strong)).status_code == 200


def test_a_closed_accounts_token_stops_working(db):
    # given
    raw = sms_token("13812341234")["token"]
    User.objects.filter(mobile="13812341234").update(is_active=False)

    # when / then
    assert me(raw).status_code == 401


# --- sessions ----------------------------------------------------------------------------------

def test_signing_in_on_the_page_starts_the_session_clock(db):
    # given
    client = Client()
    client.post("/login/", {"mobile": "13812341234", "action": "send"})
    before = time.time()

    # when
    client.post("/login/", {"mobile": "13812341234", "action": "verify",
                            "code": code_sent_to("13812341234")})

    # then
    session = client.session
    assert session[SESSION_LEVEL] == AuthLevel.CODE
    assert before - 1 <= session[SESSION_STARTED] <= time.time()


def test_a_session_older_than_its_absolute_lifetime_is_signed_out(tree, settings):
    # given
    worker = make_worker([tree["ylj"]])
    client = signed_in(worker, AuthLevel.CODE)
    assert client.get("/api/v1/me").status_code == 200
    session = client.session
    session[SESSION_STARTED] = time.time() - settings.SESSION_ABSOLUTE_SECONDS - 5
    session.save()

    # when
    response = client.get("/api/v1/me")

    # then
    assert response.status_code == 401
    assert "_auth_user_id" not in client.session
    assert client.get("/me/")["Location"].startswith("/login/")


def test_a_session_just_inside_its_absolute_lifetime_still_works(tree, settings):
    # given
    client = signed_in(make_worker([tree["ylj"]]), AuthLevel.CODE)
    session = client.session
    session[SESSION_STARTED] = time.time() - settings.SESSION_ABSOLUTE_SECONDS + 60
    session.save()

    # when / then
    assert client.get("/api/v1/me").status_code == 200


def test_the_absolute_lifetime_holds_however_active_the_session_is(tree):
    # given
    client = signed_in(make_worker([tree["ylj"]]), AuthLevel.CODE)
    session = client.session
    session[SESSION_STARTED] = time.time() - 50
    session.save()

    with override_settings(SESSION_ABSOLUTE_SECONDS=60):
        # a request every few seconds keeps it alive only until the absolute limit
        assert client.get("/api/v1/me").status_code == 200
        session = client.session
        session[SESSION_STARTED] -= 15
        session.save()

        # when
        response = client.get("/api/v1/me")

    # then
    assert response.status_code == 401


def test_a_session_without_a_start_time_is_not_trusted(tree):
    # given: a session logged in by some other path that did not record when
    client = Client()
    client.force_login(make_worker([tree["ylj"]]),
                       backend="warmstation.accounts.backends.MobilePasswordBackend")

    # when / then
    assert client.get("/api/v1/me").status_code == 401


def test_raising_the_level_with_totp_keeps_the_start_time_and_changes_the_session_key(tree):
    # given: a district admin half signed in for a while
    district_admin = admin_with_totp(Role.DISTRICT_ADMIN, tree["district"])
    client = Client()
    client.post("/staff/login/", {"mobile": district_admin.mobile, "password": PASSWORD})
    session = client.session
    started = session[SESSION_STARTED] - 600
    session[SESSION_STARTED] = started
    session.save()
    key_before = client.session.session_key

    # when
    client.post("/staff/mfa/", {"code": pyotp.TOTP(SECRET).now()})

    # then
    session = client.session
    assert session[SESSION_LEVEL] == AuthLevel.MFA
    assert session[SESSION_STARTED] == pytest.approx(started)
    assert session.session_key != key_before


def test_idle_and_absolute_session_settings_are_sane(settings):
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert 5 * 60 <= settings.SESSION_COOKIE_AGE <= 2 * 3600
    assert settings.SESSION_COOKIE_AGE < settings.SESSION_ABSOLUTE_SECONDS <= 24 * 3600
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.SESSION_COOKIE_SAMESITE in ("Lax", "Strict")


def test_every_response_renews_the_session_cookie_for_the_idle_timeout(tree, settings):
    # given
    client = signed_in(make_worker([tree["ylj"]]), AuthLevel.CODE)

    # when
    response = client.get("/api/v1/me")

    # then
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_activity_pushes_the_idle_timeout_back(tree, settings):
    # given: a session about to go idle
    client = signed_in(make_worker([tree["ylj"]]), AuthLevel.CODE)
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() + timedelta(seconds=30))

    # when
    assert client.get("/api/v1/me").status_code == 200

    # then
    expire = Session.objects.get(session_key=client.session.session_key).expire_date
    assert expire - timezone.now() == pytest.approx(
        timedelta(seconds=settings.SESSION_COOKIE_AGE), abs=timedelta(seconds=10))


def test_an_idle_session_is_signed_out(tree):
    # given
    client = signed_in(make_worker([tree["ylj"]]), AuthLevel.CODE)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1))

    # when / then
    assert client.get("/api/v1/me").status_code == 401


def test_signing_out_ends_the_session(tree):
    # given
    client = signed_in(make_worker([tree["ylj"]]), AuthLevel.CODE)

    # when
    response = client.post("/logout/")

    # then
    assert response.status_code == 302
    assert client.get("/api/v1/me").status_code == 401
