"""Statements bound and prepared on the server (settings.DATABASE_PREPARE_AFTER, ADR 0017): on
PostgreSQL reached directly, an ORM query run a few times on a connection becomes a prepared
statement, so PostgreSQL stops planning it again; through PgBouncer in transaction mode nothing
is prepared (a server connection there serves other clients between transactions)."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.factories import make_user
from warmstation.accounts.models import User
from warmstation.config import settings as project_settings


def _postgres(**extra: object) -> dict:
    return {"ENGINE": "django.db.backends.postgresql", "OPTIONS": {"connect_timeout": 5},
            **extra}


def test_direct_postgresql_binds_on_the_server_and_prepares(monkeypatch):
    monkeypatch.setattr(project_settings, "DATABASE_POOL_MODE", "session")
    monkeypatch.setattr(project_settings, "DATABASE_PREPARE_AFTER", 5)
    db = project_settings._pooled(_postgres())
    assert db["OPTIONS"]["server_side_binding"] is True
    assert db["OPTIONS"]["prepare_threshold"] == 5
    assert "DISABLE_SERVER_SIDE_CURSORS" not in db


def test_a_transaction_pooler_gets_no_prepared_statements(monkeypatch):
    monkeypatch.setattr(project_settings, "DATABASE_POOL_MODE", "transaction")
    monkeypatch.setattr(project_settings, "DATABASE_PREPARE_AFTER", 5)
    db = project_settings._pooled(_postgres())
    assert db["OPTIONS"]["prepare_threshold"] is None
    assert db["DISABLE_SERVER_SIDE_CURSORS"] is True


def test_zero_leaves_django_s_client_side_binding(monkeypatch):
    monkeypatch.setattr(project_settings, "DATABASE_POOL_MODE", "session")
    monkeypatch.setattr(project_settings, "DATABASE_PREPARE_AFTER", 0)
    db = project_settings._pooled(_postgres())
    assert "server_side_binding" not in db["OPTIONS"]
    assert "prepare_threshold" not in db["OPTIONS"]


def test_sqlite_is_left_alone():
    db = {"ENGINE": "django.db.backends.sqlite3", "OPTIONS": {"timeout": 20}}
    assert project_settings._pooled(dict(db)) == db


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_a_repeated_query_is_planned_once_and_reused():
    from django.conf import settings

    after = settings.DATABASE_PREPARE_AFTER
    if after <= 0 or settings.DATABASE_POOL_MODE == "transaction":
        pytest.skip("prepared statements are off in this configuration")
    people = [make_user() for _ in range(3)]
    for n in range(after + 2):
        person = people[n % len(people)]
        assert User.objects.filter(mobile=person.mobile).first() == person
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM "
                       "pg_prepared_statements WHERE statement LIKE %s",
                       ['%FROM "accounts_user" WHERE "accounts_user"."mobile" = $1%'])
        rows = cursor.fetchall()
    # One statement for every mobile (the value is a parameter, not part of the text), run
    # after preparing as often as it was asked for since.
    assert len(rows) == 1, rows
    assert rows[0][1] >= 2
