"""Rate limits (core/ratelimit.py): 429 with Retry-After on every limited endpoint, keyed on a
client address trusted only through TRUSTED_PROXIES, shared across processes through Redis, and,
with Redis down, sign-in refused while pages still serve (issue 18 items 1 and 6)."""

import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.test import RequestFactory, override_settings

from tests.factories import PASSWORD, as_level, build_area_tree, make_user, make_worker, signed_in
from warmstation.accounts.models import AuthLevel, Role
from warmstation.core.audit import client_ip
from warmstation.core.errors import RateLimited
from warmstation.core.ratelimit import rate_limit, rate_limit_count

REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
# A port nothing listens on: "Redis is down" without stopping the shared Redis.
REDIS_DOWN = "redis://127.0.0.1:1/9"


def _redis_cache(location: str, prefix: str) -> dict:
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.3, "SOCKET_TIMEOUT": 0.3},
        }
    }


def _limits(**scopes: tuple[int, int, str]) -> dict:
    return {**django_settings.RATE_LIMITS, **scopes}


def _redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=0.3).ping())
    except Exception:  # noqa: BLE001
        return False


# --- the client address -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "remote, forwarded, trusted, expected",
    [
        # No proxy configured: the header is the client's own word, ignored.
        ("203.0.113.9", "1.2.3.4", [], "203.0.113.9"),
        # From our proxy: the address it saw.
        ("10.0.0.2", "198.51.100.7", ["10.0.0.0/24"], "198.51.100.7"),
        # A client that sends its own X-Forwarded-For through our proxy: the proxy appends the real
        # address; reading from the right, past our proxies, finds it.
        ("10.0.0.2", "6.6.6.6, 198.51.100.7", ["10.0.0.0/24"], "198.51.100.7"),
        # Two of our proxies in a row.
        ("10.0.0.2", "198.51.100.7, 10.0.0.3", ["10.0.0.0/24"], "198.51.100.7"),
        # From someone who is not our proxy: header ignored.
        ("203.0.113.9", "198.51.100.7", ["10.0.0.0/24"], "203.0.113.9"),
        # Garbage from our proxy: its own address, not the garbage.
        ("10.0.0.2", "not-an-address", ["10.0.0.0/24"], "10.0.0.2"),
        ("::1", "2001:db8::5", ["::1"], "2001:db8::5"),
    ],
)
def test_the_client_address_trusts_forwarded_for_only_from_our_proxies(
    settings, remote, forwarded, trusted, expected
):
    settings.TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_limits_count_per_trusted_address(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    settings.RATE_LIMITS = _limits(search=(2, 60, "ip"))
    rf = RequestFactory()
    a = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.1")
    b = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.2")
    rate_limit(a, "search")
    rate_limit(a, "search")
    with pytest.raises(RateLimited) as refused:
        rate_limit(a, "search")
    assert 1 <= refused.value.extra["retry_after"] <= 61
    rate_limit(b, "search")  # another client behind the same proxy has its own budget
    # The limited client, connecting directly with an X-Forwarded-For of its choosing (not
    # through our proxy), is still itself: refused at once.
    spoof = rf.get("/", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="9.9.9.9")
    with pytest.raises(RateLimited):
        rate_limit(spoof, "search")


# --- every limited endpoint answers 429 with Retry-After --------------------------------------


@pytest.fixture
def people(db):
    tree = build_area_tree()
    return {
        "tree": tree,
        "admin": make_user(Role.DISTRICT_ADMIN, tree["district"]),
        "steward": make_user(Role.STEWARD, tree["gc"]),
        "worker": make_worker([tree["ylj"]]),
    }


def _assert_429(response, *, problem: bool = True):
    assert response.status_code == 429, response.content[:300]
    assert int(response["Retry-After"]) >= 1
    if problem:
        assert response["Content-Type"].startswith("application/problem+json")
        assert response.json()["code"] in ("rate_limited", "rate_limit_unavailable")


def test_staff_sign_in_page_and_api_are_limited_per_address(client, people, settings):
    settings.RATE_LIMITS = _limits(sign_in=(3, 300, "ip"))
    steward = people["steward"]
    for _ in range(3):
        assert (
            client.post(
                "/staff/login/", {"mobile": steward.mobile, "password": "wrong-password"}
            ).status_code
            == 422
        )
    page = client.post("/staff/login/", {"mobile": steward.mobile, "password": PASSWORD})
    _assert_429(page, problem=False)
    assert "稍后再试" in page.content.decode() or "秒后再试" in page.content.decode()
    api = client.post(
        "/api/v1/auth/staff-token",
        {"mobile": steward.mobile, "password": PASSWORD},
        content_type="application/json",
    )
    _assert_429(api)
    sms = client.post(
        "/api/v1/auth/sms-token",
        {"mobile": steward.mobile, "code": "123456"},
        content_type="application/json",
    )
    _assert_429(sms)
    # Another address signs in as usual.
    other = client.post(
        "/staff/login/", {"mobile": steward.mobile, "password": PASSWORD}, REMOTE_ADDR="192.0.2.50"
    )
    assert other.status_code == 302


def test_sms_codes_are_limited_per_address(client, db, settings):
    settings.RATE_LIMITS = _limits(sms_code=(2, 3600, "ip"))
    for i in range(2):
        assert (
            client.post(
                "/api/v1/auth/sms-code",
                {"mobile": f"1390000100{i}"},
                content_type="application/json",
            ).status_code
            == 200
        )
    _assert_429(
        client.post(
            "/api/v1/auth/sms-code", {"mobile": "13900001009"}, content_type="application/json"
        )
    )


def test_search_is_limited(client, db, settings):
    settings.RATE_LIMITS = _limits(search=(2, 60, "ip"))
    url = "/api/v1/places/nearby?lat=39.75&lng=116.14"
    assert client.get(url).status_code == 200
    assert client.get("/stations/").status_code == 200
    _assert_429(client.get(url))
    _assert_429(client.get("/stations/"), problem=False)


def test_needs_are_limited_per_person(people, settings):
    from warmstation.appeals.models import Category, RoutingRule
    from warmstation.appeals.models import Department as Dept

    settings.RATE_LIMITS = _limits(need=(1, 3600, "user"))
    category = Category.objects.create(
        code="c-rl", name_zh="其他", name_en="Other", answer_hours=8, resolve_days=5
    )
    department = Dept.objects.create(
        code="d-rl", name_zh="区人力社保局", kind="district_body", area=people["tree"]["district"]
    )
    RoutingRule.objects.create(category=category, area=None, department=department)
    client = signed_in(people["worker"], AuthLevel.CODE)
    body = {
        "category": category.code,
        "area_code": people["tree"]["gc"].code,
        "title": "充电桩坏了",
        "body": "驿站的充电桩不能用了。",
    }
    first = client.post("/api/v1/appeals", body, content_type="application/json")
    assert first.status_code == 201, first.content
    _assert_429(client.post("/api/v1/appeals", body, content_type="application/json"))
    # Someone else raises theirs: per person, not per address.
    other = signed_in(make_worker([people["tree"]["sz"]]), AuthLevel.CODE)
    assert other.post("/api/v1/appeals", body, content_type="application/json").status_code == 201


def test_open311_post_is_limited(client, people, settings):
    from warmstation.reports.services import open311_client_issue

    settings.RATE_LIMITS = _limits(open311_post=(0, 3600, "ip"))
    _client, key = open311_client_issue(
        actor=as_level(people["admin"]), name="对接系统", areas=[people["tree"]["district"]]
    )
    response = client.post(
        "/open311/v2/requests.json",
        {"api_key": key, "service_code": "x", "lat": "39.75", "long": "116.14"},
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert response.json()[0]["code"] == 429


# --- Redis: shared across processes; down → sign-in refused, pages serve ----------------------


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_limits_are_shared_across_processes_through_redis(settings):
    prefix = f"ws-test-{uuid.uuid4().hex[:8]}"
    settings.RATE_LIMITS = _limits(sign_in=(3, 300, "ip"))
    # Another process (as another granian worker would be) spends the budget of 192.0.2.7 …
    script = (
        "import django, os; django.setup()\n"
        "from django.conf import settings\n"
        "settings.RATE_LIMITS = {**settings.RATE_LIMITS, 'sign_in': (3, 300, 'ip')}\n"
        "from django.test import RequestFactory\n"
        "from warmstation.core.ratelimit import rate_limit\n"
        "r = RequestFactory().post('/', REMOTE_ADDR='192.0.2.7')\n"
        "for _ in range(3): rate_limit(r, 'sign_in')\n"
    )
    env = {
        **os.environ,
        "REDIS_URL": REDIS,
        "CACHE_KEY_PREFIX": prefix,
        "DJANGO_SETTINGS_MODULE": "warmstation.config.settings_test",
    }
    subprocess.run(
        [sys.executable, "-c", script],
        check=True,
        env=env,
        cwd=django_settings.BASE_DIR,
        timeout=60,
    )
    with override_settings(CACHES=_redis_cache(REDIS, prefix)):
        try:
            request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.7")
            # … so this process refuses the address's next try at once.
            with pytest.raises(RateLimited):
                rate_limit(request, "sign_in")
            rate_limit(RequestFactory().post("/", REMOTE_ADDR="192.0.2.8"), "sign_in")
        finally:
            caches["default"].delete_pattern("*")  # our prefix only; never FLUSHALL


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_on_redis_hits_are_counted_with_the_window_as_their_lifetime(settings):
    prefix = f"ws-test-{uuid.uuid4().hex[:8]}"
    settings.RATE_LIMITS = _limits(search=(3, 60, "ip"))
    with override_settings(CACHES=_redis_cache(REDIS, prefix)):
        try:
            cache = caches["default"]
            request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.9")
            rate_limit(request, "search")
            rate_limit(request, "search")
            assert rate_limit_count(request, "search") == 2
            (key,) = cache.keys("rl:search:*")
            assert 0 < cache.ttl(key) <= 61
            rate_limit(request, "search")
            with pytest.raises(RateLimited):
                rate_limit(request, "search")
        finally:
            caches["default"].delete_pattern("*")  # our prefix only; never FLUSHALL


def test_with_redis_down_sign_in_fails_closed_and_pages_still_serve(client, people):
    steward = people["steward"]
    with override_settings(CACHES=_redis_cache(REDIS_DOWN, "ws-down")):
        # Sign-in and SMS codes: refused, 429 with Retry-After, nothing sent.
        page = client.post("/staff/login/", {"mobile": steward.mobile, "password": PASSWORD})
        _assert_429(page, problem=False)
        _assert_429(
            client.post(
                "/api/v1/auth/staff-token",
                {"mobile": steward.mobile, "password": PASSWORD},
                content_type="application/json",
            )
        )
        _assert_429(
            client.post(
                "/api/v1/auth/sms-code", {"mobile": "13900002001"}, content_type="application/json"
            )
        )
        from warmstation.accounts.models import SmsCode

        assert not SmsCode.objects.filter(mobile="13900002001").exists()
        # Pages and searches still serve (their limits let requests through).
        for url in (
            "/",
            "/login/",
            "/staff/login/",
            "/stations/",
            "/healthz",
            "/api/v1/places/nearby?lat=39.75&lng=116.14",
        ):
            assert client.get(url).status_code in (200, 302), url
        # A signed-in person keeps working.
        client.force_login(people["admin"])
        assert client.get("/stations/").status_code == 200
        # Readiness says what is wrong.
        ready = client.get("/readyz").json()
        assert ready["cache"]["state"] == "unavailable"
        assert "cache" in ready["waiting_for"]
