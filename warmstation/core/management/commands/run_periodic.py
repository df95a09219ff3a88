import time

from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

# Every periodic safety net of the system: (name, function returning how many it handled).
# Each is idempotent and cheap when there is nothing to do.
JOBS = [
    ("outbox", "warmstation.outreach.services.outbox_retry_due"),
    ("points_holds", "warmstation.points.services.hold_expire_due"),
    ("redemptions", "warmstation.benefits.services.redemption_expire_due"),
    ("appeal_reminders", "warmstation.appeals.services.appeal_remind_due"),
]


class Command(BaseCommand):
    help = ("Run the periodic jobs once (re-queue due outbox messages, release expired point "
            "holds, expire redemption codes, remind departments of due and overdue needs), or "
            "every N seconds with --loop N.")

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=int, default=0, help="repeat every N seconds")
        parser.add_argument("--only", choices=[name for name, _ in JOBS], action="append")

    def handle(self, *args, loop, only, **options):
        jobs = [(name, import_string(path)) for name, path in JOBS if not only or name in only]
        while True:
            for name, job in jobs:
                done = job()
                if done:
                    self.stdout.write(f"{name}: {done}")
            if not loop:
                return
            time.sleep(loop)
