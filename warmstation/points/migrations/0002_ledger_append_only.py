"""The database itself refuses to rewrite the points ledger (entries and transactions).

PostgreSQL: UPDATE and DELETE raise. TRUNCATE stays possible for the table's owner: that is how
the test suite empties tables.
SQLite: UPDATE raises. DELETE is left to the application there, because Django's test flush on
SQLite empties tables with DELETE.
"""

from django.db import migrations

TABLES = ["points_entry", "points_ledgertransaction"]

PG_UP = """
CREATE OR REPLACE FUNCTION points_ledger_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION USING MESSAGE = TG_TABLE_NAME || ' is append-only: post a reversal instead';
END;
$$ LANGUAGE plpgsql;
"""
PG_TRIGGER = """
CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t}
  FOR EACH ROW EXECUTE FUNCTION points_ledger_append_only();
"""
SQLITE_TRIGGER = """
CREATE TRIGGER {t}_append_only BEFORE UPDATE ON {t}
BEGIN SELECT RAISE(ABORT, '{t} is append-only: post a reversal instead'); END;
"""


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UP)
        for t in TABLES:
            schema_editor.execute(PG_TRIGGER.format(t=t))
    elif vendor == "sqlite":
        for t in TABLES:
            schema_editor.execute(SQLITE_TRIGGER.format(t=t))


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for t in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {t}_append_only ON {t};")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {t}_append_only;")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS points_ledger_append_only();")


class Migration(migrations.Migration):
    dependencies = [("points", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
