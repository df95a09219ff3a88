import time

from django.core.management.base import BaseCommand

from warmstation.benefits.services import redemption_expire_due


class Command(BaseCommand):
    help = "Expire redemption codes past their time and release their held points (or --loop)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=int, default=0,
                            help="keep running, checking every N seconds")

    def handle(self, *args, loop, **options):
        while True:
            done = redemption_expire_due()
            if done:
                self.stdout.write(f"benefits: {done} code(s) expired")
            if not loop:
                return
            time.sleep(loop)
