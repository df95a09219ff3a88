from django.core.management.base import BaseCommand

from warmstation.appeals.rates import rollup_rebuild
from warmstation.appeals.services import appeal_remind_due


class Command(BaseCommand):
    help = ("Needs' periodic jobs: remind departments of cases due soon or overdue; with "
            "--rebuild, recompute the board's monthly roll-ups from the cases.")

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true")

    def handle(self, *args, rebuild, **options):
        self.stdout.write(f"reminders: {appeal_remind_due()}")
        if rebuild:
            self.stdout.write(f"roll-up rows: {rollup_rebuild()}")
