"""factory_boy factories and helpers shared by every app's tests."""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Iterator

import factory
from django.db import transaction
from django.test import Client

from warmstation.accounts.middleware import SESSION_LEVEL, SESSION_STARTED
from warmstation.accounts.models import AuthLevel, Brand, Role, RoleGrant, User, WorkerProfile
from warmstation.appeals.models import Department
from warmstation.areas.models import Area, AreaContact
from warmstation.areas.services import area_upsert

_mobiles = itertools.count(1)
PASSWORD = "Correct-horse-37"


@contextlib.contextmanager
def once_per_module(django_db_blocker) -> Iterator[None]:
    """Data built once for a test module, inside a transaction rolled back when the module
    ends: each test's own transaction (pytest-django's `db`) and each call's savepoint nest
    inside it, so a test's writes go and the module's data stays. Use it in a module-scoped
    fixture that asks for `django_db_setup` and `django_db_blocker`; tests using the data also
    ask for `db`."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def next_mobile() -> str:
    return f"1370000{next(_mobiles):04d}"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("mobile",)

    mobile = factory.LazyFunction(next_mobile)
    real_name = factory.Sequence(lambda n: f"测试{n}")
    password = factory.django.Password(PASSWORD)


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("code",)

    code = "sf"
    name_zh = "顺丰速运"
    kind = "express"


def build_area_tree() -> dict[str, Area]:
    district = area_upsert(code="110111", name_zh="房山区", name_en="Fangshan", level="district",
                           parent=None, center_lat=39.7476, center_lng=116.1370)
    gc = area_upsert(code="GC", name_zh="拱辰街道", level="street", parent=district)
    xl = area_upsert(code="XL", name_zh="西潞街道", level="street", parent=district)
    ylj = area_upsert(code="YLJ", name_zh="伊林郡社区", level="community", parent=gc)
    sz = area_upsert(code="SZ", name_zh="苏庄三里社区", level="community", parent=xl)
    AreaContact.objects.create(area=district, kind="hotline", name="北京市民服务热线",
                               phone="12345")
    AreaContact.objects.create(area=gc, kind="hotline", name="拱辰小哥专属热线",
                               phone="010-69300001")
    AreaContact.objects.create(area=gc, kind="police", name="拱辰派出所", phone="010-69300010")
    AreaContact.objects.create(area=ylj, kind="community_office", name="伊林郡社区居委会",
                               phone="010-69310001")
    AreaContact.objects.create(area=xl, kind="hotline", name="西潞小哥专属热线",
                               phone="010-69300002")
    return {"district": district, "gc": gc, "xl": xl, "ylj": ylj, "sz": sz}


def make_user(role: str | None = None, area: Area | None = None, *, department=None,
              mobile: str | None = None, totp: bool = False) -> User:
    user = UserFactory(**({"mobile": mobile} if mobile else {}))
    if totp:
        user.totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
        user.save(update_fields=["totp_secret"])
    if role:
        if role == Role.DEPARTMENT and department is None:
            department = Department.objects.create(code=f"d{user.pk}", name_zh="区人力社保局",
                                                   kind="district_body", area=area)
        RoleGrant.objects.create(user=user, role=role, area=area, department=department)
    return user


def make_worker(areas: list[Area], *, mobile: str | None = None) -> User:
    root = Area.objects.get(code=areas[0].path.strip("/").split("/")[0])
    user = make_user(Role.WORKER, root, mobile=mobile)
    profile = WorkerProfile.objects.create(user=user, job_type="courier", brand=BrandFactory())
    profile.areas.set(areas)
    return user


def signed_in(user: User, level: int = AuthLevel.MFA) -> Client:
    """A test client whose session holds `user` at sign-in `level` (as the real sign-in leaves
    it), without going through the pages."""
    client = Client()
    client.force_login(user, backend="warmstation.accounts.backends.MobilePasswordBackend")
    session = client.session
    session[SESSION_LEVEL] = int(level)
    session[SESSION_STARTED] = time.time()
    session.save()
    return client


def as_level(user: User, level: int = AuthLevel.MFA) -> User:
    """The same person as a service would see them after signing in at `level`."""
    user.auth_level = int(level)
    user.forget_grants()
    return user


def make_station(area: Area, lat: float, lng: float, *, name: str | None = None,
                 hours=None, is_24h: bool = False, amenities=(), steward: User | None = None,
                 stock: dict | None = None, kind: str = "youth"):
    """A station through the real service (cells computed), with weekly `hours` as
    [(weekday, opens, closes)] and `stock` as {goods code: quantity} (goods created if
    missing)."""
    from warmstation.stations import services
    from warmstation.stations.models import Amenity, GoodsItem, Station, Stock

    station = services.station_save(
        actor=None, station=Station(), name=name or f"驿站{next(_mobiles)}", kind=kind,
        area=area, address="测试地址", lat=lat, lng=lng, is_24h=is_24h, steward=steward,
    )
    if hours:
        services.station_set_hours(actor=None, station=station, spans=list(hours))
    for code in amenities:
        station.amenities.add(Amenity.objects.get_or_create(code=code,
                                                            defaults={"name_zh": code})[0])
    for code, quantity in (stock or {}).items():
        item, _ = GoodsItem.objects.get_or_create(
            code=code, defaults={"name_zh": code, "lendable": code in ("umbrella", "power_bank")})
        Stock.objects.create(station=station, item=item, quantity=quantity)
    return station


def make_merchant(area: Area, lat: float = 39.7207, lng: float = 116.1101, *,
                  name: str | None = None, kind: str = "restaurant", staff: User | None = None,
                  opens=None, closes=None):
    """A partner merchant through the real service (cells and settlement account made), with
    `staff` linked to its counter."""
    from datetime import time as _time

    from warmstation.benefits import services
    from warmstation.benefits.models import Merchant

    merchant = services.merchant_save(
        actor=None, merchant=Merchant(), name=name or f"商户{next(_mobiles)}", kind=kind,
        area=area, address="测试地址", lat=lat, lng=lng, contact_name="王老板",
        phone="010-69300099", opens=opens or _time(0), closes=closes or _time(0),
    )
    if staff is not None:
        services.merchant_staff_add(actor=None, merchant=merchant, user=staff)
    return merchant


def make_offer(merchant, *, kind: str = "meal", title: str = "爱心套餐", price="12.00",
               normal_price="20.00", points: int | None = None, **fields):
    from decimal import Decimal

    from warmstation.benefits import services
    from warmstation.benefits.models import Offer

    if kind == "points":
        price = normal_price = None
        points = points or 30
    return services.offer_save(
        actor=None, offer=Offer(merchant=merchant), kind=kind, title=title,
        price=Decimal(price) if price is not None else None,
        normal_price=Decimal(normal_price) if normal_price is not None else None,
        points=points, **fields)


def make_appeal_setup(tree: dict) -> dict:
    """Needs: two departments (district-wide 区人力社保局, 拱辰's command centre), three categories,
    routing rules (parking in 拱辰 → its command centre), staff for each department, a worker in
    伊林郡, dispatchers for the district and for 拱辰 and 西潞. Users are returned at the sign-in
    level their role needs (as_level)."""
    from warmstation.appeals.models import Category, RoutingRule

    rsj = Department.objects.create(code="rsj", name_zh="区人力社保局", kind="district_body",
                                    area=tree["district"])
    cgzx = Department.objects.create(code="gc-cgzx", name_zh="拱辰城管指挥中心",
                                     kind="command_centre", area=tree["gc"])
    cats = {
        "social_insurance": Category.objects.create(code="social_insurance", name_zh="社会保险",
                                                    name_en="Social insurance",
                                                    answer_hours=8, resolve_days=5,
                                                    is_policy=True),
        "traffic_parking": Category.objects.create(code="traffic_parking", name_zh="交通与停车",
                                                   name_en="Traffic and parking",
                                                   answer_hours=8, resolve_days=5),
        "housing": Category.objects.create(code="housing", name_zh="住宿难", name_en="Housing",
                                           answer_hours=16,
                                           resolve_days=10),
    }
    for cat in cats.values():
        RoutingRule.objects.create(category=cat, area=None, department=rsj)
    RoutingRule.objects.create(category=cats["traffic_parking"], area=tree["gc"],
                               department=cgzx)
    return {
        "rsj": rsj, "cgzx": cgzx, "cats": cats,
        "worker": as_level(make_worker([tree["ylj"]]), AuthLevel.CODE),
        "other_worker": as_level(make_worker([tree["sz"]]), AuthLevel.CODE),
        "rsj_staff": as_level(make_user(Role.DEPARTMENT, tree["district"], department=rsj),
                              AuthLevel.PASSWORD),
        "cgzx_staff": as_level(make_user(Role.DEPARTMENT, tree["gc"], department=cgzx),
                               AuthLevel.PASSWORD),
        "district": as_level(make_user(Role.DISTRICT_ADMIN, tree["district"]), AuthLevel.MFA),
        "gc_admin": as_level(make_user(Role.AREA_ADMIN, tree["gc"]), AuthLevel.MFA),
        "xl_admin": as_level(make_user(Role.AREA_ADMIN, tree["xl"]), AuthLevel.MFA),
        "steward": as_level(make_user(Role.STEWARD, tree["ylj"]), AuthLevel.PASSWORD),
    }
