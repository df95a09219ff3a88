import time

from django.core.management.base import BaseCommand

from warmstation.demo.data import DEMO_PASSWORD
from warmstation.demo.seed import seed_demo


class Command(BaseCommand):
    help = "Load the Fangshan demo data (idempotent) and print the demo sign-ins."

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=300)
        parser.add_argument("--quiet", action="store_true")
        parser.add_argument("--no-history", dest="history", action="store_false",
                            help="without the twelve months of past activity (docs/demo.md)")

    def handle(self, *args, workers, quiet, history, **options):
        started = time.perf_counter()
        result = seed_demo(workers=workers, history=history)
        if quiet:
            return
        self.stdout.write(f"Demo data: {result['areas']} areas, "
                          f"{result['workers_created']} sample workers added.")
        past = result["history"]
        if past and past.get("created"):
            self.stdout.write(
                f"History: {past['days']} days — {past.get('cases', 0)} cases, "
                f"{past.get('check_ins', 0)} check-ins, "
                f"{past.get('meal_redemptions', 0) + past.get('points_redemptions', 0)} "
                f"redemptions, {past.get('reports', 0)} street reports, "
                f"{past.get('shifts', 0)} shifts ({time.perf_counter() - started:.0f} s).")
        self.stdout.write("")
        self.stdout.write("Demo sign-ins 演示账号 (http://127.0.0.1:8000):")
        for role, mobile, name, totp in result["accounts"]:
            if role in ("worker", "resident"):
                how = "/login/  SMS code 短信验证码 (printed in this console)"
            else:
                how = f"/staff/login/  password 密码 {DEMO_PASSWORD}"
                if totp:
                    how += f"  + TOTP: make totp M={mobile}  (secret {totp})"
            self.stdout.write(f"  {role:<15} {mobile}  {name}  {how}")
