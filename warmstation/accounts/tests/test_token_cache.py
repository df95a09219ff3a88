"""Bearer-token sign-ins kept in the shared cache (API_TOKEN_CACHE_SECONDS, ADR 0018): a worker's
next requests skip the token and grants queries, and every change to the person, their grants or
their tokens is seen on the very next request, in every process (the cache is the one they
share). The local-memory cache here stands for Redis: one cache, as every process sees it."""

import os
import subprocess
import sys

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import make_worker
from warmstation.accounts import services
from warmstation.accounts.models import ApiToken, AuthLevel, Role
from warmstation.accounts.services import (
    _GEN_KEY,
    _TOKEN_KEY,
    _token_hash,
    api_token_issue,
    role_grant,
    role_revoke,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cached(settings):
    settings.API_TOKEN_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


def me(raw: str):
    return Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {raw}")


def auth_queries(raw: str) -> tuple[int, list[str]]:
    """The status of /api/v1/me and the queries it made to the token and grant tables, apart
    from the page's own listing of the grants."""
    with CaptureQueriesContext(connection) as captured:
        status = me(raw).status_code
    sql = [q["sql"] for q in captured.captured_queries]
    return status, [s for s in sql if "accounts_apitoken" in s
                    or ("accounts_rolegrant" in s and "ORDER BY" not in s)]


@pytest.fixture
def worker(tree):
    user = make_worker([tree["ylj"]], mobile="13812340001")
    return user, api_token_issue(user=user, auth_level=AuthLevel.CODE)


def test_a_cached_sign_in_makes_no_token_or_grant_query(cached, worker):
    # given
    _user, raw = worker
    first, first_queries = auth_queries(raw)

    # when
    second, second_queries = auth_queries(raw)

    # then
    assert (first, second) == (200, 200)
    assert len(first_queries) >= 2  # the token (with its person) and the grants, read once
    assert second_queries == []
    assert me(raw).json()["auth_level"] == AuthLevel.CODE


def test_without_the_setting_every_request_reads_the_token(worker, settings):
    # given
    settings.API_TOKEN_CACHE_SECONDS = 0
    _user, raw = worker
    me(raw)

    # when
    status, queries = auth_queries(raw)

    # then
    assert status == 200 and any("accounts_apitoken" in q for q in queries)
    assert cache.get(_TOKEN_KEY + _token_hash(raw)) is None


def _revoke(user, raw):  # the worker signs out
    assert Client().post("/api/v1/auth/revoke",
                         HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 204


def _close(user, raw):  # the worker closes their account (the erasure revokes in bulk)
    assert Client().post("/api/v1/me/close",
                         HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 204


def _deactivate(user, raw):  # as the Django admin does it
    user.is_active = False
    user.save()


def _delete_token(user, raw):
    ApiToken.objects.get(key_hash=_token_hash(raw)).delete()


@pytest.mark.parametrize("change", [_revoke, _close, _deactivate, _delete_token],
                         ids=["revoked", "account closed", "deactivated", "token deleted"])
def test_a_cached_token_is_refused_on_the_next_request_after(change, cached, worker,
                                                             django_capture_on_commit_callbacks):
    # given
    user, raw = worker
    assert me(raw).status_code == 200

    # when
    with django_capture_on_commit_callbacks(execute=True):
        change(user, raw)

    # then
    assert me(raw).status_code == 401


def test_a_grant_given_or_taken_counts_on_the_next_request(cached, worker, tree,
                                                           django_capture_on_commit_callbacks):
    # given: a resident grant is active at the code level, so it shows as active at once
    user, raw = worker
    assert Role.RESIDENT not in {r["role"] for r in me(raw).json()["roles"] if r["active"]}

    # when
    with django_capture_on_commit_callbacks(execute=True):
        grant = role_grant(actor=None, user=user, role=Role.RESIDENT, area=tree["ylj"])

    # then
    assert Role.RESIDENT in {r["role"] for r in me(raw).json()["roles"] if r["active"]}
    with django_capture_on_commit_callbacks(execute=True):
        role_revoke(actor=None, grant=grant)
    assert Role.RESIDENT not in {r["role"] for r in me(raw).json()["roles"]}


def test_what_was_read_before_a_change_committed_is_not_kept(cached, worker, monkeypatch):
    """A request reads the token while another process revokes it and forgets it: the reader
    sees the generation move and drops what it read, so it cannot outlive the revocation."""
    # given: the revocation lands between this request's read and its write to the cache
    user, raw = worker
    read = services._live_token

    def read_then_someone_revokes(tokens, key_hash, now):
        token = read(tokens, key_hash, now)
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
        services._forget_now(user.pk, [])
        return token

    monkeypatch.setattr(services, "_live_token", read_then_someone_revokes)

    # when
    assert me(raw).status_code == 200  # it read the token before the revocation

    # then
    assert cache.get(_TOKEN_KEY + _token_hash(raw)) is None
    assert cache.get(_GEN_KEY + _token_hash(raw)) is not None
    monkeypatch.undo()
    assert me(raw).status_code == 401


def test_an_expired_cached_token_is_refused(cached, worker):
    # given: cached, then its expiry passes (as time would)
    _user, raw = worker
    assert me(raw).status_code == 200
    key = _TOKEN_KEY + _token_hash(raw)
    person, token_id, level, _expires_at, used = cache.get(key)
    cache.set(key, (person, token_id, level, timezone.now(), used), 60)

    # then
    assert me(raw).status_code == 401


def test_the_database_answers_when_the_cache_does_not(worker, settings):
    # given: a shared cache that is down (nothing listens on port 1)
    settings.API_TOKEN_CACHE_SECONDS = 60
    settings.CACHES = {"default": {
        "BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2}}}
    _user, raw = worker

    # when
    response = me(raw)

    # then
    assert response.status_code == 200
    assert response.json()["mobile"] == "13812340001"


def test_no_password_hash_or_totp_secret_is_written_to_the_cache(cached, tree):
    # given: a steward with a password and a TOTP secret, signed in by token
    user = make_worker([tree["ylj"]], mobile="13812340002")
    user.set_password("a long pass phrase 2026")
    user.totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    user.save()
    raw = api_token_issue(user=user, auth_level=AuthLevel.CODE)
    assert me(raw).status_code == 200

    # when
    kept = cache.get(_TOKEN_KEY + _token_hash(raw))[0]
    signed_in = services.api_token_authenticate(raw)

    # then: neither is in the cached copy; a request that needs one reads it from the database
    assert {"password", "totp_secret"} <= kept.get_deferred_fields()
    assert signed_in.totp_secret == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    assert signed_in.check_password("a long pass phrase 2026")


def test_caching_sign_ins_without_a_shared_cache_is_refused():
    """A local-memory cache is per process: a token revoked in one would work in the others."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env | {"API_TOKEN_CACHE_SECONDS": "60",
                   "DJANGO_SETTINGS_MODULE": "warmstation.config.settings"},
        capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "API_TOKEN_CACHE_SECONDS needs REDIS_URL" in result.stderr
