import uuid

from django.db import migrations, models


def fill(apps, schema_editor):
    Station = apps.get_model("stations", "Station")
    for station in Station.objects.filter(public_id=None).only("pk"):
        Station.objects.filter(pk=station.pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    """Stations get a public UUID (the id HSDS consumers see); existing rows get their own."""

    dependencies = [("stations", "0001_initial")]

    operations = [
        migrations.AddField(model_name="station", name="public_id",
                            field=models.UUIDField(null=True, editable=False)),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(model_name="station", name="public_id",
                              field=models.UUIDField(default=uuid.uuid4, unique=True,
                                                     editable=False)),
    ]
