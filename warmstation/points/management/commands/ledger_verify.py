import sys
import time

from django.core.management.base import BaseCommand, CommandParser

from warmstation.points.selectors import ledger_checkpoint_write, ledger_verify


class Command(BaseCommand):
    help = ("Prove every invariant of the points ledger; exit 1 and list breaches if any fails. "
            "By default only what came after the newest signed checkpoint is verified (a nightly "
            "run costs what the day added); --full verifies the whole ledger. A clean run signs "
            "a new checkpoint where it ended.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true",
                            help="verify the whole ledger, not only since the last checkpoint")
        parser.add_argument("--no-checkpoint", action="store_true",
                            help="do not sign a checkpoint after a clean run")

    def handle(self, *args, full: bool, no_checkpoint: bool, **options):
        started = time.perf_counter()
        result = ledger_verify(full=full)
        elapsed = time.perf_counter() - started
        for line in result.breaches:
            self.stderr.write(f"BREACH {line}")
        if result.breaches:
            sys.exit(1)
        cp = result.checkpoint
        scope = (f"since checkpoint {cp.pk} (seq {cp.seq})" if cp is not None
                 else "the whole ledger")
        if not no_checkpoint:
            ledger_checkpoint_write(result, full=cp is None)
        self.stdout.write(f"ledger ok: every invariant holds ({scope}; {result.transactions} "
                          f"transaction(s) walked, up to seq {result.last_seq}; "
                          f"{elapsed:.2f} s)")
