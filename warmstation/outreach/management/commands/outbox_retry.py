import time

from django.core.management.base import BaseCommand

from warmstation.outreach.services import outbox_retry_due


class Command(BaseCommand):
    help = "Re-queue outbox messages whose next attempt is due (run every minute, or --loop)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=int, default=0,
                            help="keep running, checking every N seconds")

    def handle(self, *args, loop, **options):
        while True:
            queued = outbox_retry_due()
            if queued:
                self.stdout.write(f"outbox: {queued} message(s) re-queued")
            if not loop:
                return
            time.sleep(loop)
