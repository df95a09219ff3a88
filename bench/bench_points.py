"""Redemptions per second at the counter on PostgreSQL, with 1, 8 and 32 concurrent clients
(processes), beside pgbench's built-in TPC-B-like script on the same server in the same run —
the ceiling for a transactional debit/credit. Each redemption is the full service call: the
idempotency key, the conditional UPDATE of the code, the hold posted as a balanced ledger
transaction (worker row locked, merchant settlement row updated), the audit line. All clients
redeem at ONE merchant, so its settlement row is as hot as pgbench's single branch row (scale 1).
Afterwards `ledger_verify` must find zero breaches.

    .venv/bin/python bench/bench_points.py      (needs PostgreSQL at PGHOST, default 127.0.0.1)
"""

import multiprocessing as mp
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HOST = os.environ.get("PGHOST", "127.0.0.1")
USER = os.environ.get("PGUSER", "postgres")
# Own database names (BENCH_DB) so that parallel runs on one server never drop each other's.
DB = os.environ.get("BENCH_DB", "warmstation_bench_points")
PGB_DB = f"{DB}_pgbench"
CLIENTS = [1, 8, 32]
SECONDS = float(os.environ.get("BENCH_SECONDS", 8))
OFFERS = int(os.environ.get("BENCH_OFFERS", 60))  # live codes per worker: one per offer


def psql_admin(*args):
    subprocess.run(["dropdb", "-h", HOST, "-U", USER, "--if-exists", *args[1:]], check=True) \
        if args[0] == "drop" else subprocess.run(["createdb", "-h", HOST, "-U", USER, *args[1:]],
                                                 check=True)


def pgbench(clients: int) -> float:
    out = subprocess.run(["pgbench", "-h", HOST, "-U", USER, "-c", str(clients), "-j",
                          str(min(clients, 4)), "-T", str(int(SECONDS)), "-n", PGB_DB],
                         check=True, capture_output=True, text=True).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


def setup_django():
    os.environ["DATABASE_URL"] = f"postgres://{USER}@{HOST}:5432/{DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "warmstation.config.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def client(args):
    owner_id, merchant_id, codes, deadline = args
    from django.db import connections

    connections.close_all()
    from warmstation.accounts.models import AuthLevel, User
    from warmstation.benefits.models import Merchant
    from warmstation.benefits.services import redemption_redeem

    owner = User.objects.get(pk=owner_id)
    owner.auth_level = AuthLevel.PASSWORD
    merchant = Merchant.objects.get(pk=merchant_id)
    done = 0
    latencies = []
    start = time.perf_counter()
    for code in codes:
        if time.perf_counter() >= deadline:
            break
        t = time.perf_counter()
        redemption_redeem(actor=owner, merchant=merchant, code=code,
                          idempotency_key=uuid.uuid4().hex)
        latencies.append(time.perf_counter() - t)
        done += 1
    return done, time.perf_counter() - start, latencies


def profile_one(owner, merchant, codes) -> tuple[float, float, float]:
    """Statements and Python function calls per redemption, and ms per redemption, in this
    process (one client, no contention): the client-side cost the ratio is made of."""
    import cProfile
    import pstats

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from warmstation.benefits.services import redemption_redeem

    codes = list(codes)
    n = len(codes)
    with CaptureQueriesContext(connection) as ctx:
        prof = cProfile.Profile()
        t = time.perf_counter()
        prof.enable()
        for code in codes:
            redemption_redeem(actor=owner, merchant=merchant, code=code,
                              idempotency_key=uuid.uuid4().hex)
        prof.disable()
        elapsed = time.perf_counter() - t
    calls = pstats.Stats(prof).total_calls
    t = time.perf_counter()
    return len(ctx.captured_queries) / n, calls / n, elapsed / n * 1000


def main():
    psql_admin("drop", DB)
    psql_admin("create", DB)
    psql_admin("drop", PGB_DB)
    psql_admin("create", PGB_DB)
    subprocess.run(["pgbench", "-h", HOST, "-U", USER, "-i", "-s", "1", "-q", PGB_DB],
                   check=True, capture_output=True)
    setup_django()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    from tests.factories import build_area_tree, make_merchant, make_offer, make_user, make_worker
    from warmstation.accounts.models import Role
    from warmstation.benefits.services import redemption_code_issue
    from warmstation.points.selectors import ledger_breaches
    from warmstation.points.tests.factories import fund

    tree = build_area_tree()
    owner = make_user(Role.MERCHANT, tree["xl"])
    merchant = make_merchant(tree["xl"], staff=owner)
    offers = [make_offer(merchant, kind="points", title=f"服务{i}", points=1)
              for i in range(OFFERS)]
    rows = []
    print(f"load average at start: {os.getloadavg()}", flush=True)
    w = make_worker([tree["sz"]])
    fund(w, 50)
    prof_codes = [redemption_code_issue(user=w, offer=o, idempotency_key=uuid.uuid4().hex)
                  ["digits"] for o in offers[:50]]
    from warmstation.accounts.models import AuthLevel

    owner.auth_level = AuthLevel.PASSWORD
    stmts, calls, ms = profile_one(owner, merchant, prof_codes)
    print(f"per redemption (one process, profiled): {stmts:.1f} statements, {calls:,.0f} Python"
          f" calls, {ms:.1f} ms under cProfile", flush=True)
    for n in CLIENTS:
        workers = [make_worker([tree["sz"]]) for _ in range(n)]
        per_client = []
        for w in workers:
            fund(w, OFFERS)
            per_client.append([redemption_code_issue(user=w, offer=o,
                                                     idempotency_key=uuid.uuid4().hex)["digits"]
                               for o in offers])
        connections.close_all()
        deadline = time.perf_counter() + SECONDS
        ctx = mp.get_context("fork")
        t0 = time.perf_counter()
        with ctx.Pool(n) as pool:
            results = pool.map(client, [(owner.pk, merchant.pk, c, deadline) for c in per_client])
        elapsed = time.perf_counter() - t0
        done = sum(r[0] for r in results)
        rate = done / max(r[1] for r in results)
        lat = sorted(x for r in results for x in r[2])
        p50, p99 = (lat[int(q * (len(lat) - 1))] * 1000 for q in (0.5, 0.99))
        tps = pgbench(n)
        rows.append((n, done, rate, tps, p50, p99))
        print(f"{n:>3} clients: {done} redemptions in {elapsed:.1f}s → {rate:,.0f}/s"
              f" (p50 {p50:.1f} ms, p99 {p99:.1f} ms);"
              f" pgbench TPC-B-like {tps:,.0f} tps; ratio {rate / tps:.2f};"
              f" load {os.getloadavg()[0]:.2f}", flush=True)
    breaches = ledger_breaches()
    print(f"ledger_verify: {len(breaches)} breach(es)")
    print("\n| clients | redemptions/s | p50 ms | p99 ms | pgbench tps | ratio |\n"
          "|---:|---:|---:|---:|---:|---:|")
    for n, _done, rate, tps, p50, p99 in rows:
        print(f"| {n} | {rate:,.0f} | {p50:.1f} | {p99:.1f} | {tps:,.0f} | {rate / tps:.2f} |")
    connections.close_all()
    psql_admin("drop", DB)
    psql_admin("drop", PGB_DB)
    sys.exit(1 if breaches else 0)


if __name__ == "__main__":
    main()
