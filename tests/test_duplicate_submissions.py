"""Duplicate submissions create nothing twice (issue 18 item 6): a double tap on the need form,
a retried API call with the same Idempotency-Key, and two copies of one request arriving at the
same moment (real threads, PostgreSQL). Street reports (`client_key`, reports/tests), the points
ledger and redemptions (idempotency keys, points/ and benefits/tests) have their own tests."""

import re
import threading

import pytest
from django.db import connection
from django.test import Client

from tests.factories import build_area_tree, make_appeal_setup, signed_in
from warmstation.accounts.models import AuthLevel
from warmstation.appeals.models import Appeal


@pytest.fixture
def world(db):
    tree = build_area_tree()
    return {"tree": tree, **make_appeal_setup(tree)}


def _form(client: Client) -> dict:
    page = client.get("/appeals/new/")
    assert page.status_code == 200
    key = re.search(r'name="client_key" value="([^"]+)"', page.content.decode())
    assert key, "the need form carries a one-time key"
    return {"client_key": key.group(1)}


def test_a_double_tap_on_the_need_form_raises_one_need(world):
    client = signed_in(world["worker"], AuthLevel.CODE)
    body = {**_form(client), "category": "housing", "area": world["tree"]["ylj"].code,
            "title": "想找短租房", "body": "下个月需要短租一间房。"}
    first = client.post("/appeals/new/", body)
    second = client.post("/appeals/new/", body)  # the same form, sent again
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Appeal.objects.filter(submitter=world["worker"]).count() == 1
    # A new form (a new key) is a new need.
    third = client.post("/appeals/new/", {**body, **_form(client)})
    assert third.status_code == 302 and third["Location"] != first["Location"]
    assert Appeal.objects.filter(submitter=world["worker"]).count() == 2


def test_a_retried_api_call_with_the_same_key_raises_one_need(world):
    client = signed_in(world["worker"], AuthLevel.CODE)
    body = {"category": "housing", "area_code": world["tree"]["ylj"].code,
            "title": "想找短租房", "body": "下个月需要短租一间房。"}
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-7f3a"}
    first = client.post("/api/v1/appeals", body, content_type="application/json", **headers)
    again = client.post("/api/v1/appeals", body, content_type="application/json", **headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Appeal.objects.filter(submitter=world["worker"]).count() == 1
    # The key is the person's: another worker's same key is their own need.
    other = signed_in(world["other_worker"], AuthLevel.CODE)
    body_sz = {**body, "area_code": world["tree"]["sz"].code}
    assert other.post("/api/v1/appeals", body_sz, content_type="application/json",
                      **headers).status_code == 201
    assert Appeal.objects.count() == 2
    # A malformed key is the input's fault.
    bad = client.post("/api/v1/appeals", body, content_type="application/json",
                      HTTP_IDEMPOTENCY_KEY="含 空格")
    assert bad.status_code == 422


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="two requests at the same moment: real threads on PostgreSQL")
def test_two_copies_arriving_together_raise_one_need(transactional_db):
    tree = build_area_tree()
    world = make_appeal_setup(tree)
    clients = [signed_in(world["worker"], AuthLevel.CODE) for _ in range(2)]
    body = {"category": "housing", "area_code": tree["ylj"].code, "title": "想找短租房",
            "body": "下个月需要短租一间房。"}
    barrier = threading.Barrier(2)
    answers: list = []

    def send(client: Client) -> None:
        barrier.wait()
        answers.append(client.post("/api/v1/appeals", body, content_type="application/json",
                                   HTTP_IDEMPOTENCY_KEY="tap-tap-1"))
        connection.close()

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert [a.status_code for a in answers] == [201, 201], [a.content[:200] for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert Appeal.objects.filter(client_key="tap-tap-1").count() == 1
