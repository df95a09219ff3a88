"""Monthly partitions of the append-only tables on PostgreSQL (ADR 0015).

The tables that grow without bound and are only ever appended to — the audit trail, ledger
entries, station check-ins and service records, the outbox — are PostgreSQL's native
declarative partitioning by month on their timestamp column (`PARTITION BY RANGE`): a partition
per calendar month (UTC), `<table>_pYYYYMM`, and a default partition, `<table>_default`, where a
row for a month that has no partition yet still lands. SQLite is unchanged.

- `partition_by_month` is what the apps' migrations run (PostgreSQL only): it turns an existing
  table into a partitioned one in place, rows, indexes, foreign keys, CHECK constraints and
  triggers included. Django keeps its `id`: the primary key becomes `(id, <column>)`, as
  PostgreSQL requires the partition key in it, and `id` stays unique because one sequence
  (owned by the column, as for `serial`) numbers every row. PostgreSQL 15 has no identity
  columns on partitioned tables, hence the sequence. A UNIQUE constraint without the partition
  key cannot be kept as such: the migration names it and keeps it by other means (the ledger's).
- `partitions_maintain_due` (a periodic job, settings.PERIODIC_JOBS) creates the partitions of
  this month and the next `PARTITIONS_AHEAD_MONTHS` ahead, so rows land in their month's
  partition. A month whose rows are already in the default partition is left there (and
  logged): its partition cannot be attached over them.
- `partitions_older_than` / `partition_drop` are retention's tools: a whole month leaves by
  DETACH + DROP (no row-by-row DELETE, no bloat). The audit trail's retention uses them
  (core.retention) after exporting the month; the other tables keep every month.

`core` names no app: the tables are listed in settings.PARTITIONED_TABLES.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

logger = logging.getLogger("warmstation.partitions")

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_MONTH = re.compile(r"_p(\d{4})(\d{2})$")


def _ident(name: str) -> str:
    # Table and column names come from our own settings and migrations; refuse anything else.
    if not _NAME.match(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return name


def month_start(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def add_months(month: datetime, n: int) -> datetime:
    index = month.year * 12 + month.month - 1 + n
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def partition_name(table: str, month: datetime) -> str:
    return f"{table}_p{month:%Y%m}"


@dataclass(frozen=True)
class Partition:
    name: str
    month: datetime | None  # None for the default partition
    rows_estimate: int


def is_partitioned(table: str) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as c:
        c.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = c.fetchone()
    return bool(row and row[0] == "p")


def partitions(table: str) -> list[Partition]:
    """The partitions of `table`, monthly ones oldest first, then the default."""
    with connection.cursor() as c:
        c.execute("""SELECT child.relname, child.reltuples::bigint,
                            pg_get_expr(child.relpartbound, child.oid)
                       FROM pg_inherits JOIN pg_class child ON child.oid = pg_inherits.inhrelid
                      WHERE pg_inherits.inhparent = to_regclass(%s)""", [table])
        rows = c.fetchall()
    found = []
    for name, estimate, bound in rows:
        match = _MONTH.search(name)
        month = (datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)
                 if match and bound != "DEFAULT" else None)
        found.append(Partition(name, month, max(estimate, 0)))
    return sorted(found, key=lambda p: (p.month is None, p.month or datetime.min.replace(tzinfo=UTC)))


def partition_create(table: str, column: str, month: datetime) -> bool:
    """Create the partition of `month` unless it exists; False when it exists already, or when
    the default partition holds rows of that month (they would have to move first)."""
    table, column = _ident(table), _ident(column)
    name = partition_name(table, month)
    if any(p.name == name for p in partitions(table)):
        return False
    lo, hi = month, add_months(month, 1)
    with connection.cursor() as c:
        c.execute(f"SELECT EXISTS (SELECT 1 FROM {table}_default "  # noqa: S608 — _ident
                  f"WHERE {column} >= %s AND {column} < %s)", [lo, hi])
        if c.fetchone()[0]:
            logger.warning("partitions: %s has rows of %s in its default partition; that month "
                           "stays there", table, f"{month:%Y-%m}")
            return False
        # DDL takes no parameters; the bounds are our own datetimes.
        c.execute(f"CREATE TABLE {name} PARTITION OF {table} "
                  f"FOR VALUES FROM ('{lo.isoformat()}') TO ('{hi.isoformat()}')")
    return True


def partition_by_month(schema_editor: Any, table: str, column: str, *,
                       drop_unique: tuple[str, ...] = ()) -> None:
    """Turn `table` into a table partitioned by month on `column`, in place (a migration's
    RunPython, PostgreSQL only; one transaction). Refuses a table other tables reference by
    foreign key (their key would have to include `column`), and a UNIQUE constraint without
    `column` unless named in `drop_unique` — the caller keeps that guarantee another way."""
    if schema_editor.connection.vendor != "postgresql" or is_partitioned(table):
        return
    table, column = _ident(table), _ident(column)
    old = f"{table}__unpartitioned"
    run = schema_editor.execute
    with schema_editor.connection.cursor() as c:
        c.execute("SELECT conname FROM pg_constraint WHERE confrelid = %s::regclass", [table])
        if referenced := [r[0] for r in c.fetchall()]:
            raise RuntimeError(f"{table} is referenced by {referenced}: not partitioned")
        c.execute("""SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint
                      WHERE conrelid = %s::regclass AND contype IN ('f', 'u')""", [table])
        constraints = c.fetchall()
        unique = [n for n, kind, _d in constraints if kind == "u" and n not in drop_unique]
        if unique:
            raise RuntimeError(f"{table}: UNIQUE {unique} lack {column}: not partitioned")
        foreign = [(n, d) for n, kind, d in constraints if kind == "f"]
        c.execute("""SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s
                      AND indexname NOT IN (SELECT conname FROM pg_constraint
                                             WHERE conrelid = %s::regclass)""", [table, table])
        indexes = c.fetchall()
        c.execute("""SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger
                      WHERE tgrelid = %s::regclass AND NOT tgisinternal""", [table])
        triggers = c.fetchall()
        c.execute(f"SELECT min({column}) FROM {table}")  # noqa: S608 — _ident
        first = c.fetchone()[0]
        c.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        old_sequence = c.fetchone()[0]
        c.execute(f"SELECT last_value, is_called FROM {old_sequence}")  # noqa: S608 — catalog
        sequence_at, sequence_called = c.fetchone()
    # Definitions were read before the rename, so they name `table`: they are replayed as they
    # are on the new table once the old one (whose index names they reuse) is gone.
    run(f"ALTER TABLE {table} RENAME TO {old}")
    run(f"ALTER INDEX {table}_pkey RENAME TO {old}_pkey")
    run(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        f"INCLUDING STORAGE INCLUDING COMMENTS) PARTITION BY RANGE ({column})")
    run(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (id, {column})")
    run(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    now = month_start(timezone.now())
    month = month_start(first) if first is not None else now
    while month <= add_months(now, settings.PARTITIONS_AHEAD_MONTHS):
        name = partition_name(table, month)
        run(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM "
            f"('{month.isoformat()}') TO ('{add_months(month, 1).isoformat()}')")
        month = add_months(month, 1)
    run(f"INSERT INTO {table} SELECT * FROM {old}")  # noqa: S608 — _ident
    run(f"DROP TABLE {old}")  # its identity sequence, indexes and triggers go with it
    # One sequence numbers every partition's rows, going on from where the old one was:
    # Django's `id` stays unique (the name is the old identity sequence's, now free).
    run(f"CREATE SEQUENCE {table}_id_seq OWNED BY {table}.id")
    run(f"ALTER TABLE {table} ALTER COLUMN id SET DEFAULT nextval('{table}_id_seq')")
    run(f"SELECT setval('{table}_id_seq', {int(sequence_at)}, {bool(sequence_called)})")
    for _name, definition in indexes:
        run(definition)  # on a partitioned table: created on every partition, present and future
    for name, definition in foreign:
        run(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    for _name, definition in triggers:
        run(definition)  # row triggers are cloned onto every partition


def partitions_maintain_due(*, now: datetime | None = None) -> int:
    """The periodic job: create this month's and the next PARTITIONS_AHEAD_MONTHS' partitions
    of every partitioned table; returns how many were created (0 on SQLite)."""
    if connection.vendor != "postgresql":
        return 0
    start = month_start(now or timezone.now())
    created = 0
    for table, column in settings.PARTITIONED_TABLES:
        if not is_partitioned(table):
            continue
        existing = {p.name for p in partitions(table)}
        for ahead in range(settings.PARTITIONS_AHEAD_MONTHS + 1):
            month = add_months(start, ahead)
            if partition_name(table, month) not in existing:
                created += partition_create(table, column, month)
    return created


def partitions_older_than(table: str, cutoff: datetime) -> list[Partition]:
    """Monthly partitions whose every possible row is older than `cutoff` (the month ends on
    or before it), oldest first."""
    return [p for p in partitions(table)
            if p.month is not None and add_months(p.month, 1) <= cutoff]


def partition_drop(table: str, partition: Partition) -> None:
    """Detach and drop one monthly partition (the caller's transaction; retention only)."""
    table = _ident(table)
    if partition.month is None or not partition.name.startswith(f"{table}_p"):
        raise ValueError(f"{partition.name} is not a monthly partition of {table}")
    with connection.cursor() as c:
        c.execute(f"ALTER TABLE {table} DETACH PARTITION {_ident(partition.name)}")
        c.execute(f"DROP TABLE {_ident(partition.name)}")
