"""Snap-and-report: reports accepted per second through the server, each with a realistic 4 MB
phone photo (upload ahead + report, as the phone does), beside a plain upload that stores the
same bytes untouched, in the same run; and the photo pipeline's time and peak memory per photo.

    .venv/bin/python bench/bench_reports.py            (PostgreSQL at PGHOST, 127.0.0.1)
    .venv/bin/python bench/bench_reports.py --quick    (fewer requests)
    .venv/bin/python bench/bench_reports.py --sqlite

Targets (issue 13): the worker's request at p99 under 1 s, at least 0.5 of the plain upload's
throughput, and a photo never costs a process more than 200 MB.

Writes the section "## Street reports" of bench/RESULTS.md (other sections kept).
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import cpu_seconds, descendants, free_port, redis_env, status_kb, write_section  # noqa: E402

PG_HOST = os.environ.get("PGHOST", "127.0.0.1")
PG_USER = os.environ.get("PGUSER", "postgres")
DB = os.environ.get("BENCH_DB", "warmstation_bench_reports")
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Street reports"
CLIENTS = 4
TARGET_P99_S, TARGET_RATIO, TARGET_RSS_MB = 1.0, 0.5, 200.0

# A bench-only URL beside the real ones: the plain upload that stores the bytes untouched.
URLCONF = '''
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from warmstation.config.urls import urlpatterns as real


@csrf_exempt
def plain(request):
    upload = request.FILES["image"]
    name = default_storage.save("bench-plain/photo.jpg", ContentFile(upload.read()))
    return JsonResponse({"name": name}, status=201)


urlpatterns = [path("bench/plain-upload", plain), *real]
'''


def phone_photo(seed: int = 1, target: int = 4_000_000) -> bytes:
    """A 12-megapixel JPEG of about 4 MB with EXIF (GPS, camera, orientation), as phones make:
    noise over gradients, so it compresses like a real street scene."""
    from PIL import Image, ImageFilter

    rng = random.Random(seed)
    w, h = 4032, 3024
    noise = Image.effect_noise((w // 4, h // 4), 60).resize((w, h)).convert("RGB")
    base = Image.linear_gradient("L").resize((w, h)).convert("RGB")
    img = Image.blend(base, noise, 0.5).filter(ImageFilter.DETAIL)
    img.paste((rng.randrange(256), 90, 40), (w // 3, h // 2, w // 2, h * 3 // 4))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "PhoneMaker"
    quality = 96
    while True:
        out = io.BytesIO()
        img.save(out, "JPEG", quality=quality, exif=exif.tobytes())
        data = out.getvalue()
        if len(data) <= target * 1.15 or quality < 70:
            # pad to ~4 MB with an APP comment if short: phones add maker notes the same way
            if len(data) < target:
                data = data[:2] + b"\xff\xfe" + (min(65533, target - len(data)) + 2).to_bytes(
                    2, "big") + b"\0" * min(65533, target - len(data)) + data[2:]
            return data
        quality -= 4


def pipeline_in_process(photo: bytes, n: int) -> dict:
    from warmstation.core.images import reencode_image
    from warmstation.reports.services import MAX_SIDE

    reencode_image(photo, max_side=MAX_SIDE)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        reencode_image(photo, max_side=MAX_SIDE)
        times.append(time.perf_counter() - t0)
    return {"n": n, "p50_ms": statistics.median(times) * 1000,
            "max_ms": max(times) * 1000}


# The peak is read from /proc (VmHWM, this process's own high-water mark): getrusage's
# ru_maxrss survives exec on Linux, so a child of this (large) process would report the
# parent's peak, not its own.
PEAK_SCRIPT = """
import sys
sys.path.insert(0, %r)
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "warmstation.config.settings")
django.setup()
from warmstation.core.images import reencode_image
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
data = open(%r, "rb").read()
before = hwm()
reencode_image(data, max_side=2048)
after = hwm()
print(before, after)
"""


def pipeline_peak(photo_path: Path) -> dict:
    run = subprocess.run([sys.executable, "-c", PEAK_SCRIPT % (str(ROOT), str(photo_path))],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    before, after = (int(v) / 1024 for v in run.stdout.split())
    return {"process_mb": after, "added_mb": after - before}


def setup(sqlite: bool, workdir: Path) -> str:
    if sqlite:
        url = f"sqlite:///{workdir / 'bench_reports.sqlite3'}"
    else:
        subprocess.run(["dropdb", "-h", PG_HOST, "-U", PG_USER, "--if-exists", "--force", DB],
                       check=True)
        subprocess.run(["createdb", "-h", PG_HOST, "-U", PG_USER, DB], check=True)
        url = f"postgres://{PG_USER}@{PG_HOST}:5432/{DB}"
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "warmstation.config.settings"
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url


def populate(clients: int) -> list[str]:
    """A district with one street and a community with a centre, and one worker per client,
    each with an API token."""
    from warmstation.accounts.models import AuthLevel, Role, RoleGrant, User, WorkerProfile
    from warmstation.accounts.services import api_token_issue
    from warmstation.areas.services import area_upsert

    district = area_upsert(code="110111", name_zh="房山区", level="district", parent=None,
                           center_lat=39.7476, center_lng=116.137)
    street = area_upsert(code="GC", name_zh="拱辰街道", level="street", parent=district,
                         center_lat=39.7299, center_lng=116.1371)
    tokens = []
    for i in range(clients):
        user = User.objects.create_user(f"1990001{i:04d}", real_name=f"小哥{i}")
        WorkerProfile.objects.create(user=user, job_type="courier").areas.add(street)
        RoleGrant.objects.create(user=user, role=Role.WORKER, area=district)
        tokens.append(api_token_issue(user=user, auth_level=AuthLevel.CODE))
    return tokens


def multipart(photo: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; "
            f"filename=\"IMG_0001.JPG\"\r\nContent-Type: image/jpeg\r\n\r\n").encode() + \
        photo + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def upload_photo(conn: http.client.HTTPConnection, token: str, photo: bytes) -> int:
    """The photo uploaded ahead, as the phone sends it; its id."""
    body, ctype = multipart(photo)
    conn.request("POST", "/api/v1/reports/photos", body,
                 {"Authorization": f"Bearer {token}", "Content-Type": ctype})
    response = conn.getresponse()
    data = response.read()
    assert response.status == 201, (response.status, data[:300])
    return json.loads(data)["id"]


def one_report(conn: http.client.HTTPConnection, token: str, photo: bytes, i: int) -> float:
    """What the phone does: upload the photo ahead, then file the report naming it."""
    t0 = time.perf_counter()
    photo_id = upload_photo(conn, token, photo)
    lat = 39.7299 + (i % 50) * 0.003  # 330 m apart: no two reports are the same problem
    report = json.dumps({"category": "exposed_garbage", "lat": lat, "lng": 116.1371,
                         "photo_ids": [photo_id], "description": "路边垃圾"})
    conn.request("POST", "/api/v1/reports", report,
                 {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                  "Idempotency-Key": uuid.uuid4().hex})
    response = conn.getresponse()
    data = response.read()
    assert response.status == 201, (response.status, data[:300])
    return time.perf_counter() - t0


def one_upload(conn: http.client.HTTPConnection, token: str, photo: bytes, i: int) -> float:
    """The photo upload alone (the first half of a report), to set beside the plain one."""
    t0 = time.perf_counter()
    upload_photo(conn, token, photo)
    return time.perf_counter() - t0


def one_plain(conn: http.client.HTTPConnection, token: str, photo: bytes, i: int) -> float:
    t0 = time.perf_counter()
    body, ctype = multipart(photo)
    conn.request("POST", "/bench/plain-upload", body, {"Content-Type": ctype})
    response = conn.getresponse()
    response.read()
    assert response.status == 201, response.status
    return time.perf_counter() - t0


def load(port: int, tokens: list[str], photos: list[bytes], per_client: int, fn) -> dict:
    latencies: list[float] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for j in range(per_client):
            mine.append(fn(conn, tokens[k], photos[(k + j) % len(photos)], k * 1000 + j))
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(len(tokens))]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    latencies.sort()
    return {"n": len(latencies), "per_s": len(latencies) / elapsed,
            "p50_s": statistics.median(latencies),
            "p99_s": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]}


def through_server(url: str, tokens: list[str], photos: list[bytes], per_client: int,
                   workdir: Path) -> dict:
    (workdir / "bench_urls.py").write_text(URLCONF)
    port = free_port()
    env = os.environ | {"DATABASE_URL": url, "DEBUG": "0", "LOG_LEVEL": "WARNING",
                        "ALLOWED_HOSTS": "127.0.0.1,localhost",
                        "DJANGO_SETTINGS_MODULE": "bench_settings",
                        "PYTHONPATH": f"{workdir}:{ROOT}", "MEDIA_ROOT": str(workdir / "media"),
                        **redis_env()}
    (workdir / "bench_settings.py").write_text(
        "from warmstation.config.settings import *  # noqa: F403\nROOT_URLCONF = 'bench_urls'\n")
    cmd = [str(ROOT / ".venv" / "bin" / "granian"), "--interface", "wsgi",
           "warmstation.config.wsgi:application", "--host", "127.0.0.1", "--port", str(port),
           "--workers", "2", "--blocking-threads", "2", "--backpressure", "16", "--no-ws"]
    log = open(workdir / "granian.log", "w")  # noqa: SIM115 — closed in finally
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    # The task workers, as `make serve` runs them (manage.py supervise, ADR 0020): the bulk
    # queue's, which re-encodes the photos after the requests answered at TASK_BULK_WORKER_NICE,
    # and the default queue's, which delivers the reporters' SMS at TASK_WORKER_NICE (both 10).
    # Each lowers its own CPU priority, and its session's group.
    def task_worker(queue: str) -> subprocess.Popen:
        return subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "db_worker",
             "--interval", "0.2", "--no-reload", "--queue-name", queue],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    worker, messages = task_worker("bulk"), task_worker("default")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("granian did not start")
            time.sleep(0.3)
        load(port, tokens, photos, 1, one_plain)    # warm up both paths
        load(port, tokens, photos, 1, one_report)
        wait_processed(deadline_s=300)
        runs: dict[str, list[dict]] = {"plain": [], "upload": [], "report": []}
        web = [proc.pid, *descendants(proc.pid)]

        def measured(fn) -> dict:
            """One load, with the CPU the web processes and the task workers spent meanwhile
            (per request): what each request costs, whatever else the machine was doing."""
            w0, k0 = cpu_seconds(*web), cpu_seconds(worker.pid, messages.pid)
            run = load(port, tokens, photos, per_client // 2, fn)
            run["web_cpu_ms"] = (cpu_seconds(*web) - w0) * 1000 / run["n"]
            run["worker_cpu_ms"] = (cpu_seconds(worker.pid, messages.pid) - k0) * 1000 / run["n"]
            return run

        drains = []
        for _round in range(2):  # alternate, so other load on the machine falls on both
            runs["plain"].append(measured(one_plain))
            runs["upload"].append(measured(one_upload))
            wait_processed(deadline_s=600)
            t0 = time.perf_counter()
            runs["report"].append(measured(one_report))
            answered = time.perf_counter()
            wait_processed(deadline_s=600)  # the next round starts on an idle worker
            done = time.perf_counter()
            drains.append({"after_s": done - answered, "photos": per_client // 2 * len(tokens),
                           "total_s": done - t0})
        out: dict = {"drain_after_s": max(d["after_s"] for d in drains),
                     "processed_per_s": sum(d["photos"] for d in drains)
                     / sum(d["total_s"] for d in drains),
                     "task_worker_mb": status_kb(worker.pid, "VmHWM") / 1024}
        for kind, rs in runs.items():
            out[kind] = {"n": sum(r["n"] for r in rs),
                         "per_s": statistics.mean(r["per_s"] for r in rs),
                         "p50_s": statistics.mean(r["p50_s"] for r in rs),
                         "p99_s": max(r["p99_s"] for r in rs),
                         "web_cpu_ms": statistics.mean(r["web_cpu_ms"] for r in rs),
                         "worker_cpu_ms": statistics.mean(r["worker_cpu_ms"] for r in rs)}
        rss = []
        for task in Path(f"/proc/{proc.pid}/task").iterdir():
            for kid in (task / "children").read_text().split():
                for line in Path(f"/proc/{kid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        rss.append(int(line.split()[1]) / 1024)
        out["worker_rss_mb"] = max(rss, default=0.0)
        return out
    except Exception:
        log.flush()
        print((workdir / "granian.log").read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        for child in (worker, messages, proc):
            if child.poll() is None:
                os.killpg(child.pid, 15)
                child.wait(timeout=20)
        log.close()


def wait_processed(deadline_s: float) -> None:
    """Until the task worker has re-encoded every uploaded photo."""
    from warmstation.reports.models import Photo

    deadline = time.monotonic() + deadline_s
    while Photo.objects.filter(state=Photo.State.PROCESSING).exists():
        if time.monotonic() > deadline:
            raise RuntimeError("photos still processing: is the task worker running?")
        time.sleep(0.1)
    failed = Photo.objects.filter(state=Photo.State.FAILED).count()
    assert failed == 0, f"{failed} photos failed to re-encode"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    per_client = 6 if args.quick else 20
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        workdir = Path(tmp)
        url = setup(args.sqlite, workdir)
        photos = [phone_photo(seed) for seed in range(3)]
        photo_path = workdir / "photo.jpg"
        photo_path.write_bytes(photos[0])
        inproc = pipeline_in_process(photos[0], 5 if args.quick else 15)
        peak = pipeline_peak(photo_path)
        tokens = populate(CLIENTS)
        srv = through_server(url, tokens, photos, per_client, workdir)
        if not args.sqlite:
            subprocess.run(["dropdb", "-h", PG_HOST, "-U", PG_USER, "--if-exists", "--force",
                            DB], check=True)
    ratio = srv["report"]["per_s"] / srv["plain"]["per_s"]
    load_avg = os.getloadavg()[0]
    ok = lambda good: "met" if good else "**not met**"  # noqa: E731
    text = "\n".join([
        SECTION, "",
        f"`bench/bench_reports.py` (run by `make bench`), {time.strftime('%Y-%m-%d')}, on"
        f" {platform.machine()} ({os.cpu_count()} CPUs, load average {load_avg:.1f});"
        f" {'SQLite' if args.sqlite else 'PostgreSQL'}. Command: `{' '.join(sys.argv)}`.", "",
        f"Photo: {len(photos[0]) / 1e6:.1f} MB JPEG, 4032×3024, EXIF with orientation 6 — as a"
        " phone writes it.", "",
        "**Photo pipeline** (`core/images.reencode_image`, run by the task"
        " `reports.tasks.process_photo`: decode at reduced scale, orient, ≤ 2048 px, strip, JPEG"
        " + thumbnail):", "",
        "| photos | p50 ms | max ms | peak RSS of a process doing one | added by the photo |",
        "|---|---|---|---|---|",
        f"| {inproc['n']} | {inproc['p50_ms']:.0f} | {inproc['max_ms']:.0f} |"
        f" {peak['process_mb']:.0f} MB | {peak['added_mb']:.0f} MB |", "",
        f"**Through the server** (granian `--workers 2 --blocking-threads 2`, {CLIENTS} clients"
        " on keep-alive connections; a report = the photo upload + the report naming it;"
        f" the bulk queue's task worker, `nice {os.environ.get('TASK_BULK_WORKER_NICE', '10')}` in a"
        " session of its own (its group lowered too), re-encodes the photos after the upload has"
        " answered, and the default queue's, `nice 10`, delivers the SMS; ADR 0020):", "",
        "| request | done | per s | p50 s | p99 s | web CPU ms per request | task workers' CPU ms"
        " meanwhile, per request |", "|---|---|---|---|---|---|---|",
        f"| plain upload, bytes stored untouched | {srv['plain']['n']} |"
        f" {srv['plain']['per_s']:.1f} | {srv['plain']['p50_s']:.2f} |"
        f" {srv['plain']['p99_s']:.2f} | {srv['plain']['web_cpu_ms']:.1f} |"
        f" {srv['plain']['worker_cpu_ms']:.1f} |",
        f"| the photo upload alone (checked, kept; re-encoded by the task) | {srv['upload']['n']} |"
        f" {srv['upload']['per_s']:.1f} | {srv['upload']['p50_s']:.2f} |"
        f" {srv['upload']['p99_s']:.2f} | {srv['upload']['web_cpu_ms']:.1f} |"
        f" {srv['upload']['worker_cpu_ms']:.1f} |",
        f"| report with its photo (upload + create) | {srv['report']['n']} |"
        f" {srv['report']['per_s']:.1f} | {srv['report']['p50_s']:.2f} |"
        f" {srv['report']['p99_s']:.2f} | {srv['report']['web_cpu_ms']:.1f} |"
        f" {srv['report']['worker_cpu_ms']:.1f} |", "",
        f"The task worker re-encoded the photos at {srv['processed_per_s']:.1f} a second over"
        " each round (from its first report to its last photo ready); the last photo of a"
        f" round was ready {srv['drain_after_s']:.1f} s after the round's last request had"
        f" answered; the worker's peak memory {srv['task_worker_mb']:.0f} MB. A burst is"
        " answered at the request rate and worked off at the pipeline's; a viewer who asks"
        " for a photo still processing gets it finished in that request.", "",
        f"The photo upload alone ran at {srv['upload']['per_s'] / srv['plain']['per_s']:.2f} of"
        " the plain upload's rate; the report's second request (the report naming the photo:"
        " its rows, audit, SMS and answer) is the rest of the gap.", "",
        f"Targets: p99 < {TARGET_P99_S:.0f} s — {srv['report']['p99_s']:.2f} s,"
        f" {ok(srv['report']['p99_s'] < TARGET_P99_S)}; throughput ≥ {TARGET_RATIO} of the plain"
        f" upload — {ratio:.2f}, {ok(ratio >= TARGET_RATIO)}; a photo ≤ {TARGET_RSS_MB:.0f} MB"
        f" per process — {peak['process_mb']:.0f} MB ({srv['worker_rss_mb']:.0f} MB peak"
        f" for a web worker after the run), {ok(peak['process_mb'] <= TARGET_RSS_MB)}.",
    ])
    print(text)
    write_section(SECTION, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
