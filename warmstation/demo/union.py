"""Demo union membership from the 2021 report: the district union (区总工会) enrolled 1,200-odd
couriers of 城关街道, 阎村镇 and other towns at its open stations and 暖心角; 窦店镇's union and
北京银行 enrolled 申通's couriers on site. People and numbers are made up. Idempotent: each
event is one batch through the union's own service (bulk inserts), loaded once."""

from __future__ import annotations

import random
from datetime import date

from warmstation.accounts.models import Brand, Role, User, WorkerProfile
from warmstation.accounts.services import role_grant
from warmstation.areas.models import Area
from warmstation.demo.data import DEMO_PASSWORD, GIVEN, SURNAMES
from warmstation.stations.models import Station
from warmstation.union import services
from warmstation.union.models import EnrolmentBatch, Member, MembershipApplication

# Demo sign-ins (docs/demo.md).
DISTRICT_UNION = ("13800000022", "何主席")
DOUDIAN_UNION = ("13800000023", "冯干事")
DOUDIAN = "110111103000"
# (area code, event, day, people, brand) — 1,216 members in all.
EVENTS = [
    ("110111001000", "城关街道“暖心角”集中入会", date(2021, 6, 18), 412, None),
    ("110111101000", "阎村镇快递分拣点集中入会", date(2021, 7, 9), 356, None),
    ("110111105000", "长阳镇开放式驿站集中入会", date(2021, 8, 13), 148, "zto"),
    ("110111011000", "拱辰街道暖心驿站集中入会", date(2021, 9, 3), 126, "jd"),
    ("110111012000", "西潞街道暖心驿站集中入会", date(2021, 9, 24), 88, "yto"),
]
DOUDIAN_EVENT = ("窦店镇总工会·北京银行 申通快递小哥现场入会", date(2021, 10, 15), 86, "sto")


def _staff(mobile: str, name: str, area: Area) -> User:
    user = User.objects.filter(mobile=mobile).first()
    if user is None:
        user = User.objects.create_user(mobile, DEMO_PASSWORD, real_name=name)
    if not user.grants.filter(role=Role.UNION_STAFF, area=area).exists():
        role_grant(actor=None, user=user, role=Role.UNION_STAFF, area=area)
    return user


def _rows(rng: random.Random, start: int, n: int) -> list[services.BatchRow]:
    return [services.BatchRow(row=i + 1, name=rng.choice(SURNAMES) + rng.choice(GIVEN) +
                              rng.choice(["", *GIVEN]), mobile=f"1372{start + i:07d}")
            for i in range(n)]


def _batch(actor: User, area: Area, title: str, day: date, rows: list[services.BatchRow],
           brand_code: str | None, partner: str = "") -> None:
    if EnrolmentBatch.objects.filter(title=title).exists():
        return
    station = Station.objects.filter(area__path__startswith=area.path).order_by("pk").first()
    services.batch_enrol(actor=actor, title=title, held_on=day, area=area, station=station,
                         partner=partner, brand=Brand.objects.filter(code=brand_code).first()
                         if brand_code else None, rows=rows, consent_confirmed=True)


def seed_union() -> dict:
    root = Area.objects.get(code="110111")
    areas = {a.code: a for a in Area.objects.filter(code__in=[e[0] for e in EVENTS] + [DOUDIAN])}
    district = _staff(*DISTRICT_UNION, root)
    doudian = _staff(*DOUDIAN_UNION, areas[DOUDIAN])
    rng = random.Random(1200)
    start = 0
    for code, title, day, n, brand in EVENTS:
        _batch(district, areas[code], title, day, _rows(rng, start, n), brand)
        start += n
    title, day, n, brand = DOUDIAN_EVENT
    _batch(doudian, areas[DOUDIAN], title, day, _rows(rng, start, n), brand, partner="北京银行")
    # A few workers applied online and wait for the district union's review.
    for profile in WorkerProfile.objects.filter(user__mobile__in=[
            "19900000010", "19900000011", "19900000012"]).select_related("user", "brand") \
            .prefetch_related("areas"):
        user = profile.user
        if Member.objects.filter(user=user).exists() or \
                MembershipApplication.objects.filter(applicant=user).exists():
            continue
        area = profile.areas.first() or root
        services.membership_apply(user=user, area=area, employer=profile.brand.name_zh
                                  if profile.brand else "快递企业", job_type=profile.job_type,
                                  brand=profile.brand, consent=True)
    return {"members": Member.objects.count(),
            "waiting": MembershipApplication.objects.filter(status="submitted").count()}
