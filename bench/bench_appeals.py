"""The district board of needs (rates per department and street for a month, the ranking, the
12-month trend and the overdue count) over 1,000,000 generated cases, beside a plain
`SELECT COUNT(*)` of the same table in the same run. The board reads the monthly roll-up that
tasks keep current (appeals.rates); the overdue count reads the cases through an index.

    .venv/bin/python bench/bench_appeals.py               (PostgreSQL at PGHOST, 127.0.0.1)
    .venv/bin/python bench/bench_appeals.py --cases 100000 --keep

Writes the section "## Appeals board" of bench/RESULTS.md (other sections kept).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

PG_HOST = os.environ.get("PGHOST", "127.0.0.1")
PG_USER = os.environ.get("PGUSER", "postgres")
DB = "warmstation_bench_appeals"
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Appeals board"
FIRST_MONTH = date(2025, 12, 1)
BOARD_MONTH = date(2026, 11, 1)
TARGET_RATIO = 2.0


def sh(*args: str) -> None:
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def setup(keep: bool) -> None:
    if not keep:
        subprocess.run(["dropdb", "-h", PG_HOST, "-U", PG_USER, "--if-exists", "--force", DB],
                       check=True)
        sh("createdb", "-h", PG_HOST, "-U", PG_USER, DB)
    os.environ["DATABASE_URL"] = f"postgres://{PG_USER}@{PG_HOST}:5432/{DB}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "warmstation.config.settings"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def populate(n: int) -> dict:
    from django.db import connection

    from warmstation.accounts.models import Role, RoleGrant, User
    from warmstation.appeals.models import Appeal, Category, Department
    from warmstation.areas.services import area_upsert

    if Appeal.objects.count() >= n:
        return {"cases": Appeal.objects.count(), "inserted_s": 0.0}
    district = area_upsert(code="110111", name_zh="房山区", level="district", parent=None)
    streets = [area_upsert(code=f"S{i:02d}", name_zh=f"街乡{i:02d}", level="street",
                           parent=district) for i in range(28)]
    depts = [Department.objects.get_or_create(code=f"d{i}", defaults={
        "name_zh": f"部门{i}", "kind": "district_body", "area": district})[0] for i in range(12)]
    cat = Category.objects.get_or_create(code="other", defaults={"name_zh": "其他"})[0]
    admin = User.objects.create_user("13800000006", real_name="区级管理员")
    RoleGrant.objects.create(user=admin, role=Role.DISTRICT_ADMIN, area=district)
    street_ids = ",".join(str(s.pk) for s in streets)
    dept_ids = ",".join(str(d.pk) for d in depts)
    t0 = time.perf_counter()
    batch = 100_000
    with connection.cursor() as cur:
        for start in range(0, n, batch):
            # One INSERT … SELECT per batch: generated in the database, no round trips per row.
            cur.execute(f"""
            INSERT INTO appeals_appeal (created_at, updated_at, channel, category_id, area_id,
              street_id, title, body, anonymous_public, hide_from_department, urgent, complex,
              status, department_id, month, dispatch_due, dispatched_at, respond_due,
              responded_at, answer_due, answered_at, resolve_due, current_due, answer,
              satisfaction, resolved, rated_at, reopen_count)
            SELECT c, c, 'worker', {cat.pk}, st, st, '诉求', '内容', false, false, false, false,
              CASE WHEN r1 < 0.02 THEN 'dispatched' ELSE 'closed' END, dp, m,
              c + interval '24 hours', c + interval '1 hour', c + interval '5 hours',
              CASE WHEN r1 < 0.02 THEN NULL ELSE c + r2 * interval '8 hours' END,
              c + interval '24 hours',
              CASE WHEN r1 < 0.02 THEN NULL ELSE c + r3 * interval '30 hours' END,
              c + interval '7 days',
              CASE WHEN r1 < 0.02 THEN c + interval '5 hours' END, '',
              CASE WHEN r1 < 0.02 THEN '' WHEN r4 < 0.6 THEN 'satisfied'
                   WHEN r4 < 0.85 THEN 'fairly' ELSE 'dissatisfied' END,
              CASE WHEN r1 < 0.02 THEN NULL ELSE r4 < 0.85 END,
              CASE WHEN r1 < 0.02 THEN NULL ELSE c + interval '2 days' END, 0
            FROM (
              SELECT (ARRAY[{street_ids}])[1 + (g % 28)] AS st,
                     (ARRAY[{dept_ids}])[1 + ((g / 28) % 12)] AS dp,
                     (DATE '{FIRST_MONTH}' + make_interval(months => (g % 12)::int))::date AS m,
                     (DATE '{FIRST_MONTH}' + make_interval(months => (g % 12)::int))::timestamptz
                       + random() * interval '27 days' AS c,
                     random() AS r1, random() AS r2, random() AS r3, random() AS r4
              FROM generate_series({start + 1}, {min(start + batch, n)}) AS g) AS x
            """)
            print(f"  inserted {min(start + batch, n):,}", flush=True)
        cur.execute("ANALYZE")
    return {"cases": n, "inserted_s": time.perf_counter() - t0}


def timed(fn, repeat: int) -> dict:
    fn()  # warm
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return {"median": statistics.median(samples), "p90": sorted(samples)[int(0.9 * repeat) - 1],
            "min": min(samples)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="reuse the bench database")
    args = parser.parse_args()
    t_start = time.perf_counter()
    setup(args.keep)
    data = populate(args.cases)
    print(f"{data['cases']:,} cases in {data['inserted_s']:.0f} s", flush=True)

    from django.db import connection
    from django.db.models import Count

    from warmstation.accounts.models import AuthLevel, User
    from warmstation.appeals.models import Appeal
    from warmstation.appeals.rates import board, rollup_rebuild
    from warmstation.appeals.selectors import appeal_list

    t0 = time.perf_counter()
    rows = rollup_rebuild()
    rebuild_s = time.perf_counter() - t0
    print(f"roll-up rebuilt: {rows} rows in {rebuild_s:.1f} s", flush=True)
    admin = User.objects.get(mobile="13800000006")
    admin.auth_level = AuthLevel.MFA

    def the_board():
        b = board(user=admin, month=BOARD_MONTH)
        b["overdue"] = appeal_list(user=admin, overdue=True).count()
        return b

    def plain_count():
        with connection.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM appeals_appeal")
            return cur.fetchone()[0]

    # Correctness: the board's month equals a direct aggregate over the cases.
    b = the_board()
    direct = Appeal.objects.filter(month=BOARD_MONTH).exclude(status="merged").aggregate(
        n=Count("id"))["n"]
    assert b["totals"]["cases"] == direct, (b["totals"]["cases"], direct)
    count_ms = timed(plain_count, args.repeat)
    board_ms = timed(the_board, args.repeat)
    ratio = board_ms["median"] / count_ms["median"]
    ok = ratio <= TARGET_RATIO
    print(f"COUNT(*): median {count_ms['median']:.2f} ms; board: median "
          f"{board_ms['median']:.2f} ms → ratio {ratio:.2f} (target ≤ {TARGET_RATIO})")
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
    command = " ".join([".venv/bin/python", "bench/bench_appeals.py", *sys.argv[1:]])
    t = b["totals"]
    inserted = f" in {data['inserted_s']:.0f} s" if data["inserted_s"] else ""
    text = "\n".join([
        SECTION, "",
        f"`bench/bench_appeals.py` (run by `make bench`), {date.today()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, PostgreSQL {pg} on "
        f"{PG_HOST}. Command: `{command}`.", "",
        f"{data['cases']:,} cases over 12 months, 28 streets, 12 departments (98 % closed and "
        f"rated, 2 % open and overdue), generated by INSERT … SELECT{inserted}; "
        f"monthly roll-up rebuilt from them in {rebuild_s:.1f} s ({rows} rows). The board is "
        "`appeals.rates.board` (totals, departments and streets ranked, 12-month trend) plus "
        "the overdue count of the cases (`selectors.appeal_list(overdue=True).count()`), as the "
        f"district admin sees it; {args.repeat} runs each after a warm-up, in process.", "",
        "| query | median ms | p90 ms | min ms |", "|---|---:|---:|---:|",
        f"| `SELECT COUNT(*) FROM appeals_appeal` | {count_ms['median']:.2f} | "
        f"{count_ms['p90']:.2f} | {count_ms['min']:.2f} |",
        f"| district board ({BOARD_MONTH:%Y-%m}) | {board_ms['median']:.2f} | "
        f"{board_ms['p90']:.2f} | {board_ms['min']:.2f} |", "",
        f"Board / COUNT(*) at the median: **{ratio:.2f}** (target ≤ {TARGET_RATIO}: "
        f"{'met' if ok else 'NOT met'}). Checked: the board's {t['cases']:,} cases for the "
        f"month equal a direct count of the cases; response {t['response']}, resolution "
        f"{t['resolution']}, satisfaction {t['satisfaction']}, overdue {b['overdue']:,}.", "",
        "The roll-up is what makes this hold: each change enqueues a task that recomputes its "
        "(month, department, street) bucket; `manage.py appeals_tick --rebuild` recomputes all.",
        ""])
    print("\n" + text)
    write_section(text)
    print(f"bench/RESULTS.md updated; total {time.perf_counter() - t_start:.0f} s")
    return 0


def write_section(text: str) -> None:
    common.write_section(SECTION, text)


if __name__ == "__main__":
    sys.exit(main())
