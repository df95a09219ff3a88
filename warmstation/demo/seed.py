"""Loads the Fangshan demo data. Idempotent: a second run finds everything and changes nothing."""

from __future__ import annotations

import csv
import random
from datetime import date
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from warmstation.accounts.models import Brand, Role, User, WorkerProfile
from warmstation.accounts.services import role_grant
from warmstation.appeals.models import Department
from warmstation.areas.models import Area, AreaContact
from warmstation.areas.services import area_upsert
from warmstation.demo import data

CSV_PATH = Path(__file__).with_name("fangshan_areas.csv")
LEVELS = {"district": "district", "area": "area", "street": "street", "town": "town",
          "township": "township", "community": "community"}


def _areas() -> dict[str, Area]:
    rows = [r for r in csv.DictReader(CSV_PATH.open(encoding="utf-8"))
            if r["code"] not in data.PLACES_NOT_AREAS]
    by_code = {a.code: a for a in Area.objects.all()}
    pending = rows
    while pending:  # parents first, whatever the file's order
        later = []
        for r in pending:
            parent = by_code.get(r["parent_code"])
            if r["level"] != "district" and parent is None:
                later.append(r)
                continue
            existing = by_code.get(r["code"])
            if existing is None:
                by_code[r["code"]] = area_upsert(
                    code=r["code"], name_zh=r["name_zh"], name_en=r["name_en"],
                    level=LEVELS[r["level"]], parent=parent if r["level"] != "district" else None,
                    center_lat=float(r["center_lat"]), center_lng=float(r["center_lng"]),
                )
        if len(later) == len(pending):
            raise ValueError(f"areas without a parent: {[r['code'] for r in later]}")
        pending = later
    for parent_code, communities in data.COMMUNITIES.items():
        parent = by_code[parent_code]
        assert parent.center_lat is not None and parent.center_lng is not None, parent_code
        for code, name_zh, name_en, dlat, dlng in communities:
            if code not in by_code:
                level = "village" if name_zh.endswith("村") else "community"
                by_code[code] = area_upsert(
                    code=code, name_zh=name_zh, name_en=name_en, level=level, parent=parent,
                    center_lat=round(parent.center_lat + dlat, 5),
                    center_lng=round(parent.center_lng + dlng, 5),
                )
    return by_code


def _contact(area: Area, kind: str, name: str, phone: str = "", address: str = "",
             hours: str = "") -> None:
    AreaContact.objects.get_or_create(
        area=area, kind=kind, name=name,
        defaults={"phone": phone, "address": address, "hours": hours},
    )


def _contacts(areas: dict[str, Area]) -> None:
    root = areas["110111"]
    for kind, name, phone, address, hours in data.DISTRICT_CONTACTS:
        _contact(root, kind, name, phone, address, hours)
    rng = random.Random(3701)
    # Sorted by code: the same names and numbers on every run, whatever order areas came in.
    ordered = sorted(areas.values(), key=lambda a: a.code)
    for i, area in enumerate(a for a in ordered if a.depth >= 1
                             and a.level not in ("community", "village")):
        n = 6930_0000 + i * 37
        short = area.name_zh.removesuffix("地区")
        if area.level == "area":
            _contact(area, "hotline", f"{short}工委服务热线", f"010-{n + 1}", hours="8:30-17:30")
            continue
        _contact(area, "hotline", f"{short}快递小哥专属服务热线", f"010-{n + 1}", hours="8:30-20:00")
        steward = rng.choice(data.SURNAMES) + rng.choice(data.GIVEN) + rng.choice(data.GIVEN)
        _contact(area, "steward", f"街乡服务管家 {steward}", f"1391000{i:04d}")
        station = short.removesuffix("街道").removesuffix("镇").removesuffix("乡")
        _contact(area, "police", f"{station}派出所", f"010-{n + 10}", f"{area.name_zh}{station}路{i + 1}号",
                 "24小时")
        _contact(area, "service_centre", f"{area.name_zh}党群服务中心", f"010-{n + 20}",
                 f"{area.name_zh}政府街{i + 2}号", "9:00-21:00")
    for area in ordered:
        if area.level in ("community", "village"):
            office = "村委会" if area.level == "village" else "社区居委会"
            _contact(area, "community_office", f"{area.name_zh}{office}",
                     f"010-6931{int(area.pk) % 10000:04d}", f"{area.name_zh}综合服务站", "8:30-17:30")
            _contact(area, "steward", f"{area.name_zh}服务管家",
                     f"1391001{int(area.pk) % 10000:04d}")


def _brands() -> None:
    for code, name_zh, name_en, kind in data.BRANDS:
        Brand.objects.get_or_create(code=code, defaults={"name_zh": name_zh, "name_en": name_en,
                                                         "kind": kind})


def _demo_accounts(areas: dict[str, Area]) -> list[tuple[str, str, str, str]]:
    printed = []
    for mobile, name, role, area_code, dept_code, totp in data.DEMO_ACCOUNTS:
        user = User.objects.filter(mobile=mobile).first()
        if user is None:
            staff = role not in ("worker", "resident")
            user = User.objects.create_user(mobile, data.DEMO_PASSWORD if staff else None,
                                            real_name=name)
            if totp:
                user.totp_secret = totp
                user.totp_confirmed_at = timezone.now()
                user.save(update_fields=["totp_secret", "totp_confirmed_at"])
        area = areas[area_code]
        department = Department.objects.get(code=dept_code) if dept_code else None
        if role == "worker":
            profile, _ = WorkerProfile.objects.get_or_create(
                user=user, defaults={"job_type": "courier", "brand": Brand.objects.get(code="sf")})
            profile.areas.add(area)
            area = areas["110111"]
        role_grant(actor=None, user=user, role=role, area=area, department=department)
        printed.append((role, mobile, name, totp or ""))
    return printed


def _workers(areas: dict[str, Area], count: int) -> int:
    """`count` sample workers spread over the district (deterministic)."""
    rng = random.Random(37)
    targets = sorted((a for a in areas.values() if a.depth >= 1 and a.level != "area"),
                     key=lambda a: a.code)
    brands = list(Brand.objects.exclude(code="other"))
    root = areas["110111"]
    wanted = [f"1990000{i:04d}" for i in range(count)]
    existing = set(User.objects.filter(mobile__in=wanted).values_list("mobile", flat=True))
    created = 0
    for mobile in wanted:
        name = rng.choice(data.SURNAMES) + rng.choice(data.GIVEN) + rng.choice(["", *data.GIVEN])
        brand = rng.choice(brands)
        picks = rng.sample(targets, k=rng.choice([1, 1, 2]))
        if mobile in existing:
            continue
        job = {"express": "courier", "food_delivery": "food_delivery",
               "ride_hailing": "ride_hailing"}[brand.kind]
        user = User.objects.create_user(mobile, real_name=name)
        profile = WorkerProfile.objects.create(user=user, job_type=job, brand=brand)
        profile.areas.set(picks)
        role_grant(actor=None, user=user, role=Role.WORKER, area=root)
        created += 1
    return created


def seed_demo(*, workers: int = 300, history: bool = False, history_scale: float = 1.0,
              history_today: date | None = None) -> dict:
    """The demo: places, people, partners and the present day's cases, reports and shifts;
    with `history`, twelve months of the past before the present day (demo/history.py; the
    suite loads the demo without it, `manage.py seed_demo` with it)."""
    with transaction.atomic():
        base = _seed_setting(workers)
    past = None
    if history:  # its own transactions, a day each (demo/history.py says why)
        from warmstation.demo.history import seed_history

        past = seed_history(scale=history_scale, today=history_today)
    with transaction.atomic():
        present = _seed_present()
    return {**base, **present, "history": past}


def _seed_setting(workers: int) -> dict:
    """Places, people, partners, and the present day's needs (no points move in them)."""
    from warmstation.demo.appeals import seed_departments

    areas = _areas()
    _contacts(areas)
    _brands()
    seed_departments()  # before the accounts: department staff are granted a department
    accounts = _demo_accounts(areas)
    created = _workers(areas, workers)
    from warmstation.demo.stations import seed_stations

    stations = seed_stations()
    from warmstation.demo.benefits import seed_benefits

    benefits = seed_benefits()
    from warmstation.demo.appeals import seed_appeals

    appeals = seed_appeals()
    return {"areas": len(areas), "workers_created": created, "accounts": accounts,
            "stations": stations, "benefits": benefits, "appeals": appeals}


def _seed_present() -> dict:
    """The present day's volunteering, housing, union and street reports: after the history,
    so that the points they post follow the past's in the ledger's chain."""
    from warmstation.demo.volunteering import seed_volunteering

    volunteering = seed_volunteering()
    from warmstation.demo.housing import seed_housing

    housing = seed_housing()
    from warmstation.demo.union import seed_union

    union = seed_union()
    from warmstation.demo.reports import seed_reports

    reports = seed_reports()
    from warmstation.demo.outreach import seed_outreach

    outreach = seed_outreach()
    return {"volunteering": volunteering, "housing": housing, "union": union,
            "reports": reports, "outreach": outreach}
