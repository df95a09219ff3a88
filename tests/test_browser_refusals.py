"""A refused htmx form shows its message in the swapped partial (htmx ignores 4xx bodies by
default; base.html's responseHandling swaps 409, 422 and 429): core/refusals.py."""

import re

import pytest

from tests.conftest import page_as
from tests.factories import build_area_tree, make_merchant, make_offer, make_user
from warmstation.accounts.models import AuthLevel, Role
from warmstation.benefits.models import Redemption

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_counter_shows_a_refused_code_in_place_and_keeps_it(live_server, browser):
    # given
    tree = build_area_tree()
    owner = make_user(Role.MERCHANT, tree["xl"], mobile="13912340202")
    merchant = make_merchant(tree["xl"], 39.7207, 116.1101, name="燕山公共浴池", kind="bathhouse",
                             staff=owner)
    make_offer(merchant, kind="points", title="洗浴一次", points=30)
    owner.auth_level = AuthLevel.PASSWORD
    desk = page_as(browser, live_server, owner)
    desk.goto(f"{live_server.url}/merchant/")
    statuses = []
    desk.on("response", lambda r: statuses.append(r.status) if r.request.method == "POST"
            else None)

    # when: a code nobody was given, sent by htmx (the form swaps #verify in place)
    desk.get_by_label(re.compile("核销码")).fill("000000")
    desk.get_by_role("button", name="核销").click()

    # then
    desk.locator("#verify").get_by_text("核销码不对").wait_for(timeout=10_000)
    assert statuses == [409]
    assert desk.get_by_label(re.compile("核销码")).input_value() == "000000"
    assert desk.locator("h1").count() == 1  # the partial was swapped, not a page nested in it
    assert Redemption.objects.count() == 0
    desk.context.close()
