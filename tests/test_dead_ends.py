"""No dead ends: every page a role's guide (docs/guide-<role>.md) names is reachable by links
from that role's home, within two taps — crawled as each role signs in. Sign-in pages, API
paths and paths with parameters are left out (they are not pages one navigates to)."""

import re
from collections import deque
from pathlib import Path

import pytest

from tests.factories import make_appeal_setup, make_merchant, make_user, signed_in
from warmstation.accounts.models import AuthLevel, Role

DOCS = Path(__file__).resolve().parent.parent / "docs"
NOT_NAVIGATED = {"/login/", "/staff/login/", "/staff/mfa/"}
HREF = re.compile(r'href="(/[^"#?]*)')


def guide_pages(role: str) -> set[str]:
    text = (DOCS / f"guide-{role}.md").read_text()
    paths = set(re.findall(r"`(/[a-z0-9_/.-]*)`", text))
    return {p for p in paths if not p.startswith("/api/") and p not in NOT_NAVIGATED}


def reachable(client, depth: int = 2) -> set[str]:
    seen, queue = {"/"}, deque([("/", 0)])
    while queue:
        path, d = queue.popleft()
        response = client.get(path)
        if d == depth or response.status_code != 200 or \
                "text/html" not in response.get("Content-Type", ""):
            continue
        for href in HREF.findall(response.content.decode()):
            if href.startswith(("/static/", "/media/", "/logout", "/i18n/")) or href in seen:
                continue
            seen.add(href)
            queue.append((href, d + 1))
    return seen


@pytest.fixture
def people(tree):
    s = make_appeal_setup(tree)
    merchant = make_user(Role.MERCHANT, tree["xl"])
    make_merchant(tree["xl"], staff=merchant)
    return {
        "worker": (s["worker"], AuthLevel.CODE),
        "resident": (make_user(Role.RESIDENT, tree["ylj"]), AuthLevel.CODE),
        "steward": (s["steward"], AuthLevel.PASSWORD),
        "merchant": (merchant, AuthLevel.PASSWORD),
        "department": (s["rsj_staff"], AuthLevel.PASSWORD),
        "area-admin": (s["gc_admin"], AuthLevel.MFA),
        "district-admin": (s["district"], AuthLevel.MFA),
    }


@pytest.mark.parametrize("role", ["worker", "resident", "steward", "merchant", "department",
                                  "area-admin", "district-admin"])
def test_every_page_of_the_guide_is_linked_from_the_role_s_home(people, role):
    user, level = people[role]
    found = reachable(signed_in(user, level))
    missing = sorted(guide_pages(role) - found)
    assert not missing, f"{role}: not reachable from / in two taps: {missing}"
