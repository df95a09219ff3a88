"""Demo partners from the 2021 report: 西潞街道 met its 25 eateries and 7 agreed to give
discounted meal packages (爱心套餐); 燕山 pooled 良心餐馆, barbershops and public bathhouses
that take points (积分换服务). Names, places, people and numbers are made up. Idempotent."""

from __future__ import annotations

import math
import random
from datetime import time
from decimal import Decimal

from warmstation.accounts.models import Role, User
from warmstation.accounts.services import role_grant
from warmstation.areas.models import Area
from warmstation.benefits import services
from warmstation.benefits.models import Merchant, MerchantStaff, Offer
from warmstation.demo.data import DEMO_PASSWORD
from warmstation.points.models import EarningRule

XILU = "110111012000"
YANSHAN = "110111004000"  # 向阳街道, the centre of 燕山
XILU_CENTRE = (39.7207, 116.1101)
YANSHAN_CENTRE = (39.7268, 115.9562)
# The demo merchant sign-in (docs/demo.md): 燕山 bathhouse owner; 王老板 (13800000003, from
# demo/data.py) is linked to the first 西潞 partner.
DEMO_MERCHANT = ("13800000013", "周师傅", DEMO_PASSWORD)

XILU_PARTNERS = [  # name, contact, (meal title, price, normal price, serving hours)
    ("西潞家常菜馆", "王老板", "爱心套餐·两荤一素", "15", "25", (time(11), time(14))),
    ("苏庄牛肉面", "马师傅", "牛肉面套餐", "12", "20", (time(10, 30), time(21))),
    ("太平庄饺子馆", "刘大姐", "饺子套餐（半斤）", "13", "22", None),
    ("良乡快餐", "陈经理", "快餐盒饭", "10", "18", (time(11), time(20))),
    ("西潞砂锅居", "赵老板", "砂锅米饭套餐", "16", "26", None),
    ("鑫源包子铺", "孙大姐", "早餐套餐（包子+粥）", "6", "10", (time(6), time(10))),
    ("阳光麻辣烫", "李老板", "麻辣烫套餐", "14", "22", None),
]
YANSHAN_PARTNERS = [  # name, kind, contact, (title, points) or meal
    ("燕山良心餐馆", "restaurant", "何师傅", ("meal", "良心套餐", "12", "20")),
    ("岗南爱心理发店", "barbershop", "郭师傅", ("points", "理发一次", 30)),
    ("向阳理发室", "barbershop", "高师傅", ("points", "洗剪吹", 40)),
    ("燕山公共浴池", "bathhouse", "周师傅", ("points", "洗浴一次", 50)),
    ("迎风公共浴池", "bathhouse", "林大姐", ("points", "洗浴一次", 45)),
]
RULES = [  # action, source, name_zh, name_en, points, daily cap, monthly cap
    ("volunteer_shift", "volunteering", "社区值守志愿服务（每班）", "Community duty shift", 20, 40, 400),
    ("errand_elderly", "errand", "为孤老病残跑腿", "Errand for an elderly, sick or disabled resident", 10, 30, 300),
    ("street_report_valid", "street_report", "随手拍有效上报", "Valid street report", 5, 15, 150),
    ("policy_publicity", "civic", "政策宣传", "Policy publicity", 10, 10, 100),
    ("four_ones_activity", "civic", "“四个一”活动", "A 'four ones' activity", 15, 15, 60),
]


def _near(rng: random.Random, lat: float, lng: float, max_m: float) -> tuple[float, float]:
    r, a = max_m * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    return (round(lat + r * math.cos(a) / 111_195, 6),
            round(lng + r * math.sin(a) / (111_195 * math.cos(math.radians(lat))), 6))


def _merchant(area: Area, name: str, kind: str, contact: str, lat: float, lng: float,
              i: int, opens=time(7), closes=time(21)) -> Merchant:
    existing = Merchant.objects.filter(name=name, area=area).first()
    if existing:
        return existing
    return services.merchant_save(
        actor=None, merchant=Merchant(), name=name, kind=kind, area=area, lat=lat, lng=lng,
        address=f"{area.name_zh}{name[:2]}路{i + 3}号", contact_name=contact,
        phone=f"010-6936{i:04d}", opens=opens, closes=closes)


def _offer(merchant: Merchant, **fields) -> None:
    if not Offer.objects.filter(merchant=merchant, title=fields["title"]).exists():
        services.offer_save(actor=None, offer=Offer(merchant=merchant), **fields)


def seed_benefits() -> dict:
    areas = {a.code: a for a in Area.objects.filter(code__in=[XILU, YANSHAN])}
    if len(areas) < 2:
        return {"merchants": 0}
    for action, source, zh, en, pts, day, month in RULES:
        EarningRule.objects.get_or_create(action=action, defaults={
            "source": source, "name_zh": zh, "name_en": en, "points": pts, "daily_cap": day,
            "monthly_cap": month})
    rng = random.Random(3737)
    xilu = []
    for i, (name, contact, title, price, normal, hours) in enumerate(XILU_PARTNERS):
        lat, lng = _near(rng, *XILU_CENTRE, 1500)
        m = _merchant(areas[XILU], name, "restaurant", contact, lat, lng, i)
        _offer(m, kind="meal", title=title, price=Decimal(price), normal_price=Decimal(normal),
               serve_from=hours[0] if hours else None, serve_until=hours[1] if hours else None)
        xilu.append(m)
    yanshan = []
    for j, (name, kind, contact, offer) in enumerate(YANSHAN_PARTNERS):
        lat, lng = _near(rng, *YANSHAN_CENTRE, 1500)
        # The bathhouse (the demo merchant's counter) is a 24-hour 洗浴中心 with an offer that has
        # no serving hours, so the counter can be tried at any hour the demo is run.
        m = _merchant(areas[YANSHAN], name, kind, contact, lat, lng, 20 + j,
                      opens=time(0) if kind == "bathhouse" else time(7),
                      closes=time(0) if kind == "bathhouse" else time(20))
        if offer[0] == "meal":
            _offer(m, kind="meal", title=offer[1], price=Decimal(offer[2]),
                   normal_price=Decimal(offer[3]))
        else:
            _offer(m, kind="points", title=offer[1], points=offer[2])
        yanshan.append(m)
    wang = User.objects.filter(mobile="13800000003").first()
    if wang is not None:
        MerchantStaff.objects.get_or_create(user=wang, merchant=xilu[0])
    mobile, name, password = DEMO_MERCHANT
    zhou = User.objects.filter(mobile=mobile).first()
    if zhou is None:
        zhou = User.objects.create_user(mobile, password, real_name=name)
        role_grant(actor=None, user=zhou, role=Role.MERCHANT, area=areas[YANSHAN])
    bath = next(m for m in yanshan if m.name == "燕山公共浴池")
    MerchantStaff.objects.get_or_create(user=zhou, merchant=bath)
    return {"merchants": len(xilu) + len(yanshan), "rules": len(RULES)}
