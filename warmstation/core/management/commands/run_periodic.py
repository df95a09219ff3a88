import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils.module_loading import import_string

from warmstation.core.liveness import Heartbeat, is_database_down, wait_for_database

logger = logging.getLogger("warmstation.periodic")

# A periodic job: (name, function returning how many it handled).
Job = tuple[str, Callable[[], int]]

# Every periodic safety net of the system: settings.PERIODIC_JOBS, (name, dotted path of a
# function returning how many it handled). The list lives in config, which assembles the apps:
# core names none of them, not even as a string.
JOBS: list[tuple[str, str]] = settings.PERIODIC_JOBS


class Command(BaseCommand):
    help = ("Run the periodic jobs once (re-queue due outbox messages, release expired point "
            "holds, expire redemption codes, remind departments of due and overdue needs), or "
            "every N seconds with --loop N. The loop waits for the database when it goes away "
            "and stops after the current job on SIGINT/SIGTERM.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", type=int, default=0, help="repeat every N seconds")
        parser.add_argument("--only", choices=[name for name, _ in JOBS], action="append")

    def handle(self, *args: Any, loop: int, only: list[str] | None, **options: Any) -> None:
        jobs: list[Job] = [(name, import_string(path)) for name, path in JOBS if not only or name in only]
        if not loop:
            for name, job in jobs:
                self._report(name, job())
            return
        self._loop(jobs, loop)

    def _report(self, name: str, done: int) -> None:
        if done:
            self.stdout.write(f"{name}: {done}")

    def _loop(self, jobs: list[Job], every: int) -> None:
        stopping = threading.Event()

        def stop(signum: int, frame: FrameType | None) -> None:
            logger.warning("periodic jobs: %s, stopping after the current job",
                           signal.strsignal(signum))
            stopping.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        heartbeat = Heartbeat("periodic").start()
        heartbeat.set("running", every_s=every, rounds=0)
        rounds = 0
        try:
            while not stopping.is_set():
                close_old_connections()  # as at the start of a request: drop stale connections
                for name, job in jobs:
                    if stopping.is_set():
                        break
                    try:
                        self._report(name, job())
                    except Exception as exc:
                        if not is_database_down(exc):
                            # A bug in one job must not stop the others (nor the next round).
                            logger.exception("periodic job %s failed", name)
                            continue
                        wait_for_database(who="periodic jobs", error=exc, heartbeat=heartbeat,
                                          stop=stopping)
                        break  # start the round again with fresh connections
                else:
                    rounds += 1
                    heartbeat.set("running", rounds=rounds, last_round_at=time.time())
                stopping.wait(every)
        finally:
            heartbeat.stop()
