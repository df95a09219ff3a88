"""The audit trail's retention: the append-only triggers let a DELETE through on one path only,
the retention job's (core.retention), and only for rows older than 180 days.

PostgreSQL: the trigger function of 0002 now allows a DELETE of a row older than 180 days while
a core_auditpurge row is visible — only the retention job's own transaction ever sees one.
SQLite: DELETE is now refused too (it was left open in 0002), with the same exception.
(Tests empty tables by TRUNCATE on PostgreSQL and, on SQLite, with the triggers dropped around
Django's flush: conftest.py.)
"""

from django.db import migrations, models

PG_UP = """
CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND OLD.at < now() - interval '180 days'
     AND EXISTS (SELECT 1 FROM core_auditpurge) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'core_auditevent is append-only';
END;
$$ LANGUAGE plpgsql;
"""
PG_DOWN = """
CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'core_auditevent is append-only';
END;
$$ LANGUAGE plpgsql;
"""
SQLITE_UP = """
CREATE TRIGGER core_auditevent_no_delete BEFORE DELETE ON core_auditevent
WHEN NOT (OLD.at < strftime('%Y-%m-%d %H:%M:%f', 'now', '-180 days')
          AND EXISTS (SELECT 1 FROM core_auditpurge))
BEGIN SELECT RAISE(ABORT, 'core_auditevent is append-only'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS core_auditevent_no_delete;"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UP)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DOWN)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_audit_labels_to_subjects")]

    operations = [
        migrations.CreateModel(
            name="AuditPurge",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("started_at", models.DateTimeField()),
                ("cutoff", models.DateTimeField()),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
