"""The restore drill of docs/operations.md#backups, run for real (issue 18 item 3): a PostgreSQL
database with people, cases, a ledger and an audit trail is dumped with `pg_dump -Fc`, restored
with `pg_restore` into a new, empty database, and the restored copy passes
`manage.py ledger_verify --full` (the ledger's chain against its signed checkpoint) with the same
number of rows in every table. PostgreSQL only (SQLite's backup is a file copy)."""

import io
import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from tests.factories import as_level, build_area_tree, make_user, make_worker
from warmstation.accounts.models import Role
from warmstation.points.tests.factories import fund

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump / pg_restore drill"),
    pytest.mark.skipif(not shutil.which("pg_dump"), reason="no pg_dump on this machine"),
]


def _row_counts(cursor) -> dict[str, int]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
    tables = [row[0] for row in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 — names from pg_tables
        counts[table] = cursor.fetchone()[0]
    return counts


def _libpq_env(db: dict) -> dict[str, str]:
    env = {
        **os.environ,
        "PGHOST": db.get("HOST") or "127.0.0.1",
        "PGPORT": str(db.get("PORT") or 5432),
        "PGUSER": db.get("USER") or "postgres",
    }
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def test_dump_restore_into_an_empty_database_passes_ledger_verify(transactional_db, tmp_path):
    # Given a database with people, points moved and a signed checkpoint (committed: pg_dump
    # sees only what other sessions see)
    tree = build_area_tree()
    admin = as_level(make_user(Role.DISTRICT_ADMIN, tree["district"]))
    workers = [make_worker([tree["ylj"]]) for _ in range(3)]
    for i, worker in enumerate(workers):
        fund(worker, 10 * (i + 1))
    call_command("ledger_verify", "--full", stdout=io.StringIO())  # signs a checkpoint
    assert admin.pk
    db = connection.settings_dict
    env = _libpq_env(db)
    with connection.cursor() as cursor:
        source_counts = _row_counts(cursor)
    assert source_counts["points_entry"] > 0 and source_counts["core_auditevent"] > 0

    started = time.monotonic()
    # When the database is dumped …
    dump = tmp_path / "warmstation.dump"
    subprocess.run(
        ["pg_dump", "-Fc", "--no-owner", "-d", db["NAME"], "-f", str(dump)],
        env=env,
        check=True,
        timeout=60,
    )
    # … and restored into a new, empty database
    target = f"restore_drill_{uuid.uuid4().hex[:8]}"
    subprocess.run(["createdb", target], env=env, check=True, timeout=30)
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", "-d", target, str(dump)],
            env=env,
            check=True,
            timeout=60,
        )
        took = time.monotonic() - started
        # Then the restored ledger verifies in full against its signed checkpoint …
        url = (
            f"postgres://{env['PGUSER']}:{db.get('PASSWORD') or ''}@{env['PGHOST']}:"
            f"{env['PGPORT']}/{target}"
        )
        verify_env = {
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "warmstation.config.settings_test",
        }
        result = subprocess.run(
            [
                sys.executable,
                str(settings.BASE_DIR / "manage.py"),
                "ledger_verify",
                "--full",
                "--no-checkpoint",
            ],
            env=verify_env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=settings.BASE_DIR,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "ledger ok" in result.stdout
        # … and every table has the rows it had.
        import psycopg

        with psycopg.connect(url) as restored, restored.cursor() as cursor:
            restored_counts = _row_counts(cursor)
            # The migrations are recorded: `migrate` on the restored copy has nothing to do.
            cursor.execute("SELECT count(*) FROM django_migrations")
            assert cursor.fetchone()[0] == source_counts["django_migrations"]
        assert restored_counts == source_counts
        print(
            f"restore drill: dump + restore {took:.1f} s, {len(source_counts)} tables, "
            f"{sum(source_counts.values())} rows"
        )
    finally:
        subprocess.run(["dropdb", "--if-exists", "--force", target], env=env, timeout=30)
