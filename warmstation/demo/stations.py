"""Fangshan's stations from the 2021 report, at plausible places (made-up addresses and
positions near each street/town centre; the report gives counts, not coordinates)."""

from __future__ import annotations

import math
import random
from datetime import time

from django.db import transaction

from warmstation.accounts.models import Role, User
from warmstation.accounts.services import role_grant
from warmstation.areas.models import Area
from warmstation.core import geo
from warmstation.demo.data import GIVEN, SURNAMES
from warmstation.stations.models import (
    Amenity,
    GoodsItem,
    OpeningHours,
    ResourceItem,
    ServiceItem,
    Station,
    Stock,
)

AMENITIES = [
    ("charging", "充电", "Charging"), ("wifi", "无线网络", "Wi-Fi"),
    ("water", "饮用水", "Drinking water"), ("microwave", "热饭/微波炉", "Food heating"),
    ("reading", "阅读学习", "Reading"), ("first_aid", "急救药箱", "First-aid kit"),
    ("umbrella", "共享雨具", "Shared umbrellas"), ("seats", "休息座椅", "Rest seats"),
    ("toilet", "卫生间", "Toilet"), ("aircon", "空调", "Air conditioning"),
]
GOODS = [
    ("water", "矿泉水", "Bottled water", "瓶", False), ("mask", "口罩", "Masks", "个", False),
    ("heatstroke", "防暑药品", "Heatstroke remedy", "盒", False),
    ("hand_warmer", "暖宝宝", "Hand warmers", "片", False),
    ("umbrella", "共享雨伞", "Shared umbrella", "把", True),
    ("power_bank", "共享充电宝", "Shared power bank", "个", True),
    ("raincoat", "雨衣", "Raincoat", "件", True),
]
RESOURCES = [  # the district's 24-item resource list (资源服务清单), with who provides it
    ("legal_aid", "法律援助", "区司法局"), ("labour_mediation", "劳动争议调解", "区人力社保局"),
    ("job_info", "就业信息发布", "区人力社保局"), ("skills_training", "职业技能培训", "区人力社保局"),
    ("social_insurance", "社保政策咨询", "区人力社保局"), ("union_join", "工会入会", "区总工会"),
    ("union_care", "工会困难帮扶", "区总工会"), ("medical_check", "免费体检", "区卫健委"),
    ("mental_health", "心理疏导", "团区委"), ("youth_activity", "青年联谊活动", "团区委"),
    ("women_care", "女性关爱服务", "区妇联"), ("child_care", "子女托管", "区妇联"),
    ("housing_info", "租房信息", "区住建委"), ("rental_apartment", "改建公寓租赁", "区住建委"),
    ("traffic_safety", "交通安全培训", "公安房山分局"), ("parking", "临时停车点", "区城管委"),
    ("charging_station", "电动车充换电", "区城管委"), ("discount_meal", "爱心餐", "街道"),
    ("haircut", "爱心理发", "社区"), ("bath", "公共浴池优惠", "燕山工委"),
    ("library", "图书借阅", "区文旅局"), ("wifi_free", "免费上网", "社区青年汇"),
    ("emergency_aid", "应急救助", "街道"), ("policy_brief", "政策宣讲", "区委改革办"),
]
SERVICES = [  # 20 service items (服务项目清单)
    ("rest", "休息"), ("charge_phone", "手机充电"), ("drink_water", "饮水"),
    ("heat_meal", "热饭"), ("toilet", "如厕"), ("first_aid", "急救包扎"),
    ("lend_umbrella", "借用雨具"), ("lend_power_bank", "借用充电宝"), ("reading", "阅读"),
    ("wifi", "上网"), ("legal_consult", "法律咨询"), ("job_consult", "就业咨询"),
    ("insurance_consult", "社保咨询"), ("union_join", "办理入会"), ("health_check", "健康检查"),
    ("counselling", "心理疏导"), ("repair", "简易维修"), ("parcel_help", "临时存放"),
    ("send_water", "送水送药"), ("holiday_care", "节日慰问"),
]
STREETS_WITH_POINTS = "110111012000"  # 西潞街道: 15 service points (爱心港湾服务手册)


def _catalogues() -> None:
    for i, (code, zh, en) in enumerate(AMENITIES):
        Amenity.objects.get_or_create(code=code, defaults={"name_zh": zh, "name_en": en,
                                                           "order": i})
    for code, zh, en, unit, lendable in GOODS:
        GoodsItem.objects.get_or_create(code=code, defaults={
            "name_zh": zh, "name_en": en, "unit": unit, "lendable": lendable})
    for code, zh, provider in RESOURCES:
        ResourceItem.objects.get_or_create(code=code, defaults={"name_zh": zh,
                                                                "provider": provider})
    for code, zh in SERVICES:
        ServiceItem.objects.get_or_create(code=code, defaults={"name_zh": zh})


def _near(rng: random.Random, area: Area, max_m: float) -> tuple[float, float]:
    """A random point within max_m of the area's centre (every demo area has one)."""
    assert area.center_lat is not None and area.center_lng is not None, area.code
    lat, lng = area.center_lat, area.center_lng
    d = max_m * math.sqrt(rng.random())
    bearing = rng.random() * 2 * math.pi
    dlat = math.degrees(d * math.cos(bearing) / geo.EARTH_RADIUS_M)
    dlng = math.degrees(d * math.sin(bearing) / geo.EARTH_RADIUS_M) / math.cos(math.radians(lat))
    return round(lat + dlat, 6), round(lng + dlng, 6)


def _station(*, name, kind, area, lat, lng, address, steward, amenities, hours, is_24h=False,
             operator="", stock=None):
    existing = Station.objects.filter(name=name).first()
    if existing:
        return existing
    cell_s, cell_l = geo.cells_of(lat, lng)
    station = Station.objects.create(
        name=name, kind=kind, area=area, lat=lat, lng=lng, cell_s=cell_s, cell_l=cell_l,
        address=address, steward=steward, is_24h=is_24h, operator=operator,
        # The station's own service line; a steward's personal mobile is not published.
        phone=f"010-6932{Station.objects.count() + 1:04d}",
        checkin_token=Station.new_checkin_token(),
    )
    station.amenities.set(Amenity.objects.filter(code__in=amenities))
    station.services.set(ServiceItem.objects.filter(code__in=[
        "rest", "charge_phone", "drink_water", "heat_meal", "lend_umbrella", "reading"]))
    station.resources.set(ResourceItem.objects.filter(code__in=[
        "legal_aid", "union_join", "job_info", "social_insurance", "discount_meal", "wifi_free"]))
    OpeningHours.objects.bulk_create(
        OpeningHours(station=station, weekday=w, opens=o, closes=c)
        for w in range(7) for o, c in hours
    )
    for code, qty in (stock or {}).items():
        Stock.objects.create(station=station, item=GoodsItem.objects.get(code=code),
                             quantity=qty, low_threshold=2 if qty < 10 else 5)
    return station


def _steward(rng: random.Random, n: int, area: Area) -> User:
    mobile = f"1380010{n:04d}"
    user = User.objects.filter(mobile=mobile).first()
    if user is None:
        user = User.objects.create_user(mobile, real_name=rng.choice(SURNAMES) +
                                        rng.choice(GIVEN) + rng.choice(GIVEN))
        role_grant(actor=None, user=user, role=Role.STEWARD, area=area)
    return user


@transaction.atomic
def seed_stations() -> int:
    _catalogues()
    rng = random.Random(2021)
    areas = {a.code: a for a in Area.objects.all()}
    towns = sorted((a for a in areas.values() if a.level in ("street", "town", "township")
                    and a.center_lat), key=lambda a: a.code)
    full = ["charging", "water", "microwave", "seats", "toilet", "aircon"]
    youth = ["charging", "wifi", "water", "reading", "first_aid", "umbrella"]
    n = 0
    count = 0

    def add(**kw):
        nonlocal n, count
        n += 1
        steward = kw.pop("steward", None) or _steward(rng, n, kw["area"])
        _station(steward=steward, **kw)
        count += 1

    # The named places first.
    ylj = areas["110111-YLJ"]
    add(name="伊林郡社区“37°C+”暖心驿站", kind="party_mass", area=ylj,
        lat=ylj.center_lat, lng=ylj.center_lng, address="拱辰街道行宫西街1号院伊林郡社区党群服务站",
        steward=User.objects.filter(mobile="13800000002").first(),
        amenities=full + ["wifi", "umbrella", "first_aid"], hours=[(time(8), time(22))],
        operator="拱辰街道", stock={"water": 40, "mask": 60, "umbrella": 8, "power_bank": 4})
    gc = areas["110111011000"]
    add(name="华冠购物中心爱心驿站", kind="mall", area=gc, lat=39.7333, lng=116.1333,
        address="良乡北关西路14号华冠购物中心一层", amenities=full + ["wifi"],
        hours=[(time(9), time(22))], operator="华冠购物中心",
        stock={"water": 30, "mask": 100, "power_bank": 6})
    dd = areas["110111103000"]
    add(name="窦店镇新业态新就业群体综合服务中心", kind="service_centre", area=dd,
        lat=39.6503, lng=116.0617, address="窦店镇政府东侧综合服务中心",
        amenities=full + ["wifi", "reading", "first_aid", "umbrella"],
        hours=[(time(8, 30), time(20))], operator="窦店镇",
        stock={"water": 50, "umbrella": 10, "power_bank": 6, "raincoat": 5})
    # 区总工会: 40-odd open 24-hour stations (and 暖心角 at courier sites).
    for i in range(42):
        town = towns[i % len(towns)]
        lat, lng = _near(rng, town, 2500)
        kind = "union_corner" if i % 6 == 5 else "union_24h"
        label = "暖心角" if kind == "union_corner" else "24小时暖心驿站"
        add(name=f"{town.name_zh}职工之家{label}{i // len(towns) + 1}号", kind=kind, area=town,
            lat=lat, lng=lng, address=f"{town.name_zh}{rng.randint(1, 200)}号",
            amenities=full if kind == "union_24h" else ["charging", "water", "seats"],
            hours=[], is_24h=True, operator="区总工会",
            stock={"water": rng.randint(10, 40), "mask": rng.randint(0, 50),
                   "umbrella": rng.randint(0, 6)})
    # 团区委: 小哥加油站 in 35 社区青年汇 (charging, Wi-Fi, water, reading, first aid, umbrellas).
    for i in range(35):
        town = towns[(i * 7) % len(towns)]
        lat, lng = _near(rng, town, 3000)
        late = i % 5 == 0  # some youth centres stay open late into the night
        add(name=f"{town.name_zh}社区青年汇小哥加油站{i + 1}", kind="youth", area=town,
            lat=lat, lng=lng, address=f"{town.name_zh}青年汇{rng.randint(1, 99)}号",
            amenities=youth, operator="团区委",
            hours=[(time(18), time(2))] if late else [(time(9), time(21))],
            stock={"water": rng.randint(5, 30), "umbrella": rng.randint(1, 8),
                   "power_bank": rng.randint(0, 5)})
    # 西潞街道: 15 service points of the 爱心港湾 handbook.
    xl = areas[STREETS_WITH_POINTS]
    for i in range(15):
        lat, lng = _near(rng, xl, 1800)
        add(name=f"西潞街道爱心港湾服务站点{i + 1:02d}", kind="service_point", area=xl,
            lat=lat, lng=lng, address=f"西潞街道苏庄{rng.randint(1, 30)}号",
            amenities=["water", "charging", "seats", "umbrella"] if i % 2 else ["water", "seats"],
            hours=[(time(8, 30), time(20))], operator="西潞街道",
            stock={"water": rng.randint(5, 20), "umbrella": rng.randint(0, 4)})
    # 区妇联: 房山女性微家 at 5 stations in 4 key streets.
    for i, code in enumerate(["110111011000", "110111012000", "110111105000",
                              "110111001000", "110111011000"]):
        area = areas[code]
        lat, lng = _near(rng, area, 1500)
        add(name=f"房山女性微家·{area.name_zh}{i + 1}", kind="women", area=area, lat=lat,
            lng=lng, address=f"{area.name_zh}妇女之家", amenities=["water", "seats", "first_aid"],
            hours=[(time(9), time(18))], operator="区妇联", stock={"water": 10, "mask": 20})
    return count
