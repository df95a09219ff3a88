"""Demo housing from the 2021 report: 长阳镇's 小哥爱心公寓, equipped with a fridge, a washing
machine and an induction cooker, lent free to workers' visiting families over the holidays; the
district housing office (区住建委) that looks after it. People and numbers are made up.
Idempotent."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from warmstation.accounts.models import Role, User, WorkerProfile
from warmstation.accounts.services import role_grant
from warmstation.areas.models import Area
from warmstation.demo.data import DEMO_PASSWORD
from warmstation.housing import services
from warmstation.housing.models import Booking, Equipment, Flat, RentalApplication, Resource
from warmstation.stations import services as stations
from warmstation.stations.models import Station

CHANGYANG = "110111105000"
EQUIPMENT = [  # code, name_zh, name_en — the report's three, then what such a flat also has
    ("fridge", "冰箱", "Fridge"), ("washer", "洗衣机", "Washing machine"),
    ("induction_cooker", "电磁炉", "Induction cooker"), ("beds", "双人床", "Double bed"),
    ("water_heater", "热水器", "Water heater"), ("wifi", "无线网络", "Wi-Fi"),
]
FLAT_NAME = "长阳镇小哥爱心公寓"
# Demo sign-ins (docs/demo.md): the steward who keeps the flat, the housing office.
FLAT_STEWARD = ("13800000024", "杨管家")
HOUSING_OFFICE = ("13800000021", "吴科长")


def _staff(mobile: str, name: str, role: str, area: Area) -> User:
    user = User.objects.filter(mobile=mobile).first()
    if user is None:
        user = User.objects.create_user(mobile, DEMO_PASSWORD, real_name=name)
    if not user.grants.filter(role=role, area=area).exists():
        role_grant(actor=None, user=user, role=role, area=area)
    return user


def seed_housing() -> dict:
    root = Area.objects.get(code="110111")
    changyang = Area.objects.get(code=CHANGYANG)
    for code, zh, en in EQUIPMENT:
        Equipment.objects.get_or_create(code=code, defaults={"name_zh": zh, "name_en": en})
    _staff(*HOUSING_OFFICE, Role.HOUSING_OFFICE, root)
    steward = _staff(*FLAT_STEWARD, Role.STEWARD, changyang)
    station = Station.objects.filter(area__path__startswith=changyang.path).order_by("pk").first()
    if station is not None and station.steward_id != steward.pk:
        stations.station_save(actor=None, station=station, steward=steward)  # type: ignore[arg-type]
    flat = Flat.objects.filter(name=FLAT_NAME).first()
    if flat is None:
        flat = services.flat_save(
            actor=None, flat=Flat(), equipment=[c for c, _, _ in EQUIPMENT], name=FLAT_NAME,
            area=changyang, station=station, address="长阳镇长阳路口小哥之家二层",
            description="一室一厅，可住一家三口；节假日小哥家属来京探亲可申请短期免费使用。",
            max_guests=3, max_nights=7, max_bookings_per_season=1,
            contact_phone="010-69320105")
        # Two families already booked over the coming weeks (the demo worker's among them).
        today = timezone.localdate()
        for mobile, start, visitors in (
                ("13800000001", 10, [("王秀兰", "spouse"), ("张小宝", "child")]),
                ("19900000003", 3, [("李桂芝", "parent")])):
            profile = WorkerProfile.objects.filter(user__mobile=mobile).first()
            if profile is None:
                continue
            services.booking_create(
                worker=profile.user, flat=flat, check_in=today + timedelta(days=start),
                check_out=today + timedelta(days=start + 3),
                visitors=[{"name": n, "relation": r} for n, r in visitors])
    _resources(User.objects.get(mobile=HOUSING_OFFICE[0]))
    return {"flats": Flat.objects.count(), "resources": Resource.objects.count(),
            "signed": RentalApplication.objects.filter(status="signed").count(),
            "bookings": Booking.objects.filter(status__in=("booked", "checked_in")).count()}


# The housing office gathered converted flats, dormitories, idle factory buildings and commercial
# space (kind, name, area code, address, rooms, beds, available, rent, conditions).
RESOURCES = [
    ("converted_flat", "良乡西路改建公寓", "110111011000", "拱辰街道良乡西路12号", 12, 24, 4, 900,
     "两人一间，独立卫生间，可做饭；步行10分钟到快递分拣点。"),
    ("converted_flat", "长阳镇小哥改建公寓", "110111105000", "长阳镇长政南街3号", 10, 20, 2, 850,
     "原闲置办公楼改建，通水电暖，有洗衣房。"),
    ("dormitory", "阎村镇集体宿舍", "110111101000", "阎村镇物流园区宿舍楼", 20, 80, 26, 350,
     "四人间上下铺，统一管理，有充电车棚。"),
    ("factory", "窦店镇闲置厂房改造项目", "110111103000", "窦店镇工业区东侧厂房", 0, 60, 60, 300,
     "闲置厂房改造中，2027年春季可入住。"),
    ("commercial", "城关街道商业用房", "110111001000", "城关街道西大街商业楼三层", 8, 16, 8, 1000,
     "商业用房改为租赁住房，临近公交站。"),
]
SIGNED = 8  # the report: 8 converted flats with signed rental intentions


def _resources(office: User) -> None:
    if Resource.objects.exists():
        return
    areas = {a.code: a for a in Area.objects.filter(code__in=[r[2] for r in RESOURCES])}
    made = []
    for kind, name, code, address, rooms, beds, available, rent, conditions in RESOURCES:
        made.append(services.resource_save(
            actor=office, resource=Resource(), kind=kind, name=name, area=areas[code],
            address=address, rooms=rooms, beds=beds, available=available, rent=rent,
            conditions=conditions, contact_name="吴科长", contact_phone="010-89351001"))
    workers = list(WorkerProfile.objects.filter(user__mobile__startswith="1990000")
                   .select_related("user").order_by("user__mobile")[:SIGNED + 3])
    flats = [r for r in made if r.kind == "converted_flat"]
    for i, profile in enumerate(workers):
        application = services.rental_apply(worker=profile.user, resource=flats[i % 2],
                                            people=1 + i % 2)
        if i < SIGNED:
            for action in ("review", "viewing", "sign"):
                services.rental_move(actor=office, application=application, action=action)
