"""A worker's full mobile never leaks to staff (issue 18 item 5): every list the API offers
(each GET operation without a path parameter), the worker roster and the needs' exports, read by
every staff role, hold the number masked at most, but where a role needs it (NEEDS_THE_NUMBER). Only the person themself, and a reveal (a
separate, audited call: docs/security.md), show it in full."""

import io
import zipfile

import pytest

from tests.factories import as_level, build_area_tree, make_appeal_setup, make_user, signed_in
from tests.test_openapi_contract import SCHEMAS
from warmstation.accounts.models import AuthLevel, Role

MOBILE = "13912348765"

LISTS = sorted(
    path for path, item in SCHEMAS["api"].raw_schema["paths"].items()
    if "get" in item and "{" not in path and not path.endswith("/me/export")
    and "/me" not in path
)
# Who needs the number, by design (appeals/selectors.py submitter_label): the dispatchers of the
# case's area (area and district admins) see the person who raised a need, number included, to
# call them back, in the case list and in its export. Everyone and everything else: masked.
NEEDS_THE_NUMBER = {(role, url) for role in ("district_admin", "area_admin")
                    for url in ("/api/v1/appeals", "/appeals/export.xlsx", "/appeals/export.csv")}
PAGES = ["/workers/", "/appeals/inbox/", "/appeals/board/", "/appeals/export.xlsx",
         "/appeals/export.csv"]


def _text(response) -> str:
    body = response.content
    if body[:2] == b"PK":  # xlsx: the strings live in the zip's XML parts
        with zipfile.ZipFile(io.BytesIO(body)) as book:
            return "".join(book.read(n).decode("utf-8", "replace") for n in book.namelist()
                           if n.endswith(".xml"))
    return body.decode("utf-8", "replace")


@pytest.fixture
def world(db):
    from warmstation.appeals import services

    tree = build_area_tree()
    people = make_appeal_setup(tree)
    worker = people["worker"]
    worker.mobile = MOBILE
    worker.save(update_fields=["mobile"])
    services.appeal_create(actor=worker, category=people["cats"]["housing"], area=tree["ylj"],
                           title="想找短租房", body="下个月需要短租一间房。")
    staff = {
        "district_admin": people["district"],
        "area_admin": people["gc_admin"],
        "department": people["rsj_staff"],
        "steward": as_level(make_user(Role.STEWARD, tree["gc"]), AuthLevel.PASSWORD),
        "merchant": as_level(make_user(Role.MERCHANT, tree["gc"]), AuthLevel.PASSWORD),
    }
    return {"tree": tree, "worker": worker, "staff": staff}


def test_no_list_or_export_shows_a_full_mobile_to_staff(world):
    leaks = []
    for role, person in world["staff"].items():
        client = signed_in(person, person.auth_level)
        for url in [f"/api/v1{p.removeprefix('/api/v1')}" for p in LISTS] + PAGES:
            response = client.get(url, HTTP_ACCEPT_ENCODING="identity")
            if response.status_code == 200 and MOBILE in _text(response) \
                    and (role, url) not in NEEDS_THE_NUMBER:
                leaks.append(f"{role} {url}")
    assert not leaks, leaks


def test_the_roster_shows_the_number_masked(world):
    admin = world["staff"]["area_admin"]
    roster = signed_in(admin, admin.auth_level).get("/workers/")
    assert roster.status_code == 200
    text = roster.content.decode()
    assert "139****8765" in text and MOBILE not in text
