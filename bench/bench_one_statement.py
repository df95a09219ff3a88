"""One statement against the ORM path (ADR 0019), in process on PostgreSQL: one kind of
bench_load's mix, run with its service's ONE_STATEMENT on and off in alternating rounds, with
/healthz in the same rounds, so that both paths meet the same machine.

    .venv/bin/python bench/bench_one_statement.py                 # the meal code
    .venv/bin/python bench/bench_one_statement.py --kind need --rounds 8

Prints the median CPU per request of each path and of /healthz (this process's CPU: Python and
psycopg) and writes them to the section "## One statement against the ORM path" of
bench/RESULTS.md, one line per kind. Uses a database of its own (bench_request_cost's setup,
dropped afterwards).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault("BENCH_DB", "warmstation_bench_one_statement")

from bench import bench_request_cost as cost  # noqa: E402
from bench.common import RESULTS, write_section  # noqa: E402

SECTION = "## One statement against the ORM path"

SERVICES = {"code": "warmstation.benefits.services", "need": "warmstation.appeals.services",
            "report": "warmstation.reports.services"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", choices=sorted(SERVICES), default="code")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--n", type=int, default=40, help="requests per path per round")
    parser.add_argument("--workers", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-one-") as tmp:
        cost._setup(Path(tmp))
        from bench.bench_load import build_fixtures

        build_fixtures(Path(tmp) / "fixtures.json", args.workers)
        fx = json.loads((Path(tmp) / "fixtures.json").read_text())
        kinds = cost.Kinds(fx)
        for raw in {t["token"] for t in fx["tokens"]}:
            kinds.client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer " + raw)
        service = importlib.import_module(SERVICES[args.kind])
        cpu: dict[str, list[float]] = {"one statement": [], "ORM path": [], "healthz": []}
        for _ in range(args.rounds):
            for path in cpu:
                kind = "healthz" if path == "healthz" else args.kind
                if path != "healthz":
                    service.ONE_STATEMENT = path == "one statement"
                if kind == "report":
                    kinds.make_photos(args.n + 5)
                for _ in range(5):  # warm: caches, prepared statements
                    kinds.request(kind)
                gc.collect()
                c0 = time.process_time()
                for _ in range(args.n):
                    response = kinds.request(kind)
                    assert response.status_code < 300, (kind, response.status_code)
                cpu[path].append((time.process_time() - c0) * 1000 / args.n)
    subprocess.run(["dropdb", "-h", cost.PG_HOST, "-U", cost.PG_USER, "--if-exists", "--force",
                    cost.DB], check=True)
    print(f"{args.kind}: median CPU ms per request over {args.rounds} rounds of {args.n}")
    for path, values in cpu.items():
        print(f"  {path:14s} {statistics.median(values):6.2f}   "
              f"({', '.join(f'{v:.2f}' for v in values)})")
    one, orm, base = (statistics.median(cpu[p]) for p in ("one statement", "ORM path", "healthz"))
    row = (f"| {args.kind} | {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} |"
           f" {args.rounds} × {args.n} | {one:.2f} ({one / base:.1f}×) | {orm:.2f}"
           f" ({orm / base:.1f}×) | {base:.2f} | {(one - orm) / orm * 100:+.0f} % |")
    write_section(SECTION, "\n".join(_section_lines(args.kind, row)) + "\n")
    print("written to bench/RESULTS.md (" + SECTION + ")")
    return 0


def _section_lines(kind: str, row: str) -> list[str]:
    """The section with this kind's row replaced (the other kinds' rows kept)."""
    text = RESULTS.read_text() if RESULTS.exists() else ""
    kept = []
    if SECTION in text:
        body = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
        kept = [line for line in body.splitlines()
                if line.startswith("| ") and not line.startswith(("| kind", f"| {kind} |"))]
    return [SECTION, "",
            f"`bench/bench_one_statement.py` (ADR 0019), {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, PostgreSQL at {cost.PG_HOST}. Command: "
            "`.venv/bin/python bench/bench_one_statement.py --kind K`. Each kind of bench_load's "
            "mix in process through Django's test client, its service's `ONE_STATEMENT` on and "
            "off in alternating rounds with /healthz in the same rounds; medians of this "
            "process's CPU per request (against /healthz in brackets).", "",
            "| kind | run | rounds × requests | one statement, CPU ms | ORM path, CPU ms |"
            " /healthz, CPU ms | change |",
            "|---|---|---|---:|---:|---:|---:|", *sorted([*kept, row])]


if __name__ == "__main__":
    raise SystemExit(main())
