"""Where a lunch-hour request's time goes (issues 18 and 13): each kind of bench_load's mix, and
the report photo upload, run in process through Django's test client on PostgreSQL. For each:
queries, wall time and this process's CPU time per request, beside /healthz in the same run.

One web process serves the mix on one core, so its CPU per request bounds its throughput: the
mix's CPU against /healthz's is what the through-server ratio (bench_load.py) can reach at best.

    .venv/bin/python bench/bench_request_cost.py          # 60 requests per kind
    .venv/bin/python bench/bench_request_cost.py --n 20

Uses a database of its own on the PostgreSQL at PGHOST (dropped afterwards). Writes the section
"## Request cost" of bench/RESULTS.md (other sections kept).
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_load import MIX, NO_LIMITS, build_fixtures  # noqa: E402
from bench.common import load_avg, redis_env, write_section  # noqa: E402

PG_HOST = os.environ.get("PGHOST", "127.0.0.1")
PG_USER = os.environ.get("PGUSER", "postgres")
DB = os.environ.get("BENCH_DB", "warmstation_bench_cost")
SECTION = "## Request cost"


def _setup(workdir: Path) -> None:
    subprocess.run(["dropdb", "-h", PG_HOST, "-U", PG_USER, "--if-exists", "--force", DB],
                   check=True)
    subprocess.run(["createdb", "-h", PG_HOST, "-U", PG_USER, DB], check=True)
    os.environ.update(NO_LIMITS, DATABASE_URL=f"postgres://{PG_USER}@{PG_HOST}:5432/{DB}",
                      DJANGO_SETTINGS_MODULE="warmstation.config.settings", DEBUG="0",
                      SMS_BACKEND="console", LOG_LEVEL="ERROR",
                      WARMSTATION_VAR_DIR=str(workdir), MEDIA_ROOT=str(workdir / "media"),
                      **redis_env())
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


class Kinds:
    """One request of each kind, as bench_load's wrk script sends it."""

    def __init__(self, fx: dict, seed: int = 1) -> None:
        from django.test import Client

        from bench.bench_reports import phone_photo

        self.fx, self.rng, self.seq = fx, random.Random(seed), 0
        self.client = Client(HTTP_HOST="localhost")
        self.codes = list(fx["codes"])
        self.photos: list[dict] = []
        self.phone_photo = phone_photo(1)

    def _point(self) -> tuple[float, float]:
        lat, lng = self.rng.choice(self.fx["points"])
        return lat + (self.rng.random() - 0.5) * 0.03, lng + (self.rng.random() - 0.5) * 0.03

    def _worker(self) -> tuple[dict, str]:
        t = self.rng.choice(self.fx["tokens"])
        return {"HTTP_AUTHORIZATION": "Bearer " + t["token"]}, t["area"]

    def _key(self) -> str:
        self.seq += 1
        return f"cost-{time.time()}-{self.seq}"

    def make_photos(self, n: int) -> None:
        """Small photos uploaded ahead for `report` (made outside the timing)."""
        from PIL import Image

        from warmstation.accounts.services import api_token_authenticate
        from warmstation.reports import services as reports

        for i in range(n):
            raw = self.rng.choice(self.fx["tokens"])["token"]
            user = api_token_authenticate(raw)
            assert user is not None
            buf = io.BytesIO()
            Image.new("RGB", (64, 48), (i % 256, 3, 4)).save(buf, "JPEG")
            photo = reports.photo_upload(actor=user, data=buf.getvalue())
            self.photos.append({"token": raw, "photo": photo.pk})

    def request(self, kind: str):  # noqa: C901 - one branch per kind, as in the wrk script
        c, fx = self.client, self.fx
        if kind == "healthz":
            return c.get("/healthz")
        if kind in ("nearby", "meals_open"):
            lat, lng = self._point()
            extra = "&kind=meal&open_now=true" if kind == "meals_open" else ""
            return c.get(f"/api/v1/places/nearby?lat={lat:.7f}&lng={lng:.7f}{extra}")
        if kind == "redeem":
            code = self.codes.pop()
            return c.post("/api/v1/benefits/redemptions",
                          json.dumps({"merchant_id": code["merchant"], "code": code["code"]}),
                          content_type="application/json",
                          HTTP_AUTHORIZATION="Bearer " + code["token"],
                          HTTP_IDEMPOTENCY_KEY=self._key())
        if kind == "report":
            photo = self.photos.pop()
            lat, lng = self._point()
            body = {"category": self.rng.choice(fx["report_categories"]), "lat": lat,
                    "lng": lng, "photo_ids": [photo["photo"]], "description": "路边堆物"}
            return c.post("/api/v1/reports", json.dumps(body), content_type="application/json",
                          HTTP_AUTHORIZATION="Bearer " + photo["token"],
                          HTTP_IDEMPOTENCY_KEY=self._key())
        h, area = self._worker()
        if kind == "photo_upload":
            from django.core.files.uploadedfile import SimpleUploadedFile

            return c.post("/api/v1/reports/photos",
                          {"image": SimpleUploadedFile("p.jpg", self.phone_photo,
                                                       "image/jpeg")}, **h)
        if kind == "inbox":
            return c.get("/api/v1/notices/inbox?limit=20", **h)
        if kind == "my_needs":
            return c.get("/api/v1/appeals?limit=20", **h)
        if kind == "my_reports":
            return c.get("/api/v1/reports/mine", **h)
        if kind == "same_problem":
            lat, lng = self._point()
            return c.get(f"/api/v1/reports/nearby?category="
                         f"{self.rng.choice(fx['report_categories'])}&lat={lat:.7f}"
                         f"&lng={lng:.7f}", **h)
        if kind == "code":
            return c.post(f"/api/v1/benefits/offers/{self.rng.choice(fx['offers'])}/codes", "{}",
                          content_type="application/json", HTTP_IDEMPOTENCY_KEY=self._key(), **h)
        if kind == "need":
            body = {"category": self.rng.choice(fx["categories"]), "area_code": area,
                    "title": f"午间求助 {self.seq}", "body": "午饭时间找不到充电的地方。"}
            return c.post("/api/v1/appeals", json.dumps(body), content_type="application/json",
                          HTTP_IDEMPOTENCY_KEY=self._key(), **h)
        raise ValueError(kind)


def measure(kinds: Kinds, kind: str, n: int, after: Callable[[], None] | None = None) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if kind == "report":
        kinds.make_photos(n + 6)
    for _ in range(5):  # warm: caches, and each statement past the prepare threshold
        kinds.request(kind)
    with CaptureQueriesContext(connection) as captured:
        response = kinds.request(kind)
    queries = len(captured.captured_queries)  # now: the next request clears the log
    assert response.status_code < 300, (kind, response.status_code, response.content[:300])
    wall = cpu = 0.0
    for _ in range(n):
        w0, c0 = time.perf_counter(), time.process_time()
        response = kinds.request(kind)
        wall += time.perf_counter() - w0
        cpu += time.process_time() - c0
        assert response.status_code < 300, (kind, response.status_code)
        if after:
            after()
    return {"queries": queries, "wall_ms": wall * 1000 / n,
            "cpu_ms": cpu * 1000 / n}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--workers", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cost-") as tmp:
        workdir = Path(tmp)
        _setup(workdir)
        from django.conf import settings

        from warmstation.reports.models import Photo

        t0 = time.perf_counter()
        build_fixtures(workdir / "fixtures.json", args.workers)
        fx = json.loads((workdir / "fixtures.json").read_text())
        print(f"fixtures in {time.perf_counter() - t0:.0f} s", flush=True)
        kinds = Kinds(fx)
        # Each worker has just used the app, as in a lunch hour (and as bench_load's run reaches
        # within its first second): their tokens' last use is recent and, with
        # API_TOKEN_CACHE_SECONDS, their sign-ins are cached.
        for raw in {t["token"] for t in fx["tokens"]} | {c["token"] for c in fx["codes"]}:
            kinds.client.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer " + raw)
        start_load = load_avg()
        rows = {}
        for kind in ["healthz", *(k for k, _ in MIX), "photo_upload"]:
            # The upload's photo is dropped after each request (the pending-photo limit).
            after = (lambda: Photo.objects.filter(problem=None).delete()) \
                if kind == "photo_upload" else None
            gc.collect()  # what the kinds before left behind is not collected on this one's time
            rows[kind] = measure(kinds, kind, args.n, after)
            print(f"{kind:13s} {rows[kind]}", flush=True)
        end_load = load_avg()
        prepare = settings.DATABASES["default"]["OPTIONS"].get("prepare_threshold")
        token_cache = settings.API_TOKEN_CACHE_SECONDS
        cache_name = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    subprocess.run(["dropdb", "-h", PG_HOST, "-U", PG_USER, "--if-exists", "--force", DB],
                   check=True)
    base = rows["healthz"]["cpu_ms"]
    total = sum(w for _, w in MIX)
    mix = {"queries": sum(rows[k]["queries"] * w for k, w in MIX) / total,
           "wall_ms": sum(rows[k]["wall_ms"] * w for k, w in MIX) / total,
           "cpu_ms": sum(rows[k]["cpu_ms"] * w for k, w in MIX) / total}
    weights = dict(MIX)
    lines = [
        SECTION, "",
        f"`bench/bench_request_cost.py` (issues 18 and 13), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, PostgreSQL at {PG_HOST} "
        f"(statements prepared after {prepare} runs), cache {cache_name}, token sign-ins cached "
        f"{token_cache} s (ADR 0018), load average {start_load:.1f} → "
        f"{end_load:.1f}. Command: `.venv/bin/python bench/bench_request_cost.py --n {args.n}`. "
        f"The demo plus {args.workers} workers (bench_load's fixtures), each of whom has just "
        f"used the app once; each kind {args.n} times in process through Django's test client, "
        "after 5 warm-up requests. CPU is this process's (Python, psycopg); wall adds PostgreSQL's share and the waits.",
        "",
        "| kind | share of the mix | queries | wall ms | CPU ms | CPU against /healthz |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, r in rows.items():
        share = f"{weights[kind] * 100 / total:.0f} %" if kind in weights else "—"
        lines.append(f"| {kind} | {share} | {r['queries']} | {r['wall_ms']:.2f} |"
                     f" {r['cpu_ms']:.2f} | {r['cpu_ms'] / base:.1f} |")
    lines.append(f"| **the mix, weighted** | 100 % | {mix['queries']:.1f} | {mix['wall_ms']:.2f} |"
                 f" {mix['cpu_ms']:.2f} | {mix['cpu_ms'] / base:.1f} |")
    lines += [
        "",
        f"One web process spends {mix['cpu_ms'] / base:.1f} times /healthz's CPU on the average "
        f"request of the mix, so in process the mix can hold at most {base / mix['cpu_ms']:.2f} "
        "of /healthz's throughput (issue 18's target is 0.33). The server adds about the same "
        "fixed cost to both, which moves the through-server ratio a little towards 1.",
    ]
    write_section(SECTION, "\n".join(lines) + "\n")
    print("written to bench/RESULTS.md (" + SECTION + ")")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
