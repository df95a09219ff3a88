import time

from django.core.management.base import BaseCommand

from warmstation.points.services import hold_expire_due


class Command(BaseCommand):
    help = "Release the points of holds past their expiry, each exactly once (run every minute, or --loop)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=int, default=0,
                            help="keep running, checking every N seconds")

    def handle(self, *args, loop, **options):
        while True:
            released = hold_expire_due()
            if released:
                self.stdout.write(f"points: {released} expired hold(s) released")
            if not loop:
                return
            time.sleep(loop)
