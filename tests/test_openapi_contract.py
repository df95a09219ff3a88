"""Every API operation, fuzzed by schemathesis from our own OpenAPI schema: no 5xx, and every
response (status, content type, body) is one the schema declares.

(schemathesis's own pytest plugin does not work with pytest 9 yet, so each operation's
hypothesis strategy is driven here directly.)"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.factories import build_area_tree, make_user
from warmstation.accounts.models import AuthLevel, Role
from warmstation.accounts.services import api_token_issue
from warmstation.config.wsgi import application

# Loaded in process from the app's own /api/v1/openapi.json and called in process.
SCHEMAS = {
    "api": schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application),
    "hsds": schemathesis.openapi.from_wsgi("/hsds/openapi.json", application),
}
# Closing the account or revoking the token would end the fuzzing session for later examples.
SKIP = {("POST", "/api/v1/me/close"), ("POST", "/api/v1/auth/revoke")}
OPERATIONS = sorted(
    (name, method.upper(), path)
    for name, schema in SCHEMAS.items()
    for path, item in schema.raw_schema["paths"].items()
    for method in item
    if (method.upper(), path) not in SKIP
)
# Refused by design although well-formed: credentials that are simply wrong (or a number asking
# too often), and uploads whose bytes are not a picture (or not a spreadsheet). "Schema-valid request rejected" does
# not apply to them.
CONTENT_CHECKED = {"/api/v1/auth/sms-code", "/api/v1/auth/sms-token",
                   "/api/v1/auth/staff-token", "/api/v1/stations/{station_id}/photos",
                   "/api/v1/reports/photos", "/api/v1/data/imports"}


def schema_valid_data_passes_validation(ctx, response, case):
    """Schemathesis's "schema-valid request rejected", for our error model: data the schema
    accepts must pass the API's own validation (no 400, no 422 listing schema `errors`). A 422
    from a service (InvalidInput: an unknown category code, a value the database does not hold)
    is a domain answer about content the schema cannot describe, and is allowed
    (docs/decisions/0003-error-model.md)."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or case.path in CONTENT_CHECKED:
        return None
    if response.status_code == 400 or (response.status_code == 422 and "errors" in
                                       response.json()):
        raise AssertionError(f"Schema-valid request refused by validation: {response.text}")
    return None


@pytest.fixture
def keep_test_connection():
    """Calling the WSGI app fires request_started/finished, whose handler closes the database
    connection — and with it the test's transaction on PostgreSQL. Django's test Client
    disconnects that handler the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.usefixtures("keep_test_connection")
@pytest.mark.parametrize("name, method, path", OPERATIONS,
                         ids=[f"{m} {p}" for _n, m, p in OPERATIONS])
def test_operation_conforms_to_schema(db, name, method, path):
    tree = build_area_tree()
    admin = make_user(Role.DISTRICT_ADMIN, tree["district"])
    # Identity encoding: the contract is about the content; the in-process transport would hand
    # a gzipped body (core/compression.py) to the checks undecoded.
    headers = {"Authorization": f"Bearer {api_token_issue(user=admin, auth_level=AuthLevel.MFA)}",
               "Accept-Encoding": "identity"}
    operation = SCHEMAS[name][path][method]

    @given(case=operation.as_strategy())
    # Deterministic in CI; FUZZ_RANDOM=1 explores new examples on every run.
    @settings(max_examples=15, deadline=None, database=None,
              derandomize=os.environ.get("FUZZ_RANDOM") != "1",
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def check(case):
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance],
                               additional_checks=[schema_valid_data_passes_validation])

    check()


# Every other role (and nobody) over every operation: the same checks, fewer examples each, so
# the answers a role gets (403, 404 out of scope, its own lists) are in the schema too and never
# a 5xx. One test per role: its people are made once and every operation runs in its transaction.
ROLE_EXAMPLES = int(os.environ.get("FUZZ_ROLE_EXAMPLES", "1"))
ROLES = {
    "anonymous": (None, None),
    "worker": (Role.WORKER, AuthLevel.CODE),
    "resident": (Role.RESIDENT, AuthLevel.CODE),
    "steward": (Role.STEWARD, AuthLevel.PASSWORD),
    "merchant": (Role.MERCHANT, AuthLevel.PASSWORD),
    "department": (Role.DEPARTMENT, AuthLevel.PASSWORD),
    "area_admin": (Role.AREA_ADMIN, AuthLevel.MFA),
}


@pytest.mark.usefixtures("keep_test_connection")
@pytest.mark.parametrize("role", list(ROLES))
def test_every_operation_conforms_for_each_role(db, role):
    tree = build_area_tree()
    grant, level = ROLES[role]
    headers = {"Accept-Encoding": "identity"}
    if grant is not None:
        area = tree["district"] if grant in (Role.WORKER, Role.RESIDENT) else tree["gc"]
        person = make_user(grant, area)
        headers["Authorization"] = f"Bearer {api_token_issue(user=person, auth_level=level)}"
    failures = []
    for name, method, path in OPERATIONS:
        operation = SCHEMAS[name][path][method]

        @given(case=operation.as_strategy())
        @settings(max_examples=ROLE_EXAMPLES, deadline=None, database=None,
                  derandomize=os.environ.get("FUZZ_RANDOM") != "1",
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance],
                                   additional_checks=[schema_valid_data_passes_validation])

        try:
            check()
        except Exception as exc:  # noqa: BLE001 — collect every operation's failure, then fail
            failures.append(f"{method} {path}: {str(exc)[:600]}")
    assert not failures, "\n\n".join(failures)
