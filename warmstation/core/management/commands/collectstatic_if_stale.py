"""`manage.py collectstatic_if_stale`: collectstatic only when a static source changed since the
last run (core/staticfiles.py); `make run` calls it."""

from typing import Any

from django.core.management.base import BaseCommand

from warmstation.core.staticfiles import ensure_collected


class Command(BaseCommand):
    help = "Collect (hash and compress) static files only if a source is newer than the manifest."

    def handle(self, *args: object, **options: Any) -> None:
        ran = ensure_collected(verbosity=max(0, options["verbosity"] - 1))
        if options["verbosity"] > 1:
            self.stdout.write("collected" if ran else "static files are up to date")
