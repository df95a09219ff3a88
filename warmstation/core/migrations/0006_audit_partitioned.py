"""The audit trail partitioned by month on PostgreSQL (core.partitioning, ADR 0015): a
partition per month of `at`, a default one, the primary key (id, at). The append-only trigger
(0002, 0005) is replayed onto the partitioned table and so onto every partition. SQLite is
unchanged."""

from django.db import migrations


def forwards(apps, schema_editor):
    from warmstation.core.partitioning import partition_by_month

    partition_by_month(schema_editor, "core_auditevent", "at")


class Migration(migrations.Migration):
    dependencies = [("core", "0005_audit_retention")]
    # Backwards is a no-op: the partitioned table has the same columns and guarantees, so the
    # earlier migrations' schema is served as it is.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
