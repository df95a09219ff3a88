import sys

from django.core.management.base import BaseCommand

from warmstation.points.selectors import ledger_breaches


class Command(BaseCommand):
    help = "Prove every invariant of the points ledger; exit 1 and list breaches if any fails."

    def handle(self, *args, **options):
        breaches = ledger_breaches()
        for line in breaches:
            self.stderr.write(f"BREACH {line}")
        if breaches:
            sys.exit(1)
        self.stdout.write("ledger ok: every invariant holds")
