"""Model instances written as plain SQL, for the few hot paths that write several tables at once
and send them to PostgreSQL as one statement (a data-modifying CTE; ADR 0019).

`row_sql(obj)` gives the columns, typed placeholders and parameters an INSERT of `obj` would
send — the same values the ORM writes: every concrete field from the model's metadata (a new
column is never forgotten: one without a value fails the NOT NULL constraint at once), each
field's own `pre_save` (auto_now_add) and `get_db_prep_save`, and first the pre_save value check
every model of ours has (core/inputs.model_value_check). What it skips is only the ORM's
building and compiling of the statement, which is most of a write's CPU in a request.

Each placeholder carries its column's type (`%s::integer`), so rows can be written with
`INSERT … SELECT … FROM <another CTE>` and the types still resolve. No signals are sent: use it
only for models without post_save receivers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

from warmstation.core.inputs import model_value_check


@dataclass(frozen=True)
class RowSQL:
    table: str    # quoted
    columns: str  # quoted, comma-separated
    values: str   # typed placeholders, comma-separated
    params: list[Any]


_SHAPES: dict[tuple[type[models.Model], bool, str], tuple[str, str, str, list[Any]]] = {}


def _shape(model: type[models.Model], with_pk: bool,
           connection: BaseDatabaseWrapper) -> tuple[str, str, str, list[Any]]:
    key = (model, with_pk, connection.alias)
    if key not in _SHAPES:
        quote = connection.ops.quote_name
        fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
        _SHAPES[key] = (quote(model._meta.db_table),
                        ", ".join(quote(str(f.column)) for f in fields),
                        ", ".join(f"%s::{_db_type(f, connection)}" for f in fields),
                        fields)
    return _SHAPES[key]


def _db_type(field: Any, connection: BaseDatabaseWrapper) -> str:
    db_type = field.db_type(connection)
    if not db_type:
        raise TypeError(f"{field} has no column type")
    return str(db_type)


def row_sql(obj: models.Model, connection: BaseDatabaseWrapper, *,
            with_pk: bool = False) -> RowSQL:
    """`obj` as one row of an INSERT on `connection` (its primary key too with `with_pk`: an id
    reserved beforehand). Raises what the pre_save value check raises."""
    model = type(obj)
    model_value_check(model, obj)
    table, columns, values, fields = _shape(model, with_pk, connection)
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    return RowSQL(table, columns, values, params)


def reserve_ids(connection: BaseDatabaseWrapper, *models_: type[models.Model]) -> list[int]:
    """One new primary key for each model, from its identity sequence (PostgreSQL), in one
    round trip: the rows can then name each other before any is written."""
    calls = ", ".join("nextval(pg_get_serial_sequence(%s, %s))" for _ in models_)
    params: list[str] = []
    for model in models_:
        pk = model._meta.pk
        assert pk is not None
        params += [model._meta.db_table, str(pk.column)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {calls}", params)
        row = cursor.fetchone()
    return [int(v) for v in row]


def saved(obj: models.Model, connection: BaseDatabaseWrapper) -> models.Model:
    """Mark `obj` as a row in the database, as save() leaves it."""
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj


def insert_rows(connection: BaseDatabaseWrapper, rows: list[RowSQL]) -> None:
    """Write `rows` (their ids reserved where others name them) in one statement: every row is
    in or none is, and foreign keys between them are checked at its end."""
    ctes = [f"r{i} AS (INSERT INTO {r.table} ({r.columns}) VALUES ({r.values}))"  # noqa: S608
            for i, r in enumerate(rows)]
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} SELECT 1",  # noqa: S608
                       [v for row in rows for v in row.params])
