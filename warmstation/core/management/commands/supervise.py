"""`manage.py supervise` — what `make run` runs: web server, task worker and periodic jobs.

The web server's numbers (why: docs/operations.md#the-web-server):
- `--backpressure` is how many *connections* one granian worker serves at once, idle keep-alive
  ones included (measured: 16 idle connections stopped every answer). It is set high, because
  a connection waiting for its headers costs granian almost nothing; `--blocking-threads`
  bounds how many requests run Python at once.
- `--http1-header-read-timeout 5000`: a client has 5 s to send its request headers, and an idle
  keep-alive connection is closed after 5 s, so slow or idle clients give their place back.
- `--workers-kill-timeout 5`: on stop, a worker still busy after 5 s is killed (its
  transaction rolls back), so a stop always ends within the supervisor's 8 s.
- `--respawn-failed-workers`: a crashed worker process is started again by granian.

`make serve` runs it with `--production` (docs/operations.md#make-serve): several granian
workers, `--task-workers` task workers, Prometheus metrics summed across the web workers.
"""

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from warmstation.core.liveness import BULK_QUEUE, BULK_WORKER
from warmstation.core.supervisor import Program, Supervisor

WEB_OPTIONS = [
    "--blocking-threads", "2",
    "--backpressure", "512",
    "--http1-header-read-timeout", "5000",
    "--workers-kill-timeout", "5",
    "--respawn-failed-workers",
    "--no-ws",
]


def web_argv(*, host: str, port: int, workers: int) -> list[str]:
    granian = str(Path(sys.executable).parent / "granian")
    return [granian, "--interface", "wsgi", "warmstation.config.wsgi:application",
            "--host", host, "--port", str(port), "--workers", str(workers), *WEB_OPTIONS]


def task_worker_argv(manage: list[str], queue: str = "default") -> list[str]:
    """The worker of the configured task backend (settings.TASKS, ADR 0014) for one queue
    (ADR 0020). Either way any number share a queue without taking a task twice:
    django-tasks-db claims with SELECT … FOR UPDATE SKIP LOCKED; django-tasks-redis reads
    through one Redis Streams consumer group and claims each task READY → RUNNING in one
    script."""
    if settings.TASKS["default"]["BACKEND"] == settings.TASK_BACKEND_ALIASES["redis"]:
        return [*manage, "redis_worker", "--continuous", "--claim-interval", "30",
                "--queue", queue]
    return [*manage, "db_worker", "--interval", "1", "--no-reload", "--queue-name", queue]


def programs(*, host: str, port: int, web_workers: int, periodic_every: int,
             task_workers: int = 1) -> list[Program]:
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    workers = [
        Program(name, task_worker_argv(manage), env={"WARMSTATION_HEARTBEAT": name})
        for name in task_worker_names(task_workers)
    ]
    # The bulk queue's worker, which runs further below the web workers (ADR 0020).
    bulk = Program(BULK_WORKER, task_worker_argv(manage, BULK_QUEUE),
                   env={"WARMSTATION_HEARTBEAT": BULK_WORKER})
    return [
        Program("web", web_argv(host=host, port=port, workers=web_workers)),
        *workers,
        bulk,
        Program("periodic", [*manage, "run_periodic", "--loop", str(periodic_every)]),
    ]


def task_worker_names(count: int) -> list[str]:
    """`worker`, `worker-2`, … : the default queue's workers, by the heartbeat names /readyz
    expects (the bulk queue's is BULK_WORKER)."""
    return ["worker" if i == 1 else f"worker-{i}" for i in range(1, max(count, 1) + 1)]


def production_environment(task_workers: int) -> dict[str, str]:
    """What every program of `make serve` shares: the Prometheus directory where each granian
    worker writes its metrics (so /metrics, answered by any one of them, adds up all), emptied
    at each start as prometheus_client requires, and the heartbeats /readyz expects."""
    metrics_dir = Path(settings.VAR_DIR) / "prometheus"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    processes = ",".join([*task_worker_names(task_workers), BULK_WORKER, "periodic"])
    return {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "READINESS_PROCESSES": processes}


class Command(BaseCommand):
    help = ("Start the web server (granian), the task worker (db_worker, or redis_worker with "
            "TASKS_BACKEND=redis) and the periodic jobs "
            "(run_periodic), restart any that exits, and stop them all on Ctrl-C or SIGTERM "
            "within 10 s. This is `make run`; in production systemd supervises them instead.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--web-workers", type=int, default=2,
                            help="granian worker processes (default 2: one per core here)")
        parser.add_argument("--periodic-every", type=int, default=30,
                            help="seconds between rounds of the periodic jobs")
        parser.add_argument("--task-workers", type=int, default=1,
                            help="task worker processes (db_worker, or redis_worker with "
                                 "TASKS_BACKEND=redis), each with its heartbeat "
                                 "(default 1; SQLite wants one writer)")
        parser.add_argument("--production", action="store_true",
                            help="make serve: metrics across granian workers, heartbeats of "
                                 "every task worker expected by /readyz")
        parser.add_argument("--stop-timeout", type=float, default=8.0,
                            help="seconds to let programs finish before killing them")

    def handle(self, *args: Any, host: str, port: int, web_workers: int, periodic_every: int,
               task_workers: int, production: bool, stop_timeout: float,
               **options: Any) -> None:
        if production:
            os.environ.update(production_environment(task_workers))
        supervisor = Supervisor(
            programs(host=host, port=port, web_workers=web_workers,
                     periodic_every=periodic_every, task_workers=task_workers),
            stop_timeout=stop_timeout,
        )
        sys.exit(supervisor.run())
