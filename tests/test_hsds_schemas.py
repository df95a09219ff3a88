"""Every document /hsds/ serves for the demo data is valid against Open Referral's own HSDS 3.0
schemas (`../shared/peer/hsds/3.0/`, see its PROVENANCE.md): every page of every list and every
single record, each against the schema the 3.0 OpenAPI names for its operation's 200 response,
with Draft 2020-12 and formats checked (uuid, uri, email, date-time), as `jsonSchemaDialect`
declares. Nothing is fetched: the specification's absolute URLs map to the local files through a
`referencing.Registry`.

Beyond validity, each document is walked against the schema's declared properties: no value is
null (an absent value is left out) and no field is one the 3.0 schema does not define (a 3.1
field such as `additional_websites` or an attribute's `label` would be one).

The demo data is seeded once for the module (rolled back at the end)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.factories import once_per_module

# A copy of ../shared/peer/hsds/3.0 kept in the repository (tests/peer/README.md), so a clone
# anywhere validates against the same official schemas.
PEER = Path(os.environ.get("HSDS_SCHEMAS") or Path(__file__).resolve().parent / "peer/hsds/3.0")
RAW = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
OPENAPI = "urn:hsds-3.0:openapi"
PER_PAGE = 20  # small pages, so that every list has several


def _registry() -> Registry:
    if not (PEER / "openapi.json").exists():
        pytest.fail(f"the HSDS 3.0 schemas are not at {PEER} (set HSDS_SCHEMAS)")
    resources = []
    for path in sorted(PEER.rglob("*.json")):
        rel = path.relative_to(PEER).as_posix()
        contents = json.loads(path.read_text(encoding="utf-8"))
        uri = OPENAPI if rel == "openapi.json" else RAW + rel
        resources.append((uri, Resource.from_contents(contents,
                                                      default_specification=DRAFT202012)))
    # compiled/organization.json (named by getOrganizationById) is organization.json with its
    # $refs inlined; the peer copy leaves it out, so it is resolved through the entity schema.
    resources.append((RAW + "compiled/organization.json",
                      DRAFT202012.create_resource({"$ref": "../organization.json"})))
    # No retrieve function: a reference to anything else fails instead of going to the network.
    return Registry().with_resources(resources)


REGISTRY = None


def registry() -> Registry:
    global REGISTRY
    if REGISTRY is None:
        REGISTRY = _registry()
    return REGISTRY


def op_schema(op: str) -> dict:
    pointer = op.replace("~", "~0").replace("/", "~1")
    return {"$ref": f"{OPENAPI}#/paths/{pointer}/get/responses/200/content/"
                    "application~1json/schema"}


def ref(name: str) -> dict:
    return {"$ref": RAW + name}


def paged(op: str, *items: dict) -> dict:
    """The operation's page, its items also held to `items` (a full=true listing)."""
    if not items:
        return op_schema(op)
    return {**op_schema(op), "properties": {"contents": {"type": "array",
                                                         "items": {"allOf": list(items)}}}}


ORGANIZATION_SERVICES = {"services": {"type": "array", "items": ref("compiled/service_list.json")}}
ORGANIZATION_FULL_SERVICES = {"services": {"type": "array", "items": ref("compiled/service.json")}}


def _declared(schema: dict, resolver) -> tuple[dict, Any]:
    """The properties (and items) a schema declares, through $ref and allOf; a schema's own
    declarations come before those it refers to."""
    props: dict[str, tuple[dict, Any]] = {}
    items = None
    queue = [(schema, resolver)]
    while queue:
        s, r = queue.pop(0)
        for name, sub in s.get("properties", {}).items():
            props.setdefault(name, (sub, r))
        if items is None and isinstance(s.get("items"), dict):
            items = (s["items"], r)
        if "$ref" in s:
            found = r.lookup(s["$ref"])
            queue.append((found.contents, found.resolver))
        queue += [(sub, r) for sub in s.get("allOf", [])]
    return props, items


def undeclared(instance: Any, schema: dict, resolver, path: str = "$") -> list[str]:
    """Nulls, and fields the schema does not define, anywhere in `instance`."""
    props, items = _declared(schema, resolver)
    out = []
    if isinstance(instance, dict):
        for key, value in instance.items():
            if value is None:
                out.append(f"{path}.{key} is null")
            elif key not in props:
                out.append(f"{path}.{key} is not an HSDS 3.0 field")
            else:
                out += undeclared(value, *props[key], f"{path}.{key}")
    elif isinstance(instance, list) and items is not None:
        for i, value in enumerate(instance):
            out += undeclared(value, *items, f"{path}[{i}]")
    return out


def violations(document: Any, schema: dict) -> list[str]:
    validator = Draft202012Validator(schema, registry=registry(),
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    found = [f"{'/'.join(map(str, e.absolute_path)) or '$'}: {e.message}"
             for e in validator.iter_errors(document)]
    return found + undeclared(document, schema, registry().resolver())


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo data, seeded once for the module inside a transaction rolled back at the end."""
    from warmstation.demo.seed import seed_demo

    with once_per_module(django_db_blocker):
        seed_demo(workers=5)
        yield Client()


class Checked:
    """The documents fetched, each with its violations."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.documents = 0
        self.problems: list[str] = []

    def get(self, url: str, schema: dict, **query: Any) -> Any:
        response = self.client.get(url, query)
        label = f"{url}?{'&'.join(f'{k}={v}' for k, v in query.items())}"
        self.documents += 1
        if response.status_code != 200:
            self.problems.append(f"{label}: answered {response.status_code}")
            return {"contents": [], "total_pages": 0, "total_items": 0}
        body = response.json()
        self.problems += [f"{label}: {p}" for p in violations(body, schema)[:20]]
        return body

    def pages(self, url: str, schema: dict, **query: Any) -> list[dict]:
        """Every page of a list, and the empty one after the last."""
        first = self.get(url, schema, per_page=PER_PAGE, **query)
        items = list(first["contents"])
        for number in range(2, first["total_pages"] + 2):
            body = self.get(url, schema, per_page=PER_PAGE, page=number, **query)
            items += body["contents"]
        assert len(items) == first["total_items"], url
        return items


def test_every_document_of_the_demo_data_is_valid_hsds_3_0(demo, db):
    c = Checked(demo)
    c.get("/hsds/", op_schema("/"))

    services = c.pages("/hsds/services", paged("/services"))
    full = c.pages("/hsds/services", paged("/services", ref("compiled/service.json")),
                   full="true")
    assert len(services) == len(full) >= 50
    for s in services:
        c.get(f"/hsds/services/{s['id']}", op_schema("/services/{id}"))

    organizations = c.pages("/hsds/organizations", paged("/organizations"))
    c.pages("/hsds/organizations", paged("/organizations", ref("organization.json"),
                                         {"properties": ORGANIZATION_SERVICES}), full="true")
    c.pages("/hsds/organizations", paged("/organizations", ref("organization.json"),
                                         {"properties": ORGANIZATION_FULL_SERVICES}),
            full="true", full_service="true")
    assert len(organizations) >= 5
    for o in organizations:
        c.get(f"/hsds/organizations/{o['id']}",
              {"allOf": [op_schema("/organizations/{id}")], "properties": ORGANIZATION_SERVICES})
        c.get(f"/hsds/organizations/{o['id']}",
              {"allOf": [op_schema("/organizations/{id}")],
               "properties": ORGANIZATION_FULL_SERVICES}, full_service="true")

    sals = c.pages("/hsds/service_at_locations", paged("/service_at_locations"))
    c.pages("/hsds/service_at_locations", paged(
        "/service_at_locations", ref("service_at_location.json"),
        ref("compiled/service_at_location_list.json")), full="true")
    assert len(sals) == len(services)
    for sal in sals:
        # The 3.0 OpenAPI names compiled/service.json for this operation (3.1 corrects it to
        # service_at_location.json): the document must hold under both, and its `service` as
        # the listing describes it.
        c.get(f"/hsds/service_at_locations/{sal['id']}", {"allOf": [
            ref("service_at_location.json"), op_schema("/service_at_locations/{id}"),
            ref("compiled/service_at_location_list.json")]})

    for t in c.pages("/hsds/taxonomies", paged("/taxonomies")):
        c.get(f"/hsds/taxonomies/{t['id']}", op_schema("/taxonomies/{id}"))
    for t in c.pages("/hsds/taxonomy_terms", paged("/taxonomy_terms")):
        c.get(f"/hsds/taxonomy_terms/{t['id']}", op_schema("/taxonomy_terms/{id}"))

    assert c.documents > 2 * len(services)
    assert not c.problems, f"{len(c.problems)} violations in {c.documents} documents:\n" + \
        "\n".join(c.problems[:60])


def test_the_validator_sees_what_an_importer_would_refuse():
    """The check itself: a null, a 3.1 field, a bad format and a missing required field are
    each reported."""
    good = {"id": "ac148810-d857-441c-9679-408f346de14b", "name": "驿站", "status": "active"}
    schema = op_schema("/services/{id}")
    assert violations(good, schema) == []
    assert violations({**good, "email": None}, schema)
    assert violations({**good, "attributes": [{"id": good["id"], "label": "x"}]}, schema)
    assert violations({**good, "url": "not a uri"}, schema)
    assert violations({**good, "last_modified": "0.5"}, schema)
    assert violations({"id": good["id"], "name": "驿站"}, schema)
    page = {"total_items": "1", "contents": [good]}
    assert violations(page, op_schema("/services"))


# Parameters of the 3.0 OpenAPI we do not offer (docs/hsds.md): `format` (ndjson streaming),
# `minimal`, and `postcode`/`proximity` (we hold no postcodes).
NOT_OFFERED = {"format", "minimal", "postcode", "proximity"}


def test_our_openapi_declares_every_operation_and_parameter_of_the_specification():
    from warmstation.config.hsds import hsds

    spec = json.loads((PEER / "openapi.json").read_text(encoding="utf-8"))
    ours = {re.sub(r"{\w+}", "{id}", path.removeprefix("/hsds")) or "/": item["get"]
            for path, item in hsds.get_openapi_schema(path_prefix="/hsds/")["paths"].items()}
    missing = []
    for path, item in spec["paths"].items():
        if path not in ours:
            missing.append(f"{path}: not served")
            continue
        declared = {p["name"] for p in ours[path].get("parameters", []) if p["in"] == "query"}
        for p in item["get"].get("parameters", []):
            name = p.get("name") or spec["components"]["parameters"][p["$ref"].split("/")[-1]][
                "name"]
            if name not in declared and name not in NOT_OFFERED:
                missing.append(f"{path}: parameter {name} not declared")
    assert not missing, "\n".join(missing)
