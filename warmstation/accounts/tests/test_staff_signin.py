"""Staff sign-in: password with lockout, TOTP for admins (with enrolment and replay refusal),
through the services, the /staff/login/ and /staff/mfa/ pages and the staff-token API."""

import re
import time
from datetime import timedelta

import pyotp
import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import PASSWORD, make_user, make_worker
from warmstation.accounts.middleware import SESSION_LEVEL
from warmstation.accounts.models import AuthLevel, Role, User
from warmstation.accounts.services import staff_password_check, totp_verify
from warmstation.core.errors import ApplicationError
from warmstation.core.models import AuditEvent

pytestmark = pytest.mark.django_db

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # what make_user(totp=True) sets
TOKEN_URL = "/api/v1/auth/staff-token"


def admin(role: str, area, *, confirmed: bool = True) -> User:
    user = make_user(role, area, totp=True)
    if confirmed:
        User.objects.filter(pk=user.pk).update(totp_confirmed_at=timezone.now())
    user.refresh_from_db()
    return user


def totp_now(secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).now()


def totp_next(secret: str = SECRET) -> str:
    """The code of the next 30 s step (still inside the accepted window)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def a_wrong_totp(secret: str = SECRET) -> str:
    totp = pyotp.TOTP(secret)
    near = {totp.at(time.time() + d) for d in (-60, -30, 0, 30, 60)}
    return next(c for c in (f"{n:06d}" for n in range(10**6)) if c not in near)


def staff_token(client: Client, mobile: str, password: str, totp: str = ""):
    return client.post(TOKEN_URL, {"mobile": mobile, "password": password, "totp": totp},
                       content_type="application/json")


def page_sign_in(client: Client, user: User, password: str = PASSWORD, next_: str = "/"):
    return client.post("/staff/login/", {"mobile": user.mobile, "password": password,
                                         "next": next_})


def session_level(client: Client) -> int:
    return client.session.get(SESSION_LEVEL, AuthLevel.NONE)


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- password ------------------------------------------------------------------------------------

def test_a_wrong_password_gets_the_same_generic_error_as_an_unknown_number(tree):
    # given
    steward = make_user(Role.STEWARD, tree["gc"])

    # when
    with pytest.raises(ApplicationError) as wrong_password:
        staff_password_check(mobile=steward.mobile, password="not-the-password")
    with pytest.raises(ApplicationError) as unknown_number:
        staff_password_check(mobile="13999999999", password=PASSWORD)

    # then
    assert wrong_password.value.code == unknown_number.value.code == "bad_credentials"
    assert str(wrong_password.value) == str(unknown_number.value)
    assert "密码" in wrong_password.value.message_zh


def test_a_wrong_password_is_audited_as_failed(tree):
    # given
    steward = make_user(Role.STEWARD, tree["gc"])

    # when
    response = page_sign_in(Client(), steward, password="not-the-password")

    # then
    assert response.status_code == 422
    assert "手机号或密码错误" in response.content.decode()
    event = AuditEvent.objects.get(action="auth.login")
    assert event.result == AuditEvent.Result.FAILED
    assert event.actor == steward
    assert event.detail["method"] == "password"


def test_an_unknown_number_is_audited_as_failed_with_the_number_masked(db):
    # when
    with pytest.raises(ApplicationError):
        staff_password_check(mobile="13999991234", password=PASSWORD)

    # then
    event = AuditEvent.objects.get(action="auth.login")
    assert event.result == AuditEvent.Result.FAILED
    assert event.actor is None
    assert event.who == "139****1234"


def test_five_wrong_passwords_lock_the_account_even_against_the_right_password(tree):
    # given
    steward = make_user(Role.STEWARD, tree["gc"])
    client = Client()
    for _ in range(4):
        assert staff_token(client, steward.mobile, "wrong-password").status_code == 422

    # when
    fifth = staff_token(client, steward.mobile, "wrong-password")
    right = staff_token(client, steward.mobile, PASSWORD)

    # then
    assert fifth.status_code == 429
    assert fifth.json()["code"] == "account_locked"
    assert fifth.json()["detail"]["zh"] and fifth.json()["detail"]["en"]
    assert right.status_code == 429
    steward.refresh_from_db()
    assert steward.locked_until > timezone.now() + timedelta(minutes=10)
    assert AuditEvent.objects.filter(action="auth.login", actor=steward,
                                     result=AuditEvent.Result.FAILED).count() == 5
    assert AuditEvent.objects.filter(action="auth.login", actor=steward,
                                     result=AuditEvent.Result.DENIED).count() == 1


def test_a_locked_account_opens_again_once_the_lock_has_passed(tree):
    # given
    steward = make_user(Role.STEWARD, tree["gc"])
    for _ in range(5):
        with pytest.raises(ApplicationError):
            staff_password_check(mobile=steward.mobile, password="wrong-password")
    User.objects.filter(pk=steward.pk).update(locked_until=timezone.now() - timedelta(seconds=1))

    # when
    response = staff_token(Client(), steward.mobile, PASSWORD)

    # then
    assert response.status_code == 200, response.content
    steward.refresh_from_db()
    assert steward.failed_logins == 0
    assert steward.locked_until is None


def test_the_login_page_shows_the_lock_and_does_not_sign_in(tree):
    # given
    steward = make_user(Role.STEWARD, tree["gc"])
    client = Client()
    for _ in range(5):
        page_sign_in(client, steward, password="wrong-password")

    # when
    response = page_sign_in(client, steward)

    # then
    assert response.status_code == 429
    assert "锁定" in response.content.decode()
    assert not is_signed_in(client)


def test_a_right_password_resets_the_count_of_failures(tree):
    # given: four failures, then a success
    steward = make_user(Role.STEWARD, tree["gc"])
    for _ in range(4):
        with pytest.raises(ApplicationError):
            staff_password_check(mobile=steward.mobile, password="wrong-password")
    staff_password_check(mobile=steward.mobile, password=PASSWORD)

    # when: four more failures
    for _ in range(4):
        with pytest.raises(ApplicationError) as exc:
            staff_password_check(mobile=steward.mobile, password="wrong-password")

    # then: not locked
    assert exc.value.code == "bad_credentials"
    assert staff_password_check(mobile=steward.mobile, password=PASSWORD) == steward


def test_a_worker_only_account_cannot_sign_in_with_a_password(tree):
    # given
    worker = make_worker([tree["ylj"]])

    # when
    with pytest.raises(ApplicationError) as service_error:
        staff_password_check(mobile=worker.mobile, password=PASSWORD)
    api = staff_token(Client(), worker.mobile, PASSWORD)
    client = Client()
    page = page_sign_in(client, worker)

    # then
    assert service_error.value.code == "not_staff"
    assert api.status_code == 403
    assert page.status_code == 403
    assert not is_signed_in(client)
    assert AuditEvent.objects.filter(action="auth.login", actor=worker,
                                     result=AuditEvent.Result.DENIED).count() >= 1
    assert not AuditEvent.objects.filter(action="auth.login", actor=worker,
                                         result=AuditEvent.Result.OK).exists()


def test_a_closed_account_cannot_sign_in_with_a_password(tree):
    # given
    steward = make_user(Role.STEWARD, tree["gc"])
    User.objects.filter(pk=steward.pk).update(is_active=False)

    # when / then
    with pytest.raises(ApplicationError) as exc:
        staff_password_check(mobile=steward.mobile, password=PASSWORD)
    assert exc.value.code == "bad_credentials"


# --- stewards: password only -------------------------------------------------------------------

def test_a_steward_signs_in_on_the_page_without_totp(tree):
    # given
    steward = make_user(Role.STEWARD, tree["gc"])
    client = Client()

    # when
    response = page_sign_in(client, steward, next_="/me/")

    # then
    assert response.status_code == 302
    assert response["Location"] == "/me/"
    assert session_level(client) == AuthLevel.PASSWORD
    ok = AuditEvent.objects.get(action="auth.login", result=AuditEvent.Result.OK)
    assert ok.actor == steward


def test_a_steward_gets_a_level_2_token_without_totp(tree):
    # given
    steward = make_user(Role.STEWARD, tree["gc"])

    # when
    response = staff_token(Client(), steward.mobile, PASSWORD)

    # then
    assert response.status_code == 200, response.content
    assert response.json()["auth_level"] == AuthLevel.PASSWORD


# --- admins: password + TOTP -------------------------------------------------------------------

def test_an_admin_is_sent_to_totp_after_the_password_and_admin_pages_wait_for_it(tree):
    # given
    district_admin = admin(Role.DISTRICT_ADMIN, tree["district"])
    client = Client()

    # when
    response = page_sign_in(client, district_admin)

    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/mfa/")
    assert session_level(client) == AuthLevel.PASSWORD
    for page in ("/audit/", "/areas/"):
        blocked = client.get(page)
        assert blocked.status_code == 302, page
        assert blocked["Location"].startswith("/staff/login/")
    assert client.get("/staff/login/?next=/areas/")["Location"].startswith("/staff/mfa/")


def test_an_admin_reaches_admin_pages_after_totp(tree):
    # given
    district_admin = admin(Role.DISTRICT_ADMIN, tree["district"])
    client = Client()
    page_sign_in(client, district_admin, next_="/audit/")

    # when
    response = client.post("/staff/mfa/", {"code": totp_now(), "next": "/audit/"})

    # then
    assert response.status_code == 302
    assert response["Location"] == "/audit/"
    assert session_level(client) == AuthLevel.MFA
    assert client.get("/audit/").status_code == 200
    assert client.get("/areas/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.mfa", actor=district_admin).count() == 1


def test_an_area_admin_is_also_held_at_totp(tree):
    # given
    area_admin = admin(Role.AREA_ADMIN, tree["gc"])
    client = Client()

    # when
    response = page_sign_in(client, area_admin)

    # then
    assert response["Location"].startswith("/staff/mfa/")
    assert client.get("/areas/").status_code == 302
    client.post("/staff/mfa/", {"code": totp_now()})
    assert client.get("/areas/").status_code == 200


def test_a_wrong_totp_keeps_the_admin_out(tree):
    # given
    district_admin = admin(Role.DISTRICT_ADMIN, tree["district"])
    client = Client()
    page_sign_in(client, district_admin)

    # when
    response = client.post("/staff/mfa/", {"code": a_wrong_totp()})

    # then
    assert response.status_code == 422
    assert session_level(client) == AuthLevel.PASSWORD
    assert client.get("/audit/").status_code == 302
    assert AuditEvent.objects.filter(action="auth.login", actor=district_admin,
                                     result=AuditEvent.Result.FAILED).count() == 1


def test_the_totp_page_needs_the_password_first(tree):
    # when
    response = Client().get("/staff/mfa/")

    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/")


def test_a_replayed_totp_code_is_refused(tree):
    # given
    district_admin = admin(Role.DISTRICT_ADMIN, tree["district"])
    code = totp_now()
    totp_verify(user=district_admin, code=code)

    # when / then
    with pytest.raises(ApplicationError) as exc:
        totp_verify(user=district_admin, code=code)
    assert exc.value.code == "totp_wrong"
    totp_verify(user=district_admin, code=totp_next())  # a fresh step still works


def test_a_replayed_totp_code_is_refused_by_the_api(tree):
    # given
    area_admin = admin(Role.AREA_ADMIN, tree["gc"])
    code = totp_now()
    assert staff_token(Client(), area_admin.mobile, PASSWORD, code).status_code == 200

    # when
    replay = staff_token(Client(), area_admin.mobile, PASSWORD, code)

    # then
    assert replay.status_code == 422
    assert replay.json()["code"] == "totp_wrong"


def test_five_wrong_totp_codes_lock_the_account(tree):
    # given
    district_admin = admin(Role.DISTRICT_ADMIN, tree["district"])
    for _ in range(5):
        with pytest.raises(ApplicationError):
            totp_verify(user=district_admin, code=a_wrong_totp())

    # when
    response = staff_token(Client(), district_admin.mobile, PASSWORD, totp_now())

    # then
    assert response.status_code == 429


def test_an_admin_without_totp_enrols_by_scanning_a_qr_code(tree):
    # given
    area_admin = make_user(Role.AREA_ADMIN, tree["gc"])
    client = Client()
    assert page_sign_in(client, area_admin)["Location"].startswith("/staff/mfa/")

    # when
    page = client.get("/staff/mfa/")
    again = client.get("/staff/mfa/")

    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html
    secret = re.search(r'class="secret">([A-Z2-7]{16,})<', html).group(1)
    assert secret in again.content.decode()  # reloading does not change the secret
    area_admin.refresh_from_db()
    assert area_admin.totp_confirmed_at is None

    # when: the code from the authenticator app
    done = client.post("/staff/mfa/", {"code": totp_now(secret)})

    # then
    assert done.status_code == 302
    area_admin.refresh_from_db()
    assert area_admin.totp_confirmed_at is not None
    assert session_level(client) == AuthLevel.MFA
    assert "<svg" not in _next_mfa_page(area_admin)


def _next_mfa_page(user: User) -> str:
    client = Client()
    page_sign_in(client, user)
    return client.get("/staff/mfa/").content.decode()


def test_a_wrong_code_does_not_confirm_enrolment(tree):
    # given
    area_admin = make_user(Role.AREA_ADMIN, tree["gc"])
    client = Client()
    page_sign_in(client, area_admin)
    html = client.get("/staff/mfa/").content.decode()
    secret = re.search(r'class="secret">([A-Z2-7]{16,})<', html).group(1)

    # when
    response = client.post("/staff/mfa/", {"code": a_wrong_totp(secret)})

    # then
    assert response.status_code == 422
    area_admin.refresh_from_db()
    assert area_admin.totp_confirmed_at is None
    assert session_level(client) == AuthLevel.PASSWORD


def test_the_staff_token_api_requires_totp_for_admins(tree):
    # given
    district_admin = admin(Role.DISTRICT_ADMIN, tree["district"])
    client = Client()

    # when
    without = staff_token(client, district_admin.mobile, PASSWORD)
    wrong = staff_token(client, district_admin.mobile, PASSWORD, a_wrong_totp())
    right = staff_token(client, district_admin.mobile, PASSWORD, totp_now())

    # then
    assert without.status_code == 422
    assert without.json()["code"] == "totp_wrong"
    assert wrong.status_code == 422
    assert right.status_code == 200, right.content
    assert right.json()["auth_level"] == AuthLevel.MFA


def test_the_staff_token_api_refuses_an_admin_who_has_not_enrolled(tree):
    # given
    area_admin = admin(Role.AREA_ADMIN, tree["gc"], confirmed=False)

    # when
    response = staff_token(Client(), area_admin.mobile, PASSWORD, totp_now())

    # then
    assert response.status_code == 409
    assert response.json()["code"] == "totp_missing"


def test_the_staff_token_api_refuses_a_wrong_password_before_totp(tree):
    # given
    district_admin = admin(Role.DISTRICT_ADMIN, tree["district"])

    # when
    response = staff_token(Client(), district_admin.mobile, "wrong-password", totp_now())

    # then
    assert response.status_code == 422
    assert response.json()["code"] == "bad_credentials"
    district_admin.refresh_from_db()
    assert district_admin.totp_last_step == 0  # the code was not spent


def test_a_known_password_does_not_reset_the_count_of_wrong_totp_codes(tree):
    # given: someone who knows the admin's password but not the authenticator, trying a new
    # code with every sign-in
    district_admin = admin(Role.DISTRICT_ADMIN, tree["district"])
    client = Client()
    for _ in range(4):
        assert staff_token(client, district_admin.mobile, PASSWORD, a_wrong_totp()).status_code == 422

    # when
    fifth = staff_token(client, district_admin.mobile, PASSWORD, a_wrong_totp())

    # then
    assert fifth.status_code == 429
    assert staff_token(client, district_admin.mobile, PASSWORD, totp_now()).status_code == 429


def test_wrong_totp_codes_on_the_page_count_across_fresh_password_sign_ins(tree):
    # given
    district_admin = admin(Role.DISTRICT_ADMIN, tree["district"])
    for _ in range(5):
        client = Client()
        page_sign_in(client, district_admin)
        client.post("/staff/mfa/", {"code": a_wrong_totp()})

    # when
    client = Client()
    response = page_sign_in(client, district_admin)

    # then
    assert response.status_code == 429
    assert "锁定" in response.content.decode()
    assert not is_signed_in(client)
