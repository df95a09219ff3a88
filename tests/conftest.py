"""Browser-test plumbing shared by every tests/test_browser_*.py: one headless Chromium per run
(Debian's, driven by Playwright without `playwright install`), a 360 px phone page, and pages
signed in as a given person."""

import os
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import signed_in

# Playwright's sync API runs an event loop in the test thread; the ORM calls between page
# actions are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}
DESK = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, but static files go through whitenoise as in production
    (hashed names, brotli/gzip, long cache) instead of Django's finder-based handler, which
    knows no hashed names and compresses nothing — so page weights measured here are real."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer(request.config.getvalue("liveserver") or "localhost", start=False)
    server.thread.static_handler = lambda handler: handler
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="zh-CN", **PHONE)
    page = context.new_page()
    yield page
    context.close()


def page_as(browser, live_server, user, *, phone: bool = False):
    """A page signed in as `user`, with the session the real sign-in would leave."""
    client = signed_in(user, user.auth_level)
    context = browser.new_context(locale="zh-CN", **(PHONE if phone else DESK))
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                          "url": live_server.url}])
    return context.new_page()


def screenshot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)
