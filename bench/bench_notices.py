"""One notice to 100,000 recipients across groups and channels: the time to publish it (inbox
rows and outbox messages written in one transaction, delivery tasks queued), the delivery rate
of its SMS against a local fake gateway and of its robot posts against a local fake robot, and
the peak memory of the process; then the service handbook of the largest street generated
beside a blank PDF of the same page count, in the same run.

    .venv/bin/python bench/bench_notices.py                   (PostgreSQL at PGHOST)
    .venv/bin/python bench/bench_notices.py --recipients 10000 --keep
    BENCH_DB=ws_mine_bench .venv/bin/python bench/bench_notices.py   (another database name)

The recipients are made in a child process, so the peak memory measured is the publishing
process's own. SMS are delivered twice over: a first part with a new connection per message
(as the sender did before), the rest over the kept-alive connection, in the same run.

Writes the section "## Notices and handbooks" of bench/RESULTS.md (other sections kept).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

PG_HOST = os.environ.get("PGHOST", "127.0.0.1")
PG_USER = os.environ.get("PGUSER", "postgres")
DB = os.environ.get("BENCH_DB", "warmstation_bench_notices")
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Notices and handbooks"
GROUPS = 50
SMS_GROUPS = 2  # groups with SMS on (the others: robots only)
NO_REUSE = 500  # SMS sent first with a new connection each, for the comparison


class Fake:
    count = 0
    lock = threading.Lock()


def start_fake():
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The answer's headers and body are two writes: without TCP_NODELAY, Nagle's algorithm
        # and the client's delayed ACK hold the body ~40 ms on a kept-alive connection (real
        # gateways behind a proxy do not do that; a fake that did would measure itself).
        disable_nagle_algorithm = True

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with Fake.lock:
                Fake.count += 1
                n = Fake.count
            body = json.dumps({"errcode": 0, "errmsg": "ok", "id": f"gw-{n}"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup(keep: bool, gateway: str) -> None:
    if not keep:
        subprocess.run(["dropdb", "-h", PG_HOST, "-U", PG_USER, "--if-exists", "--force", DB],
                       check=True)
        subprocess.run(["createdb", "-h", PG_HOST, "-U", PG_USER, DB], check=True)
    os.environ.update(DATABASE_URL=f"postgres://{PG_USER}@{PG_HOST}:5432/{DB}",
                      DJANGO_SETTINGS_MODULE="warmstation.config.settings", LOG_LEVEL="WARNING",
                      SMS_BACKEND="http", SMS_GATEWAY_URL=f"{gateway}/sms",
                      NOTICE_SMS_DAILY_CAP="1000",
                      # the raw delivery rate; the per-minute limit is measured by the tests
                      NOTICE_SMS_PER_MINUTE="0")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def populate(n: int, gateway: str) -> dict:
    from warmstation.accounts.models import Role, RoleGrant, User, WorkerProfile
    from warmstation.areas.services import area_upsert
    from warmstation.outreach.models import DeliveryChannel, Group, GroupMember

    district = area_upsert(code="110111", name_zh="房山区", level="district", parent=None)
    admin = User.objects.filter(mobile="13800000001").first()
    if admin is None:
        admin = User.objects.create_user("13800000001", real_name="区级管理员")
        RoleGrant.objects.create(user=admin, role=Role.DISTRICT_ADMIN, area=district)
    admin.auth_level = 3  # signed in with password + TOTP (AuthLevel.MFA)
    if WorkerProfile.objects.count() >= n:
        # Made by an earlier run (--keep): its robots pointed at that run's fake.
        for channel in DeliveryChannel.objects.exclude(kind="sms"):
            path = channel.webhook_url.split("/", 3)[3]
            channel.webhook_url = f"{gateway}/{path}"
            channel.broken_at, channel.broken_reason = None, ""
            channel.save(update_fields=["webhook_url", "broken_at", "broken_reason"])
        return {"admin": admin, "district": district, "inserted_s": 0.0}
    t0 = time.perf_counter()
    street = area_upsert(code="S01", name_zh="拱辰街道", level="street", parent=district)
    communities = [area_upsert(code=f"C{i:02d}", name_zh=f"社区{i:02d}", level="community",
                               parent=street) for i in range(10)]
    groups = []
    for i in range(GROUPS):
        group = Group.objects.create(area=communities[i % 10], name=f"小哥群{i:02d}")
        groups.append(group)
        if i % 2:
            DeliveryChannel.objects.create(
                group=group, kind="dingtalk", name="钉钉群", secret=f"SEC{i:04d}",
                webhook_url=f"{gateway}/robot/send?access_token=t{i:04d}", key_hint="…0000")
        else:
            DeliveryChannel.objects.create(group=group, kind="wecom", name="企业微信群",
                                           webhook_url=f"{gateway}/robot{i}?key=k{i:04d}aaaa",
                                           key_hint="…aaaa")
        if i < SMS_GROUPS:
            DeliveryChannel.objects.create(group=group, kind="sms", name="短信")
    batch = 5000
    for start in range(0, n, batch):
        users = User.objects.bulk_create([
            User(mobile=f"139{k:08d}", real_name=f"小哥{k}", password="!")
            for k in range(start, min(n, start + batch))])
        WorkerProfile.objects.bulk_create([
            WorkerProfile(user=u, job_type="courier") for u in users])
        GroupMember.objects.bulk_create([
            GroupMember(group=groups[(start + j) % GROUPS], user=u, via="staff")
            for j, u in enumerate(users)])
    return {"admin": admin, "district": district, "inserted_s": time.perf_counter() - t0}


def handbook_run(stations: int, partners: int) -> dict:
    from datetime import time as clock

    from reportlab.pdfgen.canvas import Canvas

    from warmstation.areas.models import Area
    from warmstation.benefits.models import Merchant, Offer
    from warmstation.documents import handbook as layout
    from warmstation.documents.selectors import handbook_data
    from warmstation.documents.services import handbook_generate
    from warmstation.stations.models import OpeningHours, Station

    street = Area.objects.get(code="S01")
    community = Area.objects.get(code="C00")
    if not Station.objects.filter(area=community).exists():
        for i in range(stations):
            st = Station.objects.create(
                name=f"暖心驿站{i:03d}", kind="union_24h", area=community,
                address=f"拱辰街道某某路{i}号", lat=39.70 + i * 0.0004, lng=116.10 + (i % 17) * 0.001,
                cell_s=0, cell_l=0, phone=f"010-69{i:06d}", checkin_token=f"tok{i:05d}",
                operator="区总工会")
            OpeningHours.objects.bulk_create([OpeningHours(station=st, weekday=d, opens=clock(8),
                                                           closes=clock(20)) for d in range(7)])
        for i in range(partners):
            m = Merchant.objects.create(
                name=f"爱心餐馆{i:03d}", kind="restaurant", area=community, address="某某路",
                lat=39.71 + i * 0.0003, lng=116.12, cell_s=0, cell_l=0, contact_name="王老板",
                phone="13911110000", opens=clock(10), closes=clock(21))
            Offer.objects.create(merchant=m, kind="meal", title="暖心套餐", price=12,
                                 normal_price=20)
    t0 = time.perf_counter()
    handbook = handbook_generate(street=street)
    generate_s = time.perf_counter() - t0
    data = handbook_data(street)
    pages = layout.handbook_pages(data)
    t0 = time.perf_counter()
    plain = layout.plain_pdf(data, pages)
    booklet = layout.booklet_pdf(data, pages)
    render_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for width in (layout.A5_W, layout.A4_LAND_W):  # the same two files, blank
        buf = io.BytesIO()
        canvas = Canvas(buf, pagesize=(width, layout.A5_H))
        for _ in range(len(pages) if width == layout.A5_W else len(layout.padded(pages)) // 2):
            canvas.showPage()
        canvas.save()
    blank_s = time.perf_counter() - t0
    return {"pages": handbook.pages, "generate_s": generate_s, "render_s": render_s,
            "blank_s": blank_s, "plain_kb": len(plain) / 1024, "booklet_kb": len(booklet) / 1024,
            "stations": stations, "partners": partners}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--stations", type=int, default=120)
    parser.add_argument("--partners", type=int, default=80)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--populate-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--gateway", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    t_start = time.perf_counter()
    if args.populate_only:  # the child: make the recipients, report how long it took
        setup(args.keep, args.gateway)
        made = populate(args.recipients, args.gateway)
        print(json.dumps({"inserted_s": made["inserted_s"], "rss_mb": rss_mb()}))
        return 0
    gateway = start_fake()
    child = subprocess.run(
        [sys.executable, __file__, "--populate-only", "--gateway", gateway, "--recipients",
         str(args.recipients), *(["--keep"] if args.keep else [])],
        capture_output=True, text=True, check=True)
    made = json.loads(child.stdout.strip().splitlines()[-1])
    setup(True, gateway)
    data = populate(args.recipients, gateway)  # finds them made: only the admin is read
    data["inserted_s"] = made["inserted_s"]

    from django.db import connection

    from warmstation.outreach.models import NoticeReceipt, OutboxMessage
    from warmstation.outreach.services import notice_create, outbox_deliver_batch

    OutboxMessage.objects.all().delete()
    rss0 = rss_mb()
    t0 = time.perf_counter()
    notice = notice_create(actor=data["admin"], kind="tip", audience="all",
                           title="寒潮预警", body="明天最低气温零下十度，各驿站延长开放时间，备有热水和姜茶。")
    enqueue_s = time.perf_counter() - t0
    rss1 = rss_mb()
    receipts = NoticeReceipt.objects.filter(notice=notice).count()
    sms_ids = list(OutboxMessage.objects.filter(notice=notice, channel="sms")
                   .values_list("pk", flat=True))
    robot_ids = list(OutboxMessage.objects.filter(notice=notice).exclude(channel="sms")
                     .values_list("pk", flat=True))
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM django_tasks_database_dbtaskresult")
        tasks = cur.fetchone()[0]
    Fake.count = 0
    from warmstation.outreach import channels

    reuse_post = channels._post_json

    def fresh_post(*a, **k):  # the sender as it was: a new connection per message
        try:
            return reuse_post(*a, **k)
        finally:
            channels.close_connections()

    channels._post_json = fresh_post
    t0 = time.perf_counter()
    outbox_deliver_batch(message_ids=sms_ids[:NO_REUSE])
    fresh_s = time.perf_counter() - t0
    channels._post_json = reuse_post
    t0 = time.perf_counter()
    outbox_deliver_batch(message_ids=sms_ids[NO_REUSE:])
    sms_s = time.perf_counter() - t0
    reused = len(sms_ids) - NO_REUSE
    t0 = time.perf_counter()
    outbox_deliver_batch(message_ids=robot_ids)
    robot_s = time.perf_counter() - t0
    sent = OutboxMessage.objects.filter(notice=notice, status="sent").count()
    assert Fake.count == len(sms_ids) + len(robot_ids) == sent, (Fake.count, sent)
    hb = handbook_run(args.stations, args.partners)

    command = "bench/bench_notices.py" + (f" --recipients {args.recipients}"
                                          if args.recipients != 100_000 else "")
    text = "\n".join([
        SECTION, "",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.node()} ({os.cpu_count()} CPUs, "
        f"shared; load average {os.getloadavg()[0]:.1f} at the end), PostgreSQL at {PG_HOST}. "
        f"Command: `{command}`.", "",
        f"One notice to everyone: **{receipts:,} recipients** (workers in {GROUPS} groups; every "
        f"group has a robot, WeCom or DingTalk, and {SMS_GROUPS} also SMS). Publishing writes "
        f"the inbox rows, "
        f"{len(sms_ids):,} SMS and {len(robot_ids)} robot posts to the outbox and queues "
        f"{tasks} delivery tasks (one per 2,000 messages), in one transaction.", "",
        "| step | figure |", "|---|---:|",
        f"| publish (inbox rows + outbox rows + tasks, one transaction) | {enqueue_s:.1f} s "
        f"({receipts / enqueue_s:,.0f} recipients/s) |",
        f"| peak memory of the publishing process (max RSS) before → after publishing | "
        f"{rss0:.0f} → {rss1:.0f} MB |",
        f"| (making the {receipts:,} recipients, in a child process, not part of publishing) | "
        + (f"{data['inserted_s']:.0f} s, {made['rss_mb']:.0f} MB |" if data["inserted_s"]
           else "made by an earlier run (`--keep`) |"),
        f"| SMS to a local fake gateway, one worker, sequential, **a new connection per "
        f"message** (the sender before) | {NO_REUSE / fresh_s:,.0f} msg/s ({NO_REUSE:,} in "
        f"{fresh_s:.1f} s) |",
        f"| SMS to the same gateway, one worker, sequential, **one kept-alive connection** | "
        f"{reused / sms_s:,.0f} msg/s ({reused:,} in {sms_s:.1f} s) |",
        f"| robot posts (WeCom and signed DingTalk) to a local fake robot (each robot its own "
        f"20/min window) | "
        f"{len(robot_ids) / robot_s:,.0f} msg/s ({len(robot_ids)} in {robot_s:.1f} s) |",
        f"| accepted by the fakes = marked sent | {Fake.count:,} = {sent:,} |", "",
        f"Handbook of the largest street ({hb['stations']} stations, {hb['partners']} meal "
        f"partners): **{hb['pages']} A5 pages**; plain A5 {hb['plain_kb']:.0f} KB, booklet "
        f"{hb['booklet_kb']:.0f} KB.", "",
        "| step | seconds |", "|---|---:|",
        f"| generate and store both editions (Chinese and English: four PDFs; read data, lay "
        f"out, draw, save) | {hb['generate_s']:.2f} |",
        f"| draw one edition's two PDFs only (A5 + booklet) | {hb['render_s']:.2f} |",
        f"| blank PDFs of the same page counts (ReportLab, same run) | {hb['blank_s']:.3f} |", "",
        f"Handbook / blank: **{hb['render_s'] / max(hb['blank_s'], 1e-6):.0f}×** (the cost is "
        "the text and the embedded font subset, not page handling).", ""])
    print("\n" + text)
    write_section(text)
    print(f"bench/RESULTS.md updated; total {time.perf_counter() - t_start:.0f} s")
    return 0


def write_section(text: str) -> None:
    common.write_section(SECTION, text)


if __name__ == "__main__":
    sys.exit(main())
