"""core/sqlrows.py: a row as the ORM would insert it — every concrete column, the fields' own
pre_save (auto_now_add) and the pre_save value check every model of ours has."""

import pytest
from django.db import connection

from warmstation.core.errors import InvalidInput
from warmstation.core.models import AuditEvent
from warmstation.core.sqlrows import row_sql


def test_a_row_has_every_column_and_the_fields_own_values():
    line = AuditEvent(action="test.row", object_type="x", detail={"a": 1})
    row = row_sql(line, connection)
    columns = [c.strip('"') for c in row.columns.split(", ")]
    assert columns == [f.column for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    assert len(row.params) == len(columns) == row.values.count("%s")
    assert line.at is not None  # auto_now_add, as save() sets it
    assert row.params[columns.index("at")] is not None
    assert row.params[columns.index("result")] == AuditEvent.Result.OK  # the default
    with_pk = row_sql(AuditEvent(pk=7, action="test.row"), connection, with_pk=True)
    assert with_pk.columns.split(", ")[0].strip('"') == "id" and with_pk.params[0] == 7


@pytest.mark.parametrize("action", ["nul\x00inside", "x" * 65])
def test_a_value_the_column_cannot_hold_is_refused_before_any_sql(action):
    with pytest.raises(InvalidInput):
        row_sql(AuditEvent(action=action), connection)
