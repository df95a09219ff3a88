"""Every write operation of the API, driven with input outside its contract: out-of-range
numbers and dates, control characters and oversized strings, one field at a time. Each must be
refused with 422 problem+json and leave the database exactly as it was.

The operations, their fields and the bad values come from the OpenAPI document itself, so a new
operation (or a new field) is covered without touching this file. The rest of each request is
generated valid by schemathesis (from the same document) and points at objects that exist and
that the caller (a district admin) may change, so a bad value that slipped through would reach
the service and be written. Deterministic in CI; FUZZ_RANDOM=1 explores new examples."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import (
    build_area_tree,
    make_appeal_setup,
    make_merchant,
    make_offer,
    make_station,
    make_worker,
)
from warmstation.accounts.models import AuthLevel
from warmstation.accounts.services import api_token_issue
from warmstation.config.wsgi import application

SCHEMA = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
RAW = SCHEMA.raw_schema
WRITES = sorted((method.upper(), path) for path, item in RAW["paths"].items()
                for method in item if method.upper() in ("POST", "PUT", "PATCH", "DELETE"))
# Tables a refused request may still touch: the session and the token's last use.
VOLATILE_TABLES = {"django_session", "accounts_apitoken"}

INT64 = 2**63


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        node: Any = RAW
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    if "anyOf" in schema:  # `X | None`: the non-null branch
        branches = [s for s in schema["anyOf"] if s.get("type") != "null"]
        if len(branches) == 1:
            return {**_resolve(branches[0]), **{k: v for k, v in schema.items() if k != "anyOf"}}
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _resolve(schema["allOf"][0])
    return schema


def bad_values(schema: dict) -> list[Any]:
    """Values outside the contract that `schema` describes (or should describe)."""
    schema = _resolve(schema)
    kind = schema.get("type")
    if kind == "string" and schema.get("format") == "date":
        return ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01", "2024-02-30", 20240101]
    if kind == "string" and schema.get("format") == "date-time":
        return ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"]
    if kind == "string" and "07:30" in json.dumps(schema):  # ClockTime
        return [12345, "25:00", "07:30+08:00", "7.5", "\x0007:30"]
    if kind == "string":
        longest = schema.get("maxLength", 100_000)
        values = ["a\x00b", "\x00", "\x1b[31m红\x1b[0m", "a\x7fb", "a\x85b", "line\u2028break",
                  "字" * (longest + 1)]
        if schema.get("enum"):
            values.append(f"{schema['enum'][0]}\x00")
        return values
    if kind == "integer":
        values = [INT64, -INT64 - 1, 10**30, 1e30, 2.5]
        if "minimum" in schema:
            values.append(int(schema["minimum"]) - 1)
        if "maximum" in schema:
            values.append(int(schema["maximum"]) + 1)
        return values
    if kind == "number":
        values = [1e30, -1e30, 10**400]
        if "minimum" in schema:
            values.append(schema["minimum"] - 1)
        if "maximum" in schema:
            values.append(schema["maximum"] + 1)
        return values
    if kind == "array":
        items = schema.get("items", {})
        values = [[v] for v in bad_values(items)[:3]]
        values.append(["1"] * (schema.get("maxItems", 10_000) + 1))
        return values
    return []  # booleans and free objects: nothing is out of range


def body_fields(schema: dict, prefix: tuple = ()) -> list[tuple[tuple, dict]]:
    """(path, schema) of every leaf of a JSON body: top-level fields and the fields of objects
    inside arrays (path uses 0 for the first element)."""
    schema = _resolve(schema)
    leaves = []
    for name, sub in schema.get("properties", {}).items():
        sub_r = _resolve(sub)
        leaves.append((prefix + (name,), sub_r))
        items = _resolve(sub_r.get("items", {})) if sub_r.get("type") == "array" else {}
        if items.get("properties"):
            leaves += body_fields(items, prefix + (name, 0))
    return leaves


def targets(method: str, path: str) -> list[tuple[str, tuple, dict]]:
    """Where a bad value can go in one operation: (location, path, schema)."""
    operation = RAW["paths"][path][method.lower()]
    found = [(p["in"], (p["name"],), _resolve(p["schema"]))
             for p in operation.get("parameters", [])]
    content = operation.get("requestBody", {}).get("content", {})
    for media, spec in content.items():
        found += [(f"body:{media}", leaf, sub) for leaf, sub in body_fields(spec["schema"])]
    return [t for t in found if bad_values(t[2])]


def db_fingerprint() -> dict[str, str]:
    """A checksum of every row of every table (bar the volatile ones)."""
    prints = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names()):
            if table in VOLATILE_TABLES:
                continue
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (names from introspection)
            rows = sorted(repr(row) for row in cursor.fetchall())
            prints[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]
    return prints


def _set(container: Any, leaf: tuple, value: Any) -> bool:
    """Put `value` at `leaf` inside a generated body; False if the body has no such place."""
    *parents, last = leaf
    node = container
    for key in parents:
        if isinstance(key, int):
            if not isinstance(node, list) or not node:
                return False
            node = node[0]
        else:
            if not isinstance(node, dict) or key not in node:
                return False
            node = node[key]
    if not isinstance(node, dict):
        return False
    node[last] = value
    return True


@pytest.fixture
def keep_test_connection():
    """Schemathesis' WSGI loader fires request_started/finished; see test_openapi_contract."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(db):
    """Real objects for every kind of id in a path, all within the admin's reach."""
    from warmstation.appeals import services as appeal_services
    from warmstation.appeals.models import PolicyAnswer
    from warmstation.appeals.policy import policy_answer_save
    from warmstation.areas.models import AreaContact
    from warmstation.stations import services as station_services

    tree = build_area_tree()
    people = make_appeal_setup(tree)
    admin = people["district"]
    worker = make_worker([tree["ylj"]])
    station = make_station(tree["ylj"], 39.72, 116.11, stock={"umbrella": 3})
    loan = station_services.loan_create(actor=None, station=station, item_code="umbrella",
                                        worker=worker)
    merchant = make_merchant(tree["gc"])
    offer = make_offer(merchant)
    appeal = appeal_services.appeal_create(
        actor=people["worker"], category=people["cats"]["housing"], area=tree["ylj"],
        title="住宿难", body="找不到短租房", submitter=people["worker"])
    answer = policy_answer_save(actor=None, entry=PolicyAnswer(), topic="employment",
                                question="怎么找工作？", answer="去人社局。")
    from warmstation.outreach import services as outreach
    from warmstation.outreach.models import OutboxMessage

    group = outreach.group_create(actor=admin, area=tree["ylj"], name="输入测试群")
    member = outreach.member_add(actor=admin, group=group, user=worker)
    channel = outreach.channel_create(actor=admin, group=group, kind="sms", name="短信")
    notice = outreach.notice_create(actor=admin, kind="tip", audience="group", group=group,
                                    title="通知", body="内容")
    dead = OutboxMessage.objects.create(channel="sms", recipient=worker.mobile, body="x",
                                        purpose="notice", status=OutboxMessage.Status.DEAD,
                                        delivery_channel=channel, notice=notice)
    ids = {
        "group_id": group.pk, "member_id": member.pk, "channel_id": channel.pk,
        "notice_id": notice.pk, "message_id": dead.pk,
        "station_id": station.pk, "loan_id": loan.pk, "merchant_id": merchant.pk,
        "offer_id": offer.pk, "appeal_id": appeal.pk, "answer_id": answer.pk,
        "contact_id": AreaContact.objects.filter(area=tree["gc"]).first().pk,
        "worker_id": worker.worker_profile.pk, "transaction_id": 1, "photo_id": 1,
        "code": "GC",
    }
    # Fields whose generated value would only be refused as unknown: real ones instead, so the
    # request as a whole would be carried out but for the one bad value.
    known = {
        "area_code": "GC", "category": "housing", "department": "rsj", "worker_mobile":
        worker.mobile, "mobile": worker.mobile, "item": "umbrella", "merchant_id": merchant.pk,
        "worker_id": worker.worker_profile.pk, "kind": None, "company": None,
    }
    token = api_token_issue(user=admin, auth_level=AuthLevel.MFA)
    return {"ids": ids, "known": known, "token": token}


def _request(client: Client, method: str, path: str, case, target, value, world) -> Any:
    location, leaf, _schema = target
    path_params = {k: world["ids"].get(k, v) for k, v in (case.path_parameters or {}).items()}
    query = dict(case.query or {})
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    headers["Authorization"] = f"Bearer {world['token']}"
    body = case.body if isinstance(case.body, dict | list) else None
    if isinstance(body, dict):
        body = {k: (world["known"][k] if k in world["known"] and world["known"][k] is not None
                    else v) for k, v in body.items()}
    if location == "path":
        path_params[leaf[0]] = value
    elif location == "query":
        query[leaf[0]] = value
    elif location == "header":
        headers[leaf[0]] = str(value)
    elif location.startswith("body:"):
        body = body if isinstance(body, dict) else {}
        if not _set(body, leaf, value):
            return None
    url = path
    for name, raw in path_params.items():
        url = url.replace("{" + name + "}", quote(str(raw), safe=""))
    if query:
        url += "?" + urlencode(query, doseq=True)
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    if location == "body:multipart/form-data" or (
            isinstance(case.media_type, str) and case.media_type.startswith("multipart")):
        form = {k: v for k, v in (body or {}).items() if not isinstance(v, bytes | bytearray)}
        return client.generic(method, url, data=urlencode(form),
                              content_type="application/x-www-form-urlencoded", **extra)
    data = json.dumps(body if body is not None else {}, ensure_ascii=False)
    return client.generic(method, url, data=data, content_type="application/json", **extra)


@pytest.mark.usefixtures("keep_test_connection")
@pytest.mark.parametrize("method, path", WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_write_operation_refuses_input_outside_its_contract(world, method, path):
    operation = SCHEMA[path][method]
    places = targets(method, path)
    if not places:
        pytest.skip("takes no input")
    client = Client()
    before = db_fingerprint()
    seen: list[tuple] = []

    @given(case=operation.as_strategy(), data=st.data())
    @settings(max_examples=12, deadline=None, database=None,
              derandomize=os.environ.get("FUZZ_RANDOM") != "1",
              suppress_health_check=list(HealthCheck))
    def check(case, data):
        target = data.draw(st.sampled_from(places), label="field")
        value = data.draw(st.sampled_from(bad_values(target[2])), label="value")
        response = _request(client, method, path, case, target, value, world)
        if response is None:
            return
        seen.append((target[0], target[1]))
        shown = f"{target[0]} {'.'.join(map(str, target[1]))}={value!r:.60}"
        assert response.status_code == 422, (shown, response.status_code, response.content[:300])
        assert response["Content-Type"].startswith("application/problem+json"), shown
        problem = response.json()
        assert problem["detail"]["zh"] and problem["detail"]["en"], shown
        # Refused for this value, not for something else in the request.
        named = [e["field"] for e in problem.get("errors", [])] + [problem.get("field") or ""]
        assert any(str(target[1][-1]) in name for name in named if name), (shown, problem)
        assert db_fingerprint() == before, f"{shown} changed the database"

    check()
    assert seen, "no bad value could be placed"
