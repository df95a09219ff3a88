"""The district dashboard over generated national-scale data (1,000,000 workers, 200,000
stations, 10,000,000 cases, 10,000,000 ledger entries at --scale 1), each panel and the page's
first render beside a plain `SELECT COUNT(*)` of the largest table in the same run; and the
coverage analysis (gaps and 10 ranked candidates) for a city of 2,000 stations and 100,000
workers. Data is generated in PostgreSQL by INSERT … SELECT over generate_series, never row by
row; the dashboard's roll-ups are rebuilt by the same function the periodic task runs.

    .venv/bin/python bench/bench_dashboard.py                 (national scale)
    .venv/bin/python bench/bench_dashboard.py --scale 0.1     (a tenth: 100,000 workers …)
    .venv/bin/python bench/bench_dashboard.py --scale 0.1 --keep

Writes the section "## District dashboard" of bench/RESULTS.md (other sections kept).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

PG_HOST = os.environ.get("PGHOST", "127.0.0.1")
PG_USER = os.environ.get("PGUSER", "postgres")
DB = "warmstation_bench_dashboard"
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## District dashboard"
CITY_STATIONS, CITY_WORKERS = 2_000, 100_000
COVERAGE_TARGET_S = 10.0


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
    from warmstation.core.staticfiles import ensure_collected

    ensure_collected()  # the pages link hashed static names, as a served site's do


def run(cur, label: str, sql: str) -> None:
    t0 = time.perf_counter()
    cur.execute(sql)
    print(f"  {label}: {time.perf_counter() - t0:.1f} s", flush=True)


def populate(scale: float) -> dict:
    """Areas (a root, streets, communities, and one city street for the coverage analysis),
    then every table in one INSERT … SELECT each."""
    from django.db import connection

    from warmstation.accounts.models import Brand, Role, RoleGrant, User
    from warmstation.appeals.models import Category, Department
    from warmstation.areas.models import Area

    if Area.objects.filter(code="CITY").exists():
        return {"reused": True}
    n_workers = int(1_000_000 * scale)
    n_stations = int(200_000 * scale)
    n_cases = int(10_000_000 * scale)
    n_tx = int(5_000_000 * scale)  # two entries each
    n_streets = max(3, int(300 * scale))
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        # Areas: root /CN/, streets /CN/Sxxx/, 10 communities each, centres spread over China;
        # the city /CN/CITY/ has 200 communities in a 40 km square around Beijing.
        run(cur, "areas", f"""
        INSERT INTO areas_area (created_at, updated_at, code, name_zh, name_en, level, path, depth)
        VALUES (now(), now(), 'CN', '全国', 'China', 'district', '/CN/', 0);
        INSERT INTO areas_area (created_at, updated_at, code, name_zh, name_en, level, path, depth,
                                parent_id, center_lat, center_lng)
        SELECT now(), now(), 'S' || g, '街乡' || g, '', 'street', '/CN/S' || g || '/', 1,
               (SELECT id FROM areas_area WHERE code = 'CN'), 23 + random() * 20, 102 + random() * 20
        FROM generate_series(1, {n_streets}) g
        UNION ALL SELECT now(), now(), 'CITY', '城市', '', 'street', '/CN/CITY/', 1,
               (SELECT id FROM areas_area WHERE code = 'CN'), 39.7, 116.15;
        INSERT INTO areas_area (created_at, updated_at, code, name_zh, name_en, level, path, depth,
                                parent_id, center_lat, center_lng)
        SELECT now(), now(), s.code || '-' || c, '社区' || s.code || '-' || c, '', 'community',
               s.path || s.code || '-' || c || '/', 2, s.id,
               CASE WHEN s.code = 'CITY' THEN 39.52 + random() * 0.36 ELSE s.center_lat + random() * 0.2 END,
               CASE WHEN s.code = 'CITY' THEN 115.92 + random() * 0.47 ELSE s.center_lng + random() * 0.2 END
        FROM areas_area s CROSS JOIN generate_series(1, 10) c
        WHERE s.depth = 1 AND s.code <> 'CITY'
        UNION ALL
        SELECT now(), now(), 'CITY-' || c, '城市社区' || c, '', 'community',
               '/CN/CITY/CITY-' || c || '/', 2, (SELECT id FROM areas_area WHERE code = 'CITY'),
               39.52 + random() * 0.36, 115.92 + random() * 0.47
        FROM generate_series(1, 200) c;
        CREATE TEMP TABLE leaf AS SELECT row_number() OVER (ORDER BY id) AS i, id, center_lat, center_lng,
            code LIKE 'CITY-%' AS city FROM areas_area WHERE depth = 2;
        CREATE TEMP TABLE nleaf AS SELECT row_number() OVER (ORDER BY id) AS i, id, center_lat, center_lng
            FROM leaf WHERE NOT city;
        CREATE TEMP TABLE cityleaf AS SELECT row_number() OVER (ORDER BY id) AS i, id, center_lat, center_lng
            FROM leaf WHERE city;
        """)
        for i in range(12):
            Brand.objects.get_or_create(code=f"b{i}", defaults={"name_zh": f"品牌{i}", "kind": "express"})
        cur.execute("CREATE TEMP TABLE brand AS SELECT row_number() OVER (ORDER BY id) AS i, id FROM accounts_brand")
        cur.execute("SELECT count(*) FROM leaf")
        n_leaf = cur.fetchone()[0]
        # Workers: the first CITY_WORKERS live in the city, the rest anywhere; registered over
        # the last 24 months.
        run(cur, f"{n_workers:,} workers", f"""
        INSERT INTO accounts_user (password, mobile, real_name, is_active, date_joined,
                                   failed_logins, totp_secret, totp_last_step)
        SELECT '!', '19' || lpad(g::text, 9, '0'), '', true,
               now() - random() * interval '730 days', 0, '', 0
        FROM generate_series(1, {n_workers}) g;
        INSERT INTO accounts_workerprofile (created_at, updated_at, job_type, id_number, user_id, brand_id)
        SELECT u.date_joined, u.date_joined,
               (ARRAY['courier','food_delivery','ride_hailing','other'])[1 + (u.id % 4)], '', u.id,
               (SELECT id FROM brand WHERE i = 1 + (u.id % 12))
        FROM accounts_user u WHERE u.mobile LIKE '19%';
        INSERT INTO accounts_workerprofile_areas (workerprofile_id, area_id)
        SELECT p.id, CASE WHEN p.id % {max(1, n_workers // CITY_WORKERS)} = 0
                          THEN (SELECT id FROM cityleaf WHERE i = 1 + (p.id % 200))
                          ELSE (SELECT id FROM nleaf WHERE i = 1 + (p.id % {n_leaf - 200})) END
        FROM accounts_workerprofile p;
        """)
        run(cur, f"{n_stations:,} stations", f"""
        INSERT INTO stations_station (created_at, updated_at, name, kind, address, lat, lng, cell_s,
          cell_l, phone, operator, description, is_24h, temporarily_closed, closed_note, is_active,
          checkin_token, area_id, public_id)
        SELECT now(), now(), '驿站' || g, 'youth', '地址', la, ln,
               floor((la + 90) / 0.02)::bigint * 100000 + floor((ln + 180) / 0.02)::bigint,
               floor((la + 90) / 0.2)::bigint * 100000 + floor((ln + 180) / 0.2)::bigint,
               '', '', '', g % 3 = 0, false, '', true, 'tok' || g, aid, md5(g::text)::uuid
        FROM (SELECT g, l.id AS aid, l.center_lat + (random() - 0.5) * 0.04 AS la,
                     l.center_lng + (random() - 0.5) * 0.05 AS ln
              FROM generate_series(1, {n_stations}) g
              JOIN nleaf l ON l.i = 1 + (g % {n_leaf - 200})
              WHERE g > {CITY_STATIONS}
              UNION ALL
              SELECT g, c.id, 39.52 + random() * 0.36, 115.92 + random() * 0.47
              FROM generate_series(1, {CITY_STATIONS}) g JOIN cityleaf c ON c.i = 1 + (g % 200)) x;
        INSERT INTO stations_openinghours (station_id, weekday, opens, closes)
        SELECT s.id, d, TIME '08:00', TIME '20:00' FROM stations_station s, generate_series(0, 6) d
        WHERE s.area_id IN (SELECT id FROM cityleaf) AND NOT s.is_24h;
        """)
        run(cur, "check-ins (2 per worker)", f"""
        INSERT INTO stations_servicerecord (kind, worker_label, note, at, station_id, worker_id)
        SELECT 'check_in', '', '', now() - random() * interval '365 days',
               1 + (g::bigint * 7919) % (SELECT max(id) FROM stations_station),
               (SELECT min(id) FROM accounts_user) + (g % {n_workers})
        FROM generate_series(1, {2 * n_workers}) g;
        """)
        Category.objects.get_or_create(code="other", defaults={"name_zh": "其他"})
        cat = Category.objects.get(code="other")
        depts = [Department.objects.get_or_create(code=f"d{i}", defaults={
            "name_zh": f"部门{i}", "kind": "district_body",
            "area": Area.objects.get(code="CN")})[0] for i in range(12)]
        dept_ids = ",".join(str(d.pk) for d in depts)
        batch = 1_000_000
        for start in range(0, n_cases, batch):
            run(cur, f"cases {min(start + batch, n_cases):,}", f"""
            INSERT INTO appeals_appeal (created_at, updated_at, channel, category_id, area_id,
              street_id, title, body, anonymous_public, hide_from_department, urgent, complex,
              status, department_id, month, dispatch_due, dispatched_at, respond_due,
              responded_at, answer_due, answered_at, resolve_due, current_due, answer,
              satisfaction, resolved, rated_at, reopen_count, client_key)
            SELECT c, c, 'worker', {cat.pk}, l.id, a.parent_id, '诉求', '内容', false, false, false,
              false, 'closed', dp, date_trunc('month', c AT TIME ZONE 'Asia/Shanghai')::date,
              c + interval '24 hours', c + interval '1 hour', c + interval '5 hours',
              c + r2 * interval '8 hours', c + interval '24 hours', c + r3 * interval '30 hours',
              c + interval '7 days', NULL, '',
              CASE WHEN r4 < 0.6 THEN 'satisfied' WHEN r4 < 0.85 THEN 'fairly'
                   ELSE 'dissatisfied' END, r4 < 0.85, c + interval '2 days', 0, ''
            FROM (SELECT g, (ARRAY[{dept_ids}])[1 + (g % 12)] AS dp,
                         now() - random() * interval '365 days' AS c,
                         random() AS r2, random() AS r3, random() AS r4
                  FROM generate_series({start + 1}, {min(start + batch, n_cases)}) g) x
            JOIN leaf l ON l.i = 1 + (x.g % {n_leaf}) JOIN areas_area a ON a.id = l.id
            """)
        run(cur, f"ledger: {n_tx:,} transactions, {2 * n_tx:,} entries", f"""
        INSERT INTO points_pointsaccount (kind, code, name, balance, held, created_at)
        VALUES ('system', 'system:pool', '', 0, 0, now());
        INSERT INTO points_pointsaccount (kind, code, name, balance, held, created_at, user_id)
        SELECT 'worker', 'worker:' || id, '', 0, 0, now(), id FROM accounts_user WHERE mobile LIKE '19%';
        INSERT INTO points_ledgertransaction (kind, memo, action, points, source_ref, created_at,
                                              seq, prev_hash, hash, user_id)
        SELECT CASE WHEN g % 10 < 7 THEN 'earn' ELSE 'spend' END, '', '',
               CASE WHEN g % 10 < 7 THEN 10 ELSE -5 END, '',
               now() - random() * interval '365 days', g, '', md5(g::text),
               (SELECT min(id) FROM accounts_user WHERE mobile LIKE '19%') + (g % {n_workers})
        FROM generate_series(1, {n_tx}) g;
        INSERT INTO points_entry (amount, balance_after, created_at, transaction_id, account_id)
        SELECT t.points * s, 0, t.created_at, t.id,
               CASE WHEN s = 1 THEN w.id ELSE (SELECT id FROM points_pointsaccount WHERE code = 'system:pool') END
        FROM points_ledgertransaction t
        JOIN points_pointsaccount w ON w.user_id = t.user_id
        CROSS JOIN (VALUES (1), (-1)) v(s);
        """)
        run(cur, "street reports (city: 100,000 over the last 90 days)", f"""
        INSERT INTO reports_reportcategory (code, group_zh, group_en, name_zh, name_en, description,
            keywords, resolve_days, sort, is_active)
        VALUES ('bench', '其他', '', '其他', '', '', '', 3, 0, true) ON CONFLICT DO NOTHING;
        INSERT INTO reports_problem (created_at, updated_at, lat, lng, cell_s, cell_l, address,
          description, source, client_key, token, attributes, status, reject_reason, reopen_count,
          public_note, area_id, category_id, reporter_id, resolved_at)
        SELECT c, c, la, ln, 0, 0, '', '', 'worker', '', '', '{{}}', 'resolved', '', 0, '',
               aid, (SELECT id FROM reports_reportcategory ORDER BY id LIMIT 1), rid,
               c + random() * interval '72 hours'
        FROM (SELECT now() - random() * interval '89 days' AS c,
                     39.52 + random() * 0.36 AS la, 115.92 + random() * 0.47 AS ln,
                     (SELECT id FROM cityleaf WHERE i = 1 + (g % 200)) AS aid,
                     (SELECT min(id) FROM accounts_user WHERE mobile LIKE '19%') + (g % {n_workers}) AS rid
              FROM generate_series(1, {CITY_WORKERS}) g) x;
        """)
        run(cur, "ANALYZE", "ANALYZE")
        admin = User.objects.create_user("13800000006", real_name="区级管理员")
        RoleGrant.objects.create(user=admin, role=Role.DISTRICT_ADMIN, area=Area.objects.get(code="CN"))
        city_admin = User.objects.create_user("13800000005", real_name="城市管理员")
        RoleGrant.objects.create(user=city_admin, role=Role.AREA_ADMIN, area=Area.objects.get(code="CITY"))
    return {"reused": False, "inserted_s": time.perf_counter() - t0, "workers": n_workers,
            "stations": n_stations, "cases": n_cases, "entries": 2 * n_tx, "streets": n_streets}


def timed(fn, repeat: int) -> dict:
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return {"median": statistics.median(samples), "max": max(samples), "min": min(samples)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="reuse the bench database")
    args = parser.parse_args()
    setup(args.keep)
    data = populate(args.scale)

    from django.db import connection
    from django.test import Client

    from tests.factories import signed_in
    from warmstation.accounts.models import AuthLevel, User
    from warmstation.appeals.rates import rollup_rebuild
    from warmstation.dashboard import coverage, selectors
    from warmstation.dashboard.models import Figure
    from warmstation.dashboard.rollups import figures_rebuild, figures_refresh

    counts = {}
    with connection.cursor() as cur:
        for table in ("accounts_workerprofile", "stations_station", "appeals_appeal", "points_entry"):
            cur.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (our own table names)
            counts[table] = cur.fetchone()[0]
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
    largest = max(("appeals_appeal", "points_entry"), key=lambda t: counts[t])
    print(counts, flush=True)
    t0 = time.perf_counter()
    appeal_rows = rollup_rebuild()
    appeals_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    figure_rows = figures_rebuild()
    rebuild_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    figures_refresh()
    refresh_s = time.perf_counter() - t0
    print(f"roll-ups: appeals {appeal_rows} rows in {appeals_s:.1f} s; figures {figure_rows} rows "
          f"rebuilt in {rebuild_s:.1f} s, open periods refreshed in {refresh_s:.1f} s", flush=True)

    admin = User.objects.get(mobile="13800000006")
    admin.auth_level = AuthLevel.MFA
    client: Client = signed_in(admin)

    def plain_count():
        with connection.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM {largest}")  # noqa: S608
            return cur.fetchone()[0]

    # The page's first render in a process that has started (URLs and apps loaded, as a server
    # has after its first request to anything) but never rendered this page: templates not yet
    # compiled, no query cached. /healthz stands in for the server's start.
    t0 = time.perf_counter()
    client.get("/healthz")
    start_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    first = client.get("/district/", HTTP_ACCEPT_ENCODING="identity")
    first_ms = (time.perf_counter() - t0) * 1000
    assert first.status_code == 200, first.status_code
    served = first_render_in_a_new_process(warm=True)
    unwarmed = first_render_in_a_new_process(warm=False)

    from datetime import date as _date

    from django.utils import timezone

    today = timezone.localdate()
    scope = selectors.Scope(areas=selectors.scope_areas(admin), grain=Figure.Grain.MONTH,
                            periods=selectors.periods(Figure.Grain.MONTH, today))
    children = selectors._children(scope.areas)
    panels = {
        "all series (one query)": lambda: selectors._series_rows(scope),
        "stocks (workers, members)": lambda: selectors._stock_rows(scope, until=today),
        "by area (children)": lambda: selectors._children_rows(children, scope),
        "stations (live count)": lambda: selectors.station_figures(scope.areas),
        "needs: three rates + on-time": lambda: selectors.needs_figures(
            user=admin, month=today.replace(day=1)),
        "whole dashboard (selectors)": lambda: selectors.dashboard(user=admin),
        "page GET /district/ (warm)": lambda: client.get("/district/",
                                                         HTTP_ACCEPT_ENCODING="identity"),
        "page GET /district/?grain=week": lambda: client.get("/district/?grain=week",
                                                             HTTP_ACCEPT_ENCODING="identity"),
    }
    count_ms = timed(plain_count, args.repeat)
    results = {name: timed(fn, args.repeat) for name, fn in panels.items()}
    count_ms = {k: min(v, timed(plain_count, args.repeat)[k]) if k == "min" else v
                for k, v in count_ms.items()}

    city = User.objects.get(mobile="13800000005")
    city.auth_level = AuthLevel.MFA
    from warmstation.areas.scoping import scope_paths

    paths = scope_paths(city)
    cov = {}
    for mode in ("any", "open_now"):
        t0 = time.perf_counter()
        result = coverage.analyse(paths=paths, distance_m=1000, mode=mode)
        cov[mode] = {"s": time.perf_counter() - t0, "stations": len(result.stations),
                     "cells": len(result.demand), "covered": result.covered_workers,
                     "total": result.total, "gaps": len(result.gaps),
                     "first": result.candidates[0].new_workers if result.candidates else 0}
        print(f"coverage ({mode}): {cov[mode]}", flush=True)

    rows = []
    worst = 0.0
    for name, r in results.items():
        ratio = r["median"] / count_ms["median"]
        worst = max(worst, ratio)
        rows.append(f"| {name} | {r['median']:.1f} | {r['max']:.1f} | {ratio:.2f} |")
    cold_ratio = unwarmed["first_ms"] / count_ms["median"]
    first_ratio = served["first_ms"] / count_ms["median"]
    command = " ".join([".venv/bin/python", "bench/bench_dashboard.py", *sys.argv[1:]])
    scale_note = "national scale" if args.scale >= 1 else f"**{args.scale:g} of national scale**"
    text = "\n".join([
        SECTION, "",
        f"`bench/bench_dashboard.py` (run by `make bench`), {_date.today()}, {os.cpu_count()} "
        f"CPUs shared with other work, Python {platform.python_version()}, PostgreSQL {pg} on "
        f"{PG_HOST}. Command: `{command}` — {scale_note}.", "",
        f"Data (INSERT … SELECT over generate_series): {counts['accounts_workerprofile']:,} "
        f"workers, {counts['stations_station']:,} stations, {counts['appeals_appeal']:,} cases "
        f"(needs), {counts['points_entry']:,} ledger entries, {2 * counts['accounts_workerprofile']:,} "
        f"check-ins, {CITY_WORKERS:,} street reports"
        + (f", generated in {data['inserted_s']:.0f} s" if not data.get("reused") else "") + ". "
        f"Roll-ups: appeals' MonthlyStat {appeal_rows} rows in {appeals_s:.1f} s; the dashboard's "
        f"Figure {figure_rows:,} rows rebuilt in {rebuild_s:.1f} s, the open periods refreshed "
        f"(what the periodic task does every 10 minutes) in {refresh_s:.1f} s.", "",
        f"Baseline: `SELECT COUNT(*) FROM {largest}` median **{count_ms['median']:.1f} ms**. "
        f"Each row below: median and max of {args.repeat} runs, in process, as the district admin "
        "(whole country) sees it; ratio = median / the COUNT(*) median.", "",
        "| panel | median ms | max ms | ratio |", "|---|---:|---:|---:|",
        *rows,
        f"| page first render (first GET of /district/ in a new server process, after its"
        f" start-up warm-up) | {served['first_ms']:.1f} | — | {first_ratio:.2f} |",
        f"| the same in a new process that skipped the warm-up | {unwarmed['first_ms']:.1f} | — |"
        f" {cold_ratio:.2f} |",
        f"| the same in this long-running bench process (its connection warm), first GET of the"
        f" page | {first_ms:.1f} | — | {first_ms / count_ms['median']:.2f} |", "",
        f"(The warm-up — `core/warmup.py`, run by `config/wsgi.py` before a worker takes its"
        f" first request: the URLconf imported, our templates compiled, the catalogs loaded —"
        f" took {served['start_ms']:.0f} ms. Both new processes answered a /healthz first, so"
        " they differ by the warm-up alone. In the bench process the very first request,"
        f" /healthz, took {start_ms:.0f} ms.)", "",
        f"Worst panel ratio **{worst:.2f}**, first render **{first_ratio:.2f}** (target ≤ 1: "
        f"{'met' if max(worst, first_ratio) <= 1 else 'NOT met'}).", "",
        f"Coverage analysis for a city of {cov['any']['stations']:,} stations and "
        f"{CITY_WORKERS:,} workers (registrations, check-ins and reports of the last 90 days; "
        f"h3 resolution 8, 1000 m, 10 candidates, greedy maximal covering):", "",
        "| stations counted | stations | demand cells | workers covered / total | gap cells | "
        "first candidate covers | seconds |", "|---|---:|---:|---:|---:|---:|---:|",
        *[f"| {mode} | {c['stations']:,} | {c['cells']:,} | {c['covered']:,} / {c['total']:,} | "
          f"{c['gaps']:,} | {c['first']:,} | **{c['s']:.2f}** |" for mode, c in cov.items()], "",
        f"Target under {COVERAGE_TARGET_S:.0f} s: "
        f"{'met' if max(c['s'] for c in cov.values()) < COVERAGE_TARGET_S else 'NOT met'}.", ""])
    print("\n" + text)
    write_section(text)
    if not args.keep:
        connection.close()
        subprocess.run(["dropdb", "-h", PG_HOST, "-U", PG_USER, "--if-exists", "--force", DB],
                       check=False)
    return 0


# The first GET of the page in a fresh process, as a server worker serves it: one started as
# config/wsgi.py starts it (core.warmup.warm_up(): URLconf imported, templates compiled,
# catalogs loaded before the first request is taken), and one that skips the warm-up. Both
# answer a /healthz first (a load balancer's probe: the database connection, the middleware),
# so the two differ only by the warm-up.
SERVED_SCRIPT = """
import sys, time
sys.path.insert(0, %r)
import django
django.setup()
from warmstation.accounts.models import AuthLevel, User
from warmstation.core.warmup import warm_up
from tests.factories import signed_in
t0 = time.perf_counter()
if %r:
    warm_up()
start = time.perf_counter() - t0
admin = User.objects.get(mobile="13800000006")
admin.auth_level = AuthLevel.MFA
client = signed_in(admin)
assert client.get("/healthz").status_code == 200
t0 = time.perf_counter()
assert client.get("/district/", HTTP_ACCEPT_ENCODING="identity").status_code == 200
print(start * 1000, (time.perf_counter() - t0) * 1000)
"""


def first_render_in_a_new_process(warm: bool) -> dict[str, float]:
    run = subprocess.run([sys.executable, "-c", SERVED_SCRIPT % (str(ROOT), warm)], cwd=ROOT,
                         capture_output=True, text=True, check=True, timeout=600)
    start_ms, first_ms = (float(v) for v in run.stdout.split()[-2:])
    return {"start_ms": start_ms, "first_ms": first_ms}


def write_section(text: str) -> None:
    common.write_section(SECTION, text)


if __name__ == "__main__":
    raise SystemExit(main())
