"""Costs that grow with work, not with history: `ledger_verify` from a signed checkpoint (what a
nightly run does) against a full run, and the audit retention job's nightly batch, at a given
ledger size — PostgreSQL.

The ledger is generated, not posted through the services (a million postings would take hours
here): balanced earn and spend transactions between worker, issuance and merchant accounts, with
their running balances and their hash chain computed exactly as points.chain does, loaded with
COPY (triggers off for the load only). Then: a full verification (and its checkpoint), "a day"
more transactions, the nightly verification from the checkpoint. The audit table gets the same
number of rows spread over a year and a day, so one day's rows are past a 365-day retention: the
nightly job exports and deletes them.

    .venv/bin/python bench/bench_ledger.py --entries 1000000      (PostgreSQL at PGHOST)
    environment: BENCH_DB (database name, default warmstation_bench_ledger)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HOST = os.environ.get("PGHOST", "127.0.0.1")
USER = os.environ.get("PGUSER", "postgres")
DB = os.environ.get("BENCH_DB", "warmstation_bench_ledger")
WORKERS, MERCHANTS, SOURCES = 20_000, 200, 5


def sh(*args: str) -> None:
    subprocess.run(list(args), check=True)


class Generator:
    """Balanced transactions, chained, with running balances — continuing from its own state."""

    def __init__(self, rng: random.Random, accounts: dict[str, list[int]]) -> None:
        from warmstation.points.chain import GENESIS

        self.rng, self.accounts = rng, accounts
        self.balance = {a: 0 for ids in accounts.values() for a in ids}
        self.seq, self.prev, self.tx_id, self.entry_id = 0, GENESIS, 0, 0

    def transactions(self, n: int, now: datetime):
        from warmstation.points.chain import tx_hash

        rng, bal = self.rng, self.balance
        workers, sources, merchants = (self.accounts[k] for k in ("worker", "issuance",
                                                                    "settlement"))
        for _ in range(n):
            w = rng.choice(workers)
            amount = rng.randint(1, 20)
            if bal[w] >= amount and rng.random() < 0.4:
                kind, system, worker_amount = "spend", rng.choice(merchants), -amount
            else:
                kind, system, worker_amount = "earn", rng.choice(sources), amount
            bal[w] += worker_amount
            bal[system] -= worker_amount
            entries = [(w, worker_amount, bal[w]), (system, -worker_amount, bal[system])]
            self.seq += 1
            self.tx_id += 1
            memo = "bench"
            digest = tx_hash(prev_hash=self.prev, seq=self.seq, kind=kind, points=worker_amount,
                             user_id=None, action="", source_ref="", reverses_id=None,
                             actor_id=None, memo=memo, entries=entries)
            tx = (self.tx_id, kind, memo, None, "", worker_amount, "", None, None, now, self.seq,
                  self.prev, digest)
            lines = []
            for a, amt, after in entries:
                self.entry_id += 1
                lines.append((self.entry_id, self.tx_id, a, amt, after, now))
            self.prev = digest
            yield tx, lines


def load(cursor, gen: Generator, n_tx: int, now: datetime) -> None:
    txs, entries = [], []
    for tx, lines in gen.transactions(n_tx, now):
        txs.append(tx)
        entries += lines
    with cursor.copy("COPY points_ledgertransaction (id, kind, memo, user_id, action, points, "
                     "source_ref, reverses_id, actor_id, created_at, seq, prev_hash, hash) "
                     "FROM STDIN") as copy:
        for row in txs:
            copy.write_row(row)
    with cursor.copy("COPY points_entry (id, transaction_id, account_id, amount, balance_after, "
                     "created_at) FROM STDIN") as copy:
        for row in entries:
            copy.write_row(row)
    cursor.execute("CREATE TEMP TABLE IF NOT EXISTS b (id bigint, balance bigint)")
    cursor.execute("TRUNCATE b")
    with cursor.copy("COPY b (id, balance) FROM STDIN") as copy:
        for a, v in gen.balance.items():
            copy.write_row((a, v))
    cursor.execute("UPDATE points_pointsaccount p SET balance = b.balance FROM b "
                   "WHERE b.id = p.id AND p.balance <> b.balance")
    cursor.execute("UPDATE points_ledgerhead SET seq = %s, hash = %s WHERE id = 1",
                   [gen.seq, gen.prev])
    for t in ("points_ledgertransaction", "points_entry"):
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "  # noqa: S608
                       f"(SELECT max(id) FROM {t}))")


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--day", type=int, default=0,
                        help="entries added before the nightly run (default entries / 365)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    n_tx = args.entries // 2
    day_tx = max(1, (args.day or args.entries // 365) // 2)
    sh("dropdb", "-h", HOST, "-U", USER, "--if-exists", "--force", DB)
    sh("createdb", "-h", HOST, "-U", USER, DB)
    os.environ["DATABASE_URL"] = f"postgres://{USER}@{HOST}:5432/{DB}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "warmstation.config.settings"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import override_settings

    from warmstation.core.retention import audit_purge_due
    from warmstation.points.models import PointsAccount
    from warmstation.points.selectors import ledger_checkpoint_write, ledger_verify

    load_avg = os.getloadavg()
    call_command("migrate", verbosity=0)
    accounts: dict[str, list[int]] = {}
    for kind, count, prefix in (("worker", WORKERS, "worker"), ("issuance", SOURCES, "issuance"),
                                ("settlement", MERCHANTS, "merchant")):
        objs = PointsAccount.objects.bulk_create(
            [PointsAccount(kind=kind, code=f"{prefix}:b{i}", name=f"{prefix} {i}")
             for i in range(count)])
        accounts[kind] = [o.pk for o in objs]
    gen = Generator(random.Random(12), accounts)
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as c:
        c.execute("SET LOCAL session_replication_role = replica")  # the load only
        load(c.cursor, gen, n_tx, now)
        # Audit rows: as many as entries, over a year and a day (the oldest day is past 365).
        with c.cursor.copy("COPY core_auditevent (at, actor_label, action, object_type, "
                           "object_id, result, detail) FROM STDIN") as copy:
            span = timedelta(days=366).total_seconds()
            for i in range(args.entries):
                at = now - timedelta(seconds=span * (args.entries - i) / args.entries)
                copy.write_row((at, "bench", "bench.event", "bench", str(i), "ok",
                                json.dumps({"i": i})))
    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE")
    print(f"load average {load_avg}; generated {args.entries:,} entries ({n_tx:,} transactions)"
          f" and {args.entries:,} audit rows in {time.perf_counter() - t0:.0f} s", flush=True)

    full, t_full = timed(lambda: ledger_verify(full=True))
    assert full.breaches == [], full.breaches[:5]
    ledger_checkpoint_write(full, full=True)
    print(f"full verification: {t_full:.1f} s ({full.transactions:,} transactions walked)",
          flush=True)
    with transaction.atomic(), connection.cursor() as c:
        c.execute("SET LOCAL session_replication_role = replica")
        load(c.cursor, gen, day_tx, datetime.now(UTC))
    with connection.cursor() as c:
        c.execute("ANALYZE")
    nightly, t_nightly = timed(ledger_verify)
    assert nightly.breaches == [], nightly.breaches[:5]
    print(f"nightly verification from the checkpoint: {t_nightly:.2f} s"
          f" ({nightly.transactions:,} transactions walked; {2 * day_tx:,} new entries)",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp, override_settings(AUDIT_ARCHIVE_DIR=Path(tmp),
                                                                 AUDIT_RETENTION_DAYS=365):
        purged, t_purge = timed(audit_purge_due)
        size = sum(f.stat().st_size for f in Path(tmp).iterdir())
        again, t_again = timed(audit_purge_due)
    with connection.cursor() as c:
        t = time.perf_counter()
        c.execute("SELECT count(*) FROM core_auditevent")
        t_count = time.perf_counter() - t
    print(f"audit retention: {purged:,} rows past 365 days exported ({size / 1e6:.1f} MB gz) and"
          f" deleted in {t_purge:.2f} s; the next run (nothing due) {t_again * 1000:.1f} ms;"
          f" for scale, COUNT(*) of the audit table {t_count:.2f} s", flush=True)
    print("\n| entries | full `ledger_verify --full` s | nightly (from checkpoint) s |"
          " day's entries | audit rows | nightly retention s |\n|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.entries:,} | {t_full:.1f} | {t_nightly:.2f} | {2 * day_tx:,} |"
          f" {args.entries:,} | {t_purge:.2f} |")
    if not args.keep:
        from django.db import connections

        connections.close_all()
        sh("dropdb", "-h", HOST, "-U", USER, "--if-exists", "--force", DB)
    return 0


if __name__ == "__main__":
    sys.exit(main())
