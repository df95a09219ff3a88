"""The outbox partitioned by month of `created_at` on PostgreSQL (core.partitioning, ADR 0015).
A message's status changes in place (its row stays in its month's partition: `created_at` never
changes). SQLite is unchanged."""

from django.db import migrations


def forwards(apps, schema_editor):
    from warmstation.core.partitioning import partition_by_month

    partition_by_month(schema_editor, "outreach_outboxmessage", "created_at")


class Migration(migrations.Migration):
    dependencies = [("outreach", "0004_sms_rate_window")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
