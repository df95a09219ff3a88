"""The event classes workers report (reports/categories.py, after GB/T 30428.2), seeded as data:
every installation starts with the same codes (they are also the Open311 service codes); the
district may rename, deactivate or add classes."""

from django.db import migrations

from warmstation.reports.categories import CATEGORIES


def seed(apps, schema_editor):
    seed_into(apps.get_model("reports", "ReportCategory"))


def seed_into(ReportCategory):  # noqa: N803 (a model class)
    for sort, (code, gzh, gen, zh, en, days, keywords) in enumerate(CATEGORIES):
        ReportCategory.objects.get_or_create(code=code, defaults={
            "group_zh": gzh, "group_en": gen, "name_zh": zh, "name_en": en,
            "resolve_days": days, "keywords": keywords, "sort": sort * 10,
            "description": f"{gzh}·{zh}"})


def unseed(apps, schema_editor):
    apps.get_model("reports", "ReportCategory").objects.filter(
        code__in=[c[0] for c in CATEGORIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
