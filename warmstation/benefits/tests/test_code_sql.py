"""A worker's meal code on PostgreSQL is one statement (code_sql.py, ADR 0019): it writes the
same rows as the ORM path, column by column; a retry answers the first code again; a refusal,
a code that holds points and six digits already live at the counter all end as the ORM path
ends them."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_merchant, make_offer, make_user, make_worker
from warmstation.accounts.models import Role
from warmstation.benefits import services
from warmstation.benefits.models import Redemption
from warmstation.core.errors import ApplicationError
from warmstation.core.models import AuditEvent
from warmstation.points.models import Hold, IdempotencyKey
from warmstation.points.tests.factories import fund

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's path")

# Columns that differ between any two codes (ids, clocks, the random code's hashes).
VARYING = {"id", "issued_at", "expires_at", "digits_hash", "token_hash", "created_at", "at",
           "object_id", "key", "response"}


@pytest.fixture
def counter(tree):
    merchant = make_merchant(tree["xl"], staff=make_user(Role.MERCHANT, tree["xl"]))
    return merchant, make_offer(merchant)


def _rows(redemption_id: int, key: str, worker_id: int) -> dict[str, list[dict]]:
    def strip(rows):
        return [{k: v for k, v in row.items() if k not in VARYING} for row in rows]

    return {
        "codes": strip(Redemption.objects.filter(pk=redemption_id).values()),
        "cancelled": strip(Redemption.objects.filter(worker_id=worker_id,
                                                     status=Redemption.Status.CANCELLED)
                           .values()),
        "audit": strip(AuditEvent.objects.filter(object_type="benefits.redemption",
                                                 object_id=str(redemption_id)).values()),
        "key": strip(IdempotencyKey.objects.filter(scope=services.CODE_SCOPE, key=key,
                                                  owner_id=worker_id).values()),
    }


def _issue(monkeypatch, worker, offer, *, one_statement: bool, key: str):
    monkeypatch.setattr(services, "ONE_STATEMENT", one_statement)
    with CaptureQueriesContext(connection) as captured:
        code = services.redemption_code_issue(user=worker, offer=offer, idempotency_key=key)
    return code, [q["sql"] for q in captured.captured_queries]


@on_postgresql
def test_one_statement_writes_what_the_orm_writes(tree, counter, monkeypatch):
    _merchant, offer = counter
    answers = {}
    for one_statement in (True, False):
        worker = make_worker([tree["sz"]])
        # Each has an earlier live code for the offer, which the new one cancels.
        services.redemption_code_issue(user=worker, offer=offer, idempotency_key="before")
        code, statements = _issue(monkeypatch, worker, offer, one_statement=one_statement,
                                  key="now")
        answers[one_statement] = (code, statements, worker)
    (one, statements, w1), (orm, orm_statements, w2) = answers[True], answers[False]
    assert sum(s.startswith("WITH old AS") for s in statements) == 1
    assert not any(s.startswith(('INSERT INTO "benefits_redemption"',
                                 'INSERT INTO "points_idempotencykey"',
                                 'INSERT INTO "core_auditevent"')) for s in statements)
    assert len(statements) < len(orm_statements)
    a, b = _rows(one["redemption_id"], "now", w1.pk), _rows(orm["redemption_id"], "now", w2.pk)
    for rows in (a, b):
        assert len(rows["codes"]) == len(rows["cancelled"]) == len(rows["audit"]) == 1
        assert len(rows["key"]) == 1
        for row in (*rows["codes"], *rows["cancelled"]):
            row.pop("worker_id")
        for row in rows["audit"]:
            row.pop("actor_id")
        for row in rows["key"]:
            row.pop("owner_id"), row.pop("request_hash")  # both name the worker
    assert a == b
    stored_answers = [IdempotencyKey.objects.get(owner_id=w.pk, key="now").response
                      for w in (w1, w2)]
    assert stored_answers[0].keys() == stored_answers[1].keys()
    assert stored_answers[0]["redemption_id"] == one["redemption_id"]
    # The answers have the same shape, and the stored code is the one handed out.
    assert one.keys() == orm.keys()
    stored = Redemption.objects.get(pk=one["redemption_id"])
    assert stored.digits_hash == services.digits_hash(stored.merchant_id, one["digits"])
    assert stored.token_hash == services.token_hash(one["qr_payload"][len(services.QR_PREFIX):])
    assert stored.expires_at.isoformat() == one["expires_at"]


@on_postgresql
def test_a_retry_shows_the_same_code_and_writes_nothing(tree, counter):
    _merchant, offer = counter
    worker = make_worker([tree["sz"]])
    first = services.redemption_code_issue(user=worker, offer=offer, idempotency_key="k")
    again = services.redemption_code_issue(user=worker, offer=offer, idempotency_key="k")
    assert again == first
    assert Redemption.objects.filter(worker=worker).count() == 1
    assert Redemption.objects.get(worker=worker).status == Redemption.Status.ISSUED
    assert AuditEvent.objects.filter(action="redemption.issue", actor_id=worker.pk).count() == 1
    # The same key for another offer is refused (422), and writes nothing either.
    other = make_offer(offer.merchant, title="第二份")
    with pytest.raises(ApplicationError) as exc:
        services.redemption_code_issue(user=worker, offer=other, idempotency_key="k")
    assert exc.value.status == 422
    assert Redemption.objects.filter(worker=worker).count() == 1


@on_postgresql
def test_a_refusal_is_remembered_under_its_key(tree, counter, monkeypatch):
    _merchant, offer = counter
    offer.merchant.temporarily_closed = True
    offer.merchant.save()
    worker = make_worker([tree["sz"]])
    for _ in range(2):
        with pytest.raises(ApplicationError) as exc:
            services.redemption_code_issue(user=worker, offer=offer, idempotency_key="k")
        assert exc.value.code == "merchant_closed"
    record = IdempotencyKey.objects.get(scope=services.CODE_SCOPE, owner_id=worker.pk, key="k")
    assert record.status_code == 409
    # Open again: the key still answers what it answered.
    offer.merchant.temporarily_closed = False
    offer.merchant.save()
    with pytest.raises(ApplicationError):
        services.redemption_code_issue(user=worker, offer=offer, idempotency_key="k")
    assert not Redemption.objects.filter(worker=worker).exists()


@on_postgresql
def test_an_earlier_code_that_holds_points_goes_to_the_orm_path(tree, counter):
    """An offer that was a points offer when the worker's live code was issued: the ORM path
    releases that hold, so the statement writes nothing and hands the request over."""
    _merchant, offer = counter
    worker = make_worker([tree["sz"]])
    fund(worker, 100)
    services.offer_save(actor=None, offer=offer, kind="points", price=None, normal_price=None,
                        points=40)
    held = services.redemption_code_issue(user=worker, offer=offer, idempotency_key="a")
    services.offer_save(actor=None, offer=offer, kind="meal", price=Decimal("12.00"),
                        normal_price=Decimal("20.00"), points=None)
    offer.refresh_from_db()
    code = services.redemption_code_issue(user=worker, offer=offer, idempotency_key="b")
    old = Redemption.objects.get(pk=held["redemption_id"])
    assert old.status == Redemption.Status.CANCELLED
    assert Hold.objects.get(pk=old.hold_id).status != Hold.Status.ACTIVE
    new = Redemption.objects.get(pk=code["redemption_id"])
    assert (new.status, new.hold_id, new.points) == (Redemption.Status.ISSUED, None, None)


@on_postgresql
def test_six_digits_already_live_at_the_counter_are_drawn_again(tree, counter, monkeypatch):
    _merchant, offer = counter
    first = services.redemption_code_issue(user=make_worker([tree["sz"]]), offer=offer,
                                           idempotency_key="k")
    draws = iter([(first["digits"], "t1"), (first["digits"], "t2"), ("123456", "t3")])
    if first["digits"] == "123456":
        draws = iter([(first["digits"], "t1"), ("654321", "t3")])
    monkeypatch.setattr(services, "_new_code", lambda: next(draws))
    worker = make_worker([tree["sz"]])
    code = services.redemption_code_issue(user=worker, offer=offer, idempotency_key="k")
    assert code["digits"] != first["digits"] and code["qr_payload"].endswith("t3")
    assert Redemption.objects.filter(worker=worker).count() == 1
    assert IdempotencyKey.objects.filter(owner_id=worker.pk, key="k").count() == 1
