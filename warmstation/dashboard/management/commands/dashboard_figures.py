from django.core.management.base import BaseCommand

from warmstation.dashboard.rollups import figures_rebuild, figures_refresh


class Command(BaseCommand):
    help = (
        "Recompute the dashboard's roll-ups now: the open weeks and months, or everything "
        "with --rebuild (after an import; the periodic job does both on its own)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true")

    def handle(self, *args, rebuild, **options):
        rows = figures_rebuild() if rebuild else figures_refresh()
        self.stdout.write(f"figure rows written: {rows}")
