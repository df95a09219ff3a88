"""The lunch hour (issue 18, item 7): a mix of what workers do at noon — nearby search (stations
and meals open now), codes for a discount meal and their redemption at the counter, needs,
street reports with a photo, the notice inbox, their own lists — at increasing concurrency
through the real server on PostgreSQL, beside the trivial endpoint (`/healthz`) at the same
concurrency in the same run, once on each setup:

- **single**: one web process (granian, 1 worker) and one task worker (and the bulk queue's,
  ADR 0020), straight to PostgreSQL;
- **city**: two web processes and two task workers (and the bulk queue's), writes through
  PgBouncer (transaction mode), reads from a streaming replica (core/dbrouting.py, ADR 0013).

Both run on private PostgreSQL clusters on free ports (tests/pgcluster.py: Debian's binaries as
the postgres user; the primary is a copy of the demo with extra workers), so the shared server is
not touched. Per step: throughput, p50/p99, bad answers (non-2xx and socket errors) and each
process's peak memory. Ratios to /healthz are the figures to compare across runs.

    .venv/bin/python bench/bench_load.py                # steps 4, 8, 16, 32; 8 s each
    .venv/bin/python bench/bench_load.py --quick        # steps 4, 16; 4 s each
    options: --steps 4,8,16,32 --seconds 8 --setups single,city --workers 600

Writes the section "## Lunch-hour load" of bench/RESULTS.md (other sections kept).
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    BENCH_REDIS_URL,
    cmdline,
    descendants,
    free_port,
    load_avg,
    redis_env,
    status_kb,
    write_section,
    wrk_run,
)

SECTION = "## Lunch-hour load"
TARGET_RATIO, TARGET_P99_MS = 1 / 3, 200.0
# The mix: (kind, weight). Single-use things (codes to redeem, photos) are made beforehand.
MIX = [("nearby", 30), ("meals_open", 10), ("inbox", 10), ("my_needs", 5), ("same_problem", 10),
       ("code", 10), ("redeem", 10), ("need", 5), ("report", 5), ("my_reports", 5)]
# The limits a district sets per person and address are for abuse; the load comes from one
# address and a few hundred people, so the bench lifts them (they are measured by the tests).
NO_LIMITS = {f"RATE_LIMIT_{s}": "100000000/60" for s in
             ("SIGN_IN", "SMS_CODE", "NEED", "REPORT", "OPEN311_POST", "SEARCH", "REDEEM_FAIL")}


# --- fixtures (run in a child process with DATABASE_URL set) ------------------------------------


def build_fixtures(out: Path, workers: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "warmstation.config.settings")
    import django

    django.setup()
    from datetime import time

    from django.core.management import call_command
    from PIL import Image

    from warmstation.accounts.models import ROLE_MIN_LEVEL, AuthLevel, Role, User
    from warmstation.accounts.services import api_token_issue, role_grant
    from warmstation.appeals.models import Category
    from warmstation.benefits.models import Merchant, MerchantStaff, Offer
    from warmstation.benefits.services import redemption_code_issue
    from warmstation.reports import services as reports
    from warmstation.reports.models import ReportCategory
    from warmstation.stations.models import Station

    call_command("seed_demo", workers=workers, quiet=True, **_no_history())
    people = list(User.objects.filter(worker_profile__isnull=False)
                  .prefetch_related("worker_profile__areas").order_by("pk"))
    rng = random.Random(37)
    rng.shuffle(people)
    code_people, others = people[: len(people) * 2 // 3], people[len(people) * 2 // 3:]
    # Lunch at any hour the bench runs: every partner open and every meal served all day, and
    # a cashier at every counter.
    Merchant.objects.update(opens=time(0), closes=time(0))
    Offer.objects.update(serve_from=None, serve_until=None)
    for n, merchant in enumerate(Merchant.objects.filter(staff__isnull=True)):
        cashier = User.objects.create_user(f"1390999{n:04d}", "Bench-cashier-37",
                                           real_name=f"收银{n}")
        role_grant(actor=None, user=cashier, role=Role.MERCHANT, area=merchant.area)
        MerchantStaff.objects.create(user=cashier, merchant=merchant)
    offers = list(Offer.objects.filter(is_active=True, merchant__is_active=True,
                                       kind=Offer.Kind.MEAL).select_related("merchant"))
    staff = {m.merchant_id: api_token_issue(user=m.user, auth_level=ROLE_MIN_LEVEL[Role.MERCHANT])
             for m in MerchantStaff.objects.select_related("user")}
    refused: dict[str, int] = {}
    codes, issuable = [], set()
    for user in code_people:
        for offer in offers:
            if offer.merchant_id not in staff:
                continue
            try:
                issued = redemption_code_issue(user=user, offer=offer,
                                               idempotency_key=f"bench-{user.pk}-{offer.pk}")
            except Exception as exc:  # noqa: BLE001 - e.g. not eligible: not in the mix
                refused[type(exc).__name__] = refused.get(type(exc).__name__, 0) + 1
                continue
            issuable.add(offer.pk)
            codes.append({"merchant": offer.merchant_id, "token": staff[offer.merchant_id],
                          "code": issued["digits"]})
    rng.shuffle(codes)
    print(f"codes issued: {len(codes)}, refused: {refused}", flush=True)
    tokens, photos = [], []
    categories = list(Category.objects.values_list("code", flat=True))
    report_categories = list(ReportCategory.objects.values_list("code", flat=True))
    for n, user in enumerate(others):
        areas = list(user.worker_profile.areas.all())
        if not areas:
            continue
        token = api_token_issue(user=user, auth_level=AuthLevel.CODE)
        tokens.append({"token": token, "area": areas[0].code})
        for k in range(3):
            buf = io.BytesIO()
            Image.new("RGB", (640, 480), (n % 256, k * 80, (n // 256) % 256)).save(buf, "JPEG")
            photo = reports.photo_upload(actor=user, data=buf.getvalue())
            photos.append({"token": token, "photo": photo.pk})
    rng.shuffle(photos)
    points = [(s.lat, s.lng) for s in Station.objects.all()] or [(39.7207, 116.1101)]
    out.write_text(json.dumps({
        "codes": codes, "tokens": tokens, "photos": photos, "points": points,
        "offers": sorted(issuable), "categories": categories,
        "report_categories": report_categories}))


def _no_history() -> dict:
    """seed_demo without the twelve months of history, where the command has that option."""
    from warmstation.demo.management.commands.seed_demo import Command

    parser = Command().create_parser("manage.py", "seed_demo")
    return {"history": False} if any("--no-history" in a.option_strings
                                     for a in parser._actions) else {}


# --- the mix in wrk's Lua -----------------------------------------------------------------------


def lua_script(fixtures: dict, path: Path) -> None:
    def lua_list(items, fmt):
        return "{" + ",".join(fmt(i) for i in items) + "}"

    kinds = lua_list(MIX, lambda kw: f'{{"{kw[0]}",{kw[1]}}}')
    points = lua_list(fixtures["points"], lambda p: f"{{{p[0]:.6f},{p[1]:.6f}}}")
    codes = lua_list(fixtures["codes"],
                     lambda c: f'{{{c["merchant"]},"{c["token"]}","{c["code"]}"}}')
    tokens = lua_list(fixtures["tokens"], lambda t: f'{{"{t["token"]}","{t["area"]}"}}')
    photos = lua_list(fixtures["photos"], lambda p: f'{{"{p["token"]}",{p["photo"]}}}')
    offers = lua_list(fixtures["offers"], str)
    cats = lua_list(fixtures["categories"], lambda c: f'"{c}"')
    rcats = lua_list(fixtures["report_categories"], lambda c: f'"{c}"')
    path.write_text(LUA % {"kinds": kinds, "points": points, "codes": codes, "tokens": tokens,
                           "photos": photos, "offers": offers, "cats": cats, "rcats": rcats})


# Each wrk thread takes every n-th single-use item (codes, photos), so no two threads share one;
# when a thread has used all of its share, that kind falls back to a nearby search.
LUA = r"""
local kinds = %(kinds)s
local points = %(points)s
local codes = %(codes)s
local tokens = %(tokens)s
local photos = %(photos)s
local offers = %(offers)s
local cats = %(cats)s
local rcats = %(rcats)s
local total = 0
for _, k in ipairs(kinds) do total = total + k[2] end
local threads, nthreads = {}, 0
function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end
local seq, next_code, next_photo, code_end, photo_end, step = 0, 0, 0, 0, 0, 2
-- wrk is started once per step: `-- <run> <runs>` gives this run its own share of the
-- single-use items, and each of its two threads every other one of that share.
function init(args)
  math.randomseed(tid * 7919 + os.time())
  local run, runs = tonumber(args[1] or "0"), tonumber(args[2] or "1")
  local cchunk, pchunk = math.floor(#codes / runs), math.floor(#photos / runs)
  next_code, code_end = run * cchunk + tid, (run + 1) * cchunk
  next_photo, photo_end = run * pchunk + tid, (run + 1) * pchunk
  only = args[3]  -- one kind alone (the per-kind table), else the mix
  bad = 0
end
local function point()
  local p = points[math.random(#points)]
  return p[1] + (math.random() - 0.5) * 0.03, p[2] + (math.random() - 0.5) * 0.03
end
local function nearby(extra)
  local lat, lng = point()
  return wrk.format("GET", string.format("/api/v1/places/nearby?lat=%%.7f&lng=%%.7f%%s", lat, lng, extra))
end
local function worker()
  local t = tokens[math.random(#tokens)]
  return {["Authorization"] = "Bearer " .. t[1], ["Content-Type"] = "application/json"}, t[2]
end
local function key()
  seq = seq + 1
  return string.format("lunch-%%d-%%d-%%d", tid, os.time(), seq)
end
function request()
  local x, kind = math.random() * total, kinds[#kinds][1]
  for _, k in ipairs(kinds) do
    x = x - k[2]
    if x <= 0 then kind = k[1] break end
  end
  if only then kind = only end
  if kind == "nearby" then return nearby("") end
  if kind == "meals_open" then return nearby("&kind=meal&open_now=true") end
  if kind == "inbox" then
    local h = worker(); return wrk.format("GET", "/api/v1/notices/inbox?limit=20", h)
  end
  if kind == "my_needs" then
    local h = worker(); return wrk.format("GET", "/api/v1/appeals?limit=20", h)
  end
  if kind == "my_reports" then
    local h = worker(); return wrk.format("GET", "/api/v1/reports/mine", h)
  end
  if kind == "same_problem" then
    local h = worker(); local lat, lng = point()
    return wrk.format("GET", string.format("/api/v1/reports/nearby?category=%%s&lat=%%.7f&lng=%%.7f",
      rcats[math.random(#rcats)], lat, lng), h)
  end
  if kind == "code" and #offers > 0 then
    local h = worker(); h["Idempotency-Key"] = key()
    return wrk.format("POST", string.format("/api/v1/benefits/offers/%%d/codes", offers[math.random(#offers)]), h, "{}")
  end
  if kind == "redeem" and next_code <= code_end then
    local c = codes[next_code]; next_code = next_code + step
    local h = {["Authorization"] = "Bearer " .. c[2], ["Content-Type"] = "application/json",
               ["Idempotency-Key"] = key()}
    return wrk.format("POST", "/api/v1/benefits/redemptions", h,
      string.format('{"merchant_id": %%d, "code": "%%s"}', c[1], c[3]))
  end
  if kind == "need" then
    local h, area = worker()
    return wrk.format("POST", "/api/v1/appeals", h, string.format(
      '{"category": "%%s", "area_code": "%%s", "title": "午间求助 %%d", "body": "午饭时间找不到充电的地方。"}',
      cats[math.random(#cats)], area, seq))
  end
  if kind == "report" and next_photo <= photo_end then
    local p = photos[next_photo]; next_photo = next_photo + step
    local lat, lng = point()
    local h = {["Authorization"] = "Bearer " .. p[1], ["Content-Type"] = "application/json",
               ["Idempotency-Key"] = key()}
    return wrk.format("POST", "/api/v1/reports", h, string.format(
      '{"category": "%%s", "lat": %%.7f, "lng": %%.7f, "photo_ids": [%%d], "description": "路边堆物"}',
      rcats[math.random(#rcats)], lat, lng, p[2]))
  end
  return nearby("")
end
function response(status, headers, body)
  if status >= 400 then
    bad = bad + 1
    if bad <= 3 then io.stderr:write(status .. " " .. string.sub(body, 1, 200) .. "\n") end
  end
end
"""


# --- setups -------------------------------------------------------------------------------------


def server_env(var: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DJANGO_SETTINGS_MODULE", "TASKS_BACKEND", "DATABASE_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="warmstation.config.settings", WARMSTATION_VAR_DIR=str(var),
               SMS_BACKEND="console", DEBUG="0", PYTHONUNBUFFERED="1", LOG_LEVEL="WARNING",
               **NO_LIMITS, **redis_env(), **extra)
    return env


def manage(env: dict, *args: str) -> None:
    subprocess.run([str(ROOT / ".venv/bin/python"), str(ROOT / "manage.py"), *args], env=env,
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL, timeout=1800)


def supervise(env: dict, port: int, log: Path, web: int, tasks: int) -> subprocess.Popen:
    return subprocess.Popen(
        [str(ROOT / ".venv/bin/python"), str(ROOT / "manage.py"), "supervise", "--port", str(port),
         "--web-workers", str(web), "--task-workers", str(tasks), "--periodic-every", "30"],
        env=env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True)


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"supervise exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not answer /healthz in time")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def peaks(root_pid: int, clusters: list) -> dict[str, float]:
    """Peak resident memory (VmHWM, MB) of each process below the supervisor, by program, and
    of PostgreSQL's and PgBouncer's processes."""
    found: dict[str, float] = {}
    for pid in descendants(root_pid):
        line = cmdline(pid)
        name = ("web" if "granian" in line else "bulk worker" if "db_worker" in line
                and "bulk" in line else "task worker" if "db_worker" in line
                else "periodic" if "run_periodic" in line else None)
        if name:
            found[name] = max(found.get(name, 0.0), status_kb(pid, "VmHWM") / 1024)
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        line = cmdline(pid)
        for label, marker in clusters:
            if marker in line:
                found[label] = max(found.get(label, 0.0), status_kb(pid, "VmHWM") / 1024)
    return found


def run_steps(port: int, lua: Path, steps: list[int], seconds: float,
              runs: Iterator[list[str]]) -> list[dict]:
    wrk_run(port, "/healthz", 2, connections=4)  # warm up connections, imports, plans
    wrk_run(port, "/", 2, connections=4, lua=str(lua), script_args=next(runs))
    rows = []
    for c in steps:
        base = wrk_run(port, "/healthz", seconds, connections=c)
        mix = wrk_run(port, "/", seconds, connections=c, lua=str(lua), script_args=next(runs))
        rows.append({"connections": c, "healthz": base, "mix": mix, "load": load_avg()})
        if mix["stderr"].strip():
            print("  refused (first of each thread):", mix["stderr"].strip()[:600], flush=True)
        print(f"  c={c}: healthz {base['rps']:.0f}/s p99 {base['p99']:.0f} ms | mix "
              f"{mix['rps']:.0f}/s p50 {mix['p50']:.0f} p99 {mix['p99']:.0f} ms, bad {mix['bad']}",
              flush=True)
    return rows


def run_kinds(port: int, lua: Path, seconds: float, runs: Iterator[list[str]]) -> dict:
    """Each kind of request alone at 4 connections: which part of the mix costs what."""
    alone = {}
    for kind, _weight in MIX:
        alone[kind] = wrk_run(port, "/", seconds, connections=4, lua=str(lua),
                              script_args=[*next(runs), kind])
    print("  alone at c=4: " + ", ".join(f"{k} {r['rps']:.0f}/s" for k, r in alone.items()),
          flush=True)
    return alone


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--steps", default="")
    parser.add_argument("--seconds", type=float, default=0)
    parser.add_argument("--setups", default="single,city")
    parser.add_argument("--workers", type=int, default=600)
    parser.add_argument("--fixtures-only", nargs=2, metavar=("URL", "OUT"))
    args = parser.parse_args()
    if args.fixtures_only:
        os.environ["DATABASE_URL"] = args.fixtures_only[0]
        build_fixtures(Path(args.fixtures_only[1]), args.workers)
        return 0
    steps = [int(s) for s in (args.steps or ("4,16" if args.quick else "4,8,16,32")).split(",")]
    seconds = args.seconds or (4 if args.quick else 8)
    if not shutil.which("wrk"):
        print("wrk is needed (make setup installs it)", file=sys.stderr)
        return 1
    from tests.pgcluster import Cluster, PgBouncer

    work = Path(tempfile.mkdtemp(prefix="ws-lunch-"))
    primary = Cluster()
    replica = bouncer = None
    results: dict[str, list[dict]] = {}
    memory: dict[str, dict[str, float]] = {}
    kinds: dict[str, dict] = {}
    started = time.monotonic()
    try:
        primary.start()
        primary.sql("CREATE DATABASE warmstation", dbname="postgres")
        var = work / "var"
        var.mkdir()
        env = server_env(var, DATABASE_URL=primary.url)
        manage(env, "migrate", "-v0")
        manage(env, "collectstatic_if_stale")
        t0 = time.monotonic()
        subprocess.run([str(ROOT / ".venv/bin/python"), __file__, "--workers", str(args.workers),
                        "--fixtures-only", primary.url, str(work / "fixtures.json")],
                       env=env, cwd=ROOT, check=True, timeout=3600)
        fixtures = json.loads((work / "fixtures.json").read_text())
        print(f"fixtures in {time.monotonic() - t0:.0f} s: {len(fixtures['codes'])} codes, "
              f"{len(fixtures['tokens'])} workers, {len(fixtures['photos'])} photos", flush=True)
        lua = work / "lunch.lua"
        lua_script(fixtures, lua)
        setups = args.setups.split(",")
        total_runs = len(setups) * (len(steps) + 1 + len(MIX))
        runs = iter([str(r), str(total_runs)] for r in range(total_runs))
        for setup in setups:
            port = free_port()
            log = work / f"{setup}.log"
            if setup == "single":
                proc = supervise(env, port, log, web=1, tasks=1)
                labels = [("postgres", f"-p {primary.port}")]
            else:
                if replica is None:
                    replica = Cluster(replica_of=primary)
                    replica.start()
                    bouncer = PgBouncer(primary, pool_size=20)
                    bouncer.start()
                city = server_env(var, DATABASE_URL=bouncer.url, DATABASE_POOL_MODE="transaction",
                                  DATABASE_REPLICA_URL=replica.url)
                proc = supervise(city, port, log, web=2, tasks=2)
                labels = [("postgres (primary)", f"-p {primary.port}"),
                          ("postgres (replica)", f"-p {replica.port}"), ("pgbouncer", "pgbouncer")]
            try:
                wait_ready(port, proc)
                print(f"{setup}:", flush=True)
                results[setup] = run_steps(port, lua, steps, seconds, runs)
                kinds[setup] = run_kinds(port, lua, max(2.0, seconds / 3), runs)
                memory[setup] = peaks(proc.pid, labels)
            finally:
                stop(proc)
    finally:
        if bouncer is not None:
            bouncer.stop()
        if replica is not None:
            replica.destroy()
        primary.destroy()
    write_section(SECTION, render(results, memory, kinds, args, steps, seconds, fixtures,
                                  time.monotonic() - started))
    print(f"written to bench/RESULTS.md ({SECTION})")
    return 0


def render(results, memory, kinds, args, steps, seconds, fixtures, elapsed) -> str:
    mix = ", ".join(f"{k} {w} %" for k, w in MIX)
    out = [SECTION, "",
           f"`bench/bench_load.py` (issue 18, item 7), {time.strftime('%Y-%m-%d %H:%M')} UTC, "
           f"{os.cpu_count()} CPUs, Python {platform.python_version()}, private PostgreSQL 15 "
           f"clusters (fsync off) on this machine, "
           f"{'Redis (a database of its own, as production runs)' if BENCH_REDIS_URL else 'no Redis'}"
           f", wrk -t2 on the same CPUs. Command: "
           f"`.venv/bin/python bench/bench_load.py{' --quick' if args.quick else ''}` "
           f"({elapsed / 60:.0f} min). The demo plus {args.workers} workers; "
           f"{len(fixtures['codes'])} live codes and {len(fixtures['photos'])} photos made "
           f"beforehand (each used once). Mix per request: {mix}. Each step: /healthz for "
           f"{seconds:.0f} s, then the mix for {seconds:.0f} s, at the same number of "
           f"connections; rate limits lifted (one address, a few hundred people).", ""]
    for setup, rows in results.items():
        out += [f"**{setup}** ("
                + ("1 web process, 1 task worker and the bulk queue's, PostgreSQL direct" if setup == "single" else
                   "2 web processes, 2 task workers and the bulk queue's, PgBouncer (transaction) to the primary, "
                   "reads from a streaming replica") + ")", "",
                "| connections | load avg | /healthz req/s | mix req/s | ratio | mix p50 ms | "
                "mix p99 ms | bad answers |", "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            h, m = r["healthz"], r["mix"]
            ratio = m["rps"] / h["rps"] if h["rps"] else 0
            out.append(f"| {r['connections']} | {r['load']:.1f} | {h['rps']:,.0f} | "
                       f"{m['rps']:,.0f} | {ratio:.2f} | {m['p50']:.0f} | {m['p99']:.0f} | "
                       f"{m['bad']} of {m['requests']} |")
        mem = memory.get(setup, {})
        out += ["", "Peak memory (VmHWM): " + ", ".join(f"{k} {v:.0f} MB" for k, v in mem.items())
                + ".", ""]
        last = rows[-1]
        ratio = last["mix"]["rps"] / last["healthz"]["rps"] if last["healthz"]["rps"] else 0
        ok = ratio >= TARGET_RATIO and last["mix"]["p99"] < TARGET_P99_MS and not last["mix"]["bad"]
        if setup in kinds:
            out += ["Each kind alone (4 connections, same server): "
                    + ", ".join(f"{k} {r['rps']:,.0f} req/s (p99 {r['p99']:.0f} ms)"
                                for k, r in kinds[setup].items()) + ".", ""]
        out += [f"At {last['connections']} connections: ratio {ratio:.2f} (target ≥ 0.33), p99 "
                f"{last['mix']['p99']:.0f} ms (target < 200), {last['mix']['bad']} bad answers "
                f"(target 0): **{'met' if ok else 'not met'}**.", ""]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
