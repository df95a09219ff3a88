"""The API answers like an API (docs/decisions/0003-error-model.md): 401 with a Bearer challenge
for missing or bad credentials, CSRF for cookie sessions only, JSON objects as bodies, problem+json
for unknown paths and methods, and a Chinese `zh` in every answer."""

import re

import pytest
from django.test import Client

from tests.factories import make_user, signed_in
from warmstation.accounts.models import AuthLevel, Role
from warmstation.accounts.services import api_token_issue
from warmstation.appeals.models import AppealSettings

SETTINGS_URL = "/api/v1/appeals/settings"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def admin(tree):
    return make_user(Role.DISTRICT_ADMIN, tree["district"])


@pytest.fixture
def bearer(admin):
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_issue(user=admin, auth_level=AuthLevel.MFA)}"}


def browser_session(admin) -> Client:
    """A signed-in browser whose requests are checked for CSRF like the real ones."""
    client = signed_in(admin, AuthLevel.MFA)
    client.handler.enforce_csrf_checks = True
    return client


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert CHINESE.search(body["detail"]["zh"]), body
    assert body["detail"]["en"] and not CHINESE.search(body["detail"]["en"]), body
    return body


def reopen_days() -> int:
    return AppealSettings.objects.get_or_create(pk=1)[0].reopen_days


# --- credentials ------------------------------------------------------------------------------

def test_a_write_without_credentials_is_401_with_a_bearer_challenge(db):
    # when
    response = Client(enforce_csrf_checks=True).patch(SETTINGS_URL, {"reopen_days": 9},
                                                      content_type="application/json")

    # then
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="warmstation"'


def test_a_bad_token_is_401_invalid_token_never_a_csrf_failure(admin):
    # given: even a browser that also holds a valid session cookie
    before = reopen_days()
    for client in (Client(enforce_csrf_checks=True), browser_session(admin)):
        # when
        response = client.patch(SETTINGS_URL, {"reopen_days": before + 1},
                                content_type="application/json",
                                HTTP_AUTHORIZATION="Bearer not-a-token")

        # then
        assert_problem(response, 401, "invalid_token")
        assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert reopen_days() == before


def test_a_read_without_credentials_is_401_too(db):
    response = Client().get("/api/v1/me")
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_bearer_token_needs_no_csrf_token(admin, bearer):
    # when
    response = Client(enforce_csrf_checks=True).patch(SETTINGS_URL, {"reopen_days": 11},
                                                      content_type="application/json", **bearer)

    # then
    assert response.status_code == 200, response.content
    assert reopen_days() == 11


def test_a_cookie_session_needs_its_csrf_token(admin):
    # given
    client = browser_session(admin)
    before = reopen_days()

    # when
    without = client.patch(SETTINGS_URL, {"reopen_days": 12}, content_type="application/json")
    client.get("/")  # the page that would make the call sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    with_token = client.patch(SETTINGS_URL, {"reopen_days": 12}, content_type="application/json",
                              HTTP_X_CSRFTOKEN=token)

    # then
    assert_problem(without, 403, "csrf_failed")
    assert with_token.status_code == 200, with_token.content
    assert before != 12 and reopen_days() == 12


# --- bodies -----------------------------------------------------------------------------------

@pytest.mark.parametrize("content_type, body, status, code", [
    ("text/plain", '{"reopen_days": 9}', 415, "unsupported_media_type"),
    ("application/x-www-form-urlencoded", "reopen_days=9", 415, "unsupported_media_type"),
    ("application/json", '"x"', 400, "malformed_body"),
    ("application/json", "[]", 400, "malformed_body"),
    ("application/json", '[{"reopen_days": 9}]', 400, "malformed_body"),
    ("application/json", '{"reopen_days": 9', 400, "malformed_body"),
    ("application/json", "null", 400, "malformed_body"),
], ids=["text-plain", "form", "string", "empty-list", "list", "malformed", "null"])
def test_a_body_that_is_not_a_json_object_is_refused_and_changes_nothing(
        admin, bearer, content_type, body, status, code):
    # given
    before = reopen_days()

    # when
    response = Client().patch(SETTINGS_URL, body, content_type=content_type, **bearer)

    # then
    assert_problem(response, status, code)
    assert reopen_days() == before


def test_the_body_refusals_are_declared_in_the_openapi_document(db):
    schema = Client().get("/api/v1/openapi.json").json()
    responses = schema["paths"][SETTINGS_URL]["patch"]["responses"]
    assert {"400", "415"} <= set(responses)
    assert "application/problem+json" in responses["415"]["content"]


def test_the_malformed_body_message_is_chinese_in_chinese_mode(admin, bearer):
    response = Client().patch(SETTINGS_URL, "{", content_type="application/json", **bearer)
    body = assert_problem(response, 400, "malformed_body")
    assert body["title"] == body["detail"]["zh"]
    assert "Cannot parse" not in body["detail"]["zh"]


# --- paths and methods ------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/stations/1/nope", "/api/v1/"])
def test_an_unknown_api_path_is_a_problem_json_404(db, bearer, path):
    assert_problem(Client().get(path, **bearer), 404, "not_found")


def test_a_method_the_path_does_not_have_is_a_problem_json_405(db, bearer):
    # when
    response = Client().delete(SETTINGS_URL, **bearer)

    # then
    assert_problem(response, 405, "method_not_allowed")
    assert "PATCH" in response["Allow"]


def test_pages_keep_their_html_404(db):
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_validation_error_lists_the_fields_with_each_language_s_comma(db):
    response = Client().get("/api/v1/places/nearby", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["detail"]["en"] == "Invalid input: lat, lng."
    assert body["detail"]["zh"] == "输入有误：lat、lng。"


def test_each_field_message_follows_the_language(db):
    """pydantic words its messages in English only; in Chinese mode every field's message is
    Chinese too, not just the problem's title."""
    url = "/api/v1/places/nearby?lat=999&lng=abc"
    zh = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get(url).json()
    assert zh["status"] == 422
    messages = {e["field"]: e["message"] for e in zh["errors"]}
    assert set(messages) == {"lat", "lng"}
    assert all(CHINESE.search(m) for m in messages.values()), messages
    assert "90" in messages["lat"]
    en = Client(HTTP_ACCEPT_LANGUAGE="en").get(url).json()
    assert not any(CHINESE.search(e["message"]) for e in en["errors"]), en["errors"]
    assert en["title"].startswith("Invalid input: lat, lng")
