"""Station service records and check-ins partitioned by month of `at` on PostgreSQL
(core.partitioning, ADR 0015). SQLite is unchanged."""

from django.db import migrations


def forwards(apps, schema_editor):
    from warmstation.core.partitioning import partition_by_month

    partition_by_month(schema_editor, "stations_servicerecord", "at")


class Migration(migrations.Migration):
    dependencies = [("stations", "0005_verbose_names")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
