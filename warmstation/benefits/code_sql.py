"""A worker's meal code issued on PostgreSQL as one statement (ADR 0019): the idempotency key
with its answer, the worker's earlier live code for the same offer cancelled, the new code and
its audit line — the rows `services.redemption_code_issue` writes through the ORM on SQLite and
for a points offer (whose hold goes through the ledger), made in Python by the same model code
with the code's id reserved first.

Nothing at all is written when the key is already taken (the caller replays it) or when an
earlier live code of the worker's for this offer holds points (an offer that changed from points
to meal: releasing the hold is the ledger's, so the ORM path takes it). Keep the two paths in
step; the tests compare their rows column by column (benefits/tests/test_code_sql.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.backends.base.base import BaseDatabaseWrapper

from warmstation.benefits.models import Redemption
from warmstation.core.sqlrows import RowSQL

T_REDEMPTION = Redemption._meta.db_table


@dataclass(frozen=True)
class Outcome:
    written: bool    # every row is in
    hand_back: bool  # nothing written: an earlier live code holds points (the ORM path's)


def issue_in_one_statement(connection: BaseDatabaseWrapper, *, key: RowSQL, code: RowSQL,
                           audit: RowSQL, worker_id: int, offer_id: int) -> Outcome:
    """Write the key row (`key`, its answer in it), cancel the worker's live codes for the
    offer, and write the new code (`code`, its id reserved) and its audit line, all or none.
    Raises IntegrityError (nothing written) when the code's six digits are already live at
    its merchant.

    Table and column names come from the models' metadata and every value is a parameter."""
    issued, cancelled = Redemption.Status.ISSUED, Redemption.Status.CANCELLED
    sql = (
        f"WITH old AS (SELECT id, hold_id FROM {T_REDEMPTION} WHERE worker_id = %s"  # noqa: S608
        " AND offer_id = %s AND status = %s FOR UPDATE),"
        " held AS (SELECT EXISTS (SELECT 1 FROM old WHERE hold_id IS NOT NULL) AS yes),"
        f" k AS (INSERT INTO {key.table} ({key.columns}) SELECT {key.values}"
        " WHERE NOT (SELECT yes FROM held) ON CONFLICT DO NOTHING RETURNING id),"
        f" c AS (UPDATE {T_REDEMPTION} SET status = %s WHERE id IN (SELECT id FROM old)"
        " AND EXISTS (SELECT 1 FROM k)),"
        f" r AS (INSERT INTO {code.table} ({code.columns}) SELECT {code.values} FROM k),"
        f" a AS (INSERT INTO {audit.table} ({audit.columns}) SELECT {audit.values} FROM k)"
        " SELECT (SELECT count(*) FROM k), (SELECT yes FROM held)")
    params = [worker_id, offer_id, issued, *key.params, cancelled, *code.params, *audit.params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        written, held = cursor.fetchone()
    return Outcome(written=bool(written), hand_back=bool(held))
