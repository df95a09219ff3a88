"""A demo with a past: twelve months of history, so that trends, rates and settlements show real
shapes on the first run — needs and complaints with their steps and ratings, station check-ins
and the stations' service records (台账), partner redemptions (meals and points), street
reports, volunteer shifts with their hours and points, the monthly "四个一" activities, and the
odd reversal of a wrong award.

Shapes (all from one seeded random generator, so every load is the same):
- the system was adopted over the year: activity grows from about half to full;
- Beijing's weather: more check-ins, water and hot meals in the summer heat (Jun–Aug) and the
  winter cold (Dec–Feb), fewer in spring and autumn;
- Spring Festival (春节): most workers go home — about ten days before to two weeks after the
  holiday everything drops to a third, and wage-arrears cases rise in the weeks before it;
- 双十一 (the first weeks of November): couriers' busiest time, more check-ins and meals;
- offices work on weekdays: cases move on working days, in office hours.

Time travel, honestly. Every row is written by the apps' own services, as the running system
would have written it, at a moment of the past: `clock(moment)` makes
`django.utils.timezone.now()` answer that moment while a service runs (auto_now_add fields,
deadlines, audit rows, ledger postings and the outbox all read the clock there), and services
that take `now`/`at` are passed it. Nothing is written afterwards: no timestamp is updated, no
trigger is bypassed. The events run oldest first, one database transaction a day, so the
ledger's hash chain is in time order; `seed_demo` loads the history before the present-day demo
data that posts points, so the chain stays in time order after it too (`manage.py
ledger_verify`). A day's after-commit work (SMS to the worker, the rates' rollup) runs at its
commit, at that day's clock, with the immediate task backend: the console does not replay a
year of SMS on the first `make run`. The outbox rows are there, sent.

Idempotent: a database whose demo already has a past (a case or a check-in older than 30 days)
gets no second one. docs/demo.md#a-demo-with-a-past has the figures.
"""

from __future__ import annotations

import heapq
import logging
import math
import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.test.utils import override_settings
from django.utils import timezone

from warmstation.accounts.models import AuthLevel, Role, User
from warmstation.accounts.services import role_grant
from warmstation.appeals import services as appeals
from warmstation.appeals.models import Appeal, Category
from warmstation.appeals.rates import rollup_rebuild
from warmstation.areas.models import Area
from warmstation.benefits import services as benefits
from warmstation.benefits.models import Merchant, MerchantStaff, Offer
from warmstation.benefits.selectors import offer_served_now, schedule_of
from warmstation.core.errors import ApplicationError
from warmstation.core.time import LOCAL
from warmstation.points.models import LedgerTransaction, PointsAccount
from warmstation.points.services import points_reverse
from warmstation.stations import services as stations
from warmstation.stations.models import ServiceRecord, Station

DAYS = 360  # within the audit trail's year (AUDIT_RETENTION_DAYS): nothing is purged at once
SEED = 3712
IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

# Events a day at full adoption, before the seasons (scale=1: about 300 cases, 3,300 check-ins,
# 800 redemptions, 95 street reports and 90 shifts in the year; docs/demo.md has the figures).
RATES = {"cases": 1.2, "checkins": 10.0, "services": 2.5, "meals": 2.6, "points": 0.8,
         "reports": 0.3}

# Beijing's monthly mean temperature (°C), for the heat and the cold.
TEMPERATURE = {1: -3, 2: 0, 3: 7, 4: 15, 5: 21, 6: 25, 7: 27, 8: 26, 9: 21, 10: 13, 11: 5, 12: -1}
SPRING_FESTIVAL = {2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17),
                   2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13),
                   2030: date(2030, 2, 3), 2031: date(2031, 1, 23), 2032: date(2032, 2, 11)}

# category → (weight, {month: factor}), and what workers wrote (title, text).
CASE_MIX: dict[str, tuple[float, dict[int, float]]] = {
    "meals": (3.0, {12: 1.5, 1: 1.5, 2: 1.3, 7: 1.2}),
    "housing": (2.0, {11: 1.5, 12: 2.0, 1: 2.0, 2: 1.5}),
    "employment": (2.0, {3: 1.6, 4: 1.3}),
    "wage_arrears": (1.2, {12: 2.0, 1: 3.0, 2: 1.5}),
    "legal": (1.5, {}),
    "social_insurance": (2.0, {3: 1.3}),
    "traffic_parking": (2.0, {11: 1.6, 9: 1.2}),
    "station_facilities": (1.5, {6: 2.5, 7: 3.0, 8: 2.5, 12: 1.5, 1: 1.5}),
    "other": (1.0, {}),
    "freight_access": (0.4, {11: 2.0}),
    "last_mile_site": (0.3, {}),
}
CASE_TEXTS = {
    "meals": [("附近找不到实惠的午饭", "送餐高峰过后附近餐馆都很贵，希望多一些爱心套餐。"),
              ("冬天想吃口热饭", "驿站能不能放个微波炉，中午热一下自带的饭。"),
              ("爱心套餐点太少", "西潞以外的街道也希望有爱心套餐合作商户。")],
    "housing": [("想租离站点近的宿舍", "现在住得远，每天通勤一个多小时，想申请爱心公寓。"),
                ("冬天宿舍没有暖气", "群租房冬天太冷，有没有便宜的过渡住房？"),
                ("春节前要退租，节后没地方住", "节后回来想找短租，有没有推荐？")],
    "employment": [("想参加技能培训", "想考叉车证或电工证，有没有补贴培训？"),
                   ("换站点后想找新工作", "原站点撤点了，想找附近的配送岗位。")],
    "wage_arrears": [("站点拖欠工资", "加盟站点老板拖欠两个月工资，多次讨要未果。"),
                     ("年底结不到工钱", "快过年了，站点说要等总部结算，工资一直不发。")],
    "legal": [("被客户投诉罚款", "一单投诉被扣200元，合理吗？"),
              ("送件路上出了交通事故", "电动车和汽车剐蹭，对方要我全赔，怎么办？")],
    "social_insurance": [("社保断缴怎么补", "换了站点后社保断缴三个月，怎么补缴？"),
                         ("想了解职业伤害保障", "平台说有职业伤害保障，受伤了怎么申请？")],
    "traffic_parking": [("电动车没地方停", "小区不让电动车进，楼下停车经常被罚。"),
                        ("卸货没有临时车位", "商圈门口卸货经常被贴条，希望设临时装卸位。")],
    "station_facilities": [("驿站空调不制冷", "中午驿站里比外面还热，空调坏了没人修。"),
                           ("驿站饮水机没水了", "连续几天没有桶装水，大热天很不方便。"),
                           ("驿站充电柜坏了", "换电柜坏了一周没人修。"),
                           ("冬天驿站开门太晚", "早上六点出车，驿站八点才开门，想进去暖和一下。")],
    "other": [("希望驿站开到晚上", "夜班骑手晚上没地方休息。"),
              ("想办一张工会卡", "听说入会有体检和慰问，怎么办？")],
    "freight_access": [("货车限行时段通行难", "揽派高峰正好限行，集包车辆进不了城区。")],
    "last_mile_site": [("末端网点找不到用房", "小区周边没有合规的网点用房。")],
}
ANSWERS = ["已联系诉求人，协调相关单位处理，处理结果已告知。",
           "已转告街道和站点负责人，限期整改，请留意后续情况。",
           "已电话答复政策口径，并告知办理地点和所需材料。"]
FOLLOWUPS = ["电话回访，诉求人确认评价。", "回访诉求人，问题已解决。", "回访未接通，以评价为准。"]
REPORT_MIX = [("exposed_garbage", "路边垃圾没有清运"), ("overflowing_bins", "垃圾桶满溢"),
              ("piled_materials", "人行道上堆放杂物"), ("dirty_road", "路面油污没人清扫"),
              ("illegal_ads", "电线杆上贴满小广告"), ("bike_parking", "共享单车堆在路口"),
              ("manhole", "井盖缺损，夜里很危险"), ("streetlight", "路灯不亮")]
SERVICE_MIX = {  # station service → (weight, {month: factor})
    "drink_water": (3.0, {6: 2.5, 7: 3.0, 8: 2.5}), "heat_meal": (2.0, {12: 2.0, 1: 2.0, 2: 1.5}),
    "charge_phone": (2.5, {}), "rest": (2.0, {7: 1.5, 1: 1.5}),
    "send_water": (0.5, {6: 3.0, 7: 4.0, 8: 3.0}), "first_aid": (0.3, {7: 2.0}),
    "legal_consult": (0.3, {1: 2.0}), "holiday_care": (0.2, {1: 6.0, 2: 6.0}),
}
REVERSAL_REASONS = ["同一问题重复上报，积分已按首报发放", "上报内容与现场不符", "误发积分，予以冲正"]
COUNTER_STAFF = "1380020"  # + 4 digits: a counter account for each partner without one


# --- the clock ---------------------------------------------------------------------------------

@contextmanager
def clock(moment: datetime) -> Iterator[None]:
    """While inside, `django.utils.timezone.now()` answers `moment` (the services and the models'
    auto_now_add fields read it there). For the demo's history only: one process, one thread."""
    real = timezone.now
    timezone.now = lambda: moment
    try:
        yield
    finally:
        timezone.now = real


@contextmanager
def _quiet() -> Iterator[None]:
    """The year's SMS and tasks are not replayed in the console."""
    loggers = [logging.getLogger(n) for n in ("warmstation.outbox", "django.tasks")]
    saved = [lg.disabled for lg in loggers]
    for lg in loggers:
        lg.disabled = True
    try:
        yield
    finally:
        for lg, was in zip(loggers, saved, strict=True):
            lg.disabled = was


def at_local(day: date, hour: float) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL) + timedelta(hours=hour)


def has_past(now: datetime | None = None) -> bool:
    """Whether the demo already has a past (a case or a check-in older than 30 days)."""
    before = (now or timezone.now()) - timedelta(days=30)
    return Appeal.objects.filter(created_at__lt=before).exists() or \
        ServiceRecord.objects.filter(at__lt=before).exists()


# --- shapes ------------------------------------------------------------------------------------

def festival(day: date) -> float:
    """Workers still in town around Spring Festival (1 = all)."""
    sf = SPRING_FESTIVAL.get(day.year)
    if sf is None:
        return 1.0
    d = (day - sf).days
    if -4 <= d <= 8:
        return 0.25
    if -10 <= d <= 15:
        return 0.45
    return 1.0


def weather(day: date) -> float:
    t = TEMPERATURE[day.month]
    return 1 + 0.05 * max(0, t - 18) + 0.05 * max(0, 6 - t)


def peak(day: date) -> float:
    return 1.3 if day.month == 11 and day.day <= 20 else 1.0


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def weighted(rng: random.Random, mix: dict[str, tuple[float, dict[int, float]]], month: int) -> str:
    keys = list(mix)
    return rng.choices(keys, weights=[w * f.get(month, 1.0) for w, f in mix.values()])[0]


def office(moment: datetime, rng: random.Random) -> datetime:
    """The first office moment at or after `moment` (weekdays 9:00–17:30)."""
    local = moment.astimezone(LOCAL)
    hour = local.hour + local.minute / 60
    day = local.date()
    if hour >= 17.5:
        day, hour = day + timedelta(days=1), 9 + rng.random() * 2
    elif hour < 9:
        hour = 9 + rng.random() * 2
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return at_local(day, hour)


# --- the simulation ----------------------------------------------------------------------------

@dataclass
class World:
    workers: list[User]
    by_street: dict[str, list[User]]
    stations: list[Station]
    stations_by_street: dict[str, list[Station]]
    categories: dict[str, Category]
    dispatcher: User
    meal_offers: list[Offer]
    point_offers: list[Offer]
    counters: dict[int, User]
    demo_worker: User | None
    organiser: User | None = None
    patrol: Any = None
    checkpoint: Any = None
    centre: User | None = None
    street: Area | None = None
    pictures: list[bytes] = field(default_factory=list)
    staff: dict[int, User] = field(default_factory=dict)  # a department's staff member
    joined: dict[int, datetime] = field(default_factory=dict)  # user id → registered at

    def present(self, pool: list[User], moment: datetime) -> list[User]:
        """Those of `pool` registered by `moment`: nobody acts before they joined."""
        return [u for u in pool if self.joined.get(u.pk, moment) <= moment]


class Simulation:
    """Events on a clock, oldest first; an event may schedule the next step of its story."""

    def __init__(self, world: World, rng: random.Random, end: datetime) -> None:
        self.world, self.rng, self.end = world, rng, end
        self.heap: list[tuple[datetime, int, Callable[..., None], tuple]] = []
        self.n = 0
        self.keys = 0
        self.done: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.now = end

    def at(self, moment: datetime, fn: Callable[..., None], *args: Any) -> None:
        if moment < self.end:  # a step after the history's end has not happened yet
            heapq.heappush(self.heap, (moment, self.n, fn, args))
            self.n += 1

    def key(self) -> str:
        """A fresh idempotency key (or client key) for one request of the history."""
        self.keys += 1
        return f"history-{self.keys}"

    def run_until(self, end: datetime) -> None:
        while self.heap and self.heap[0][0] < end:
            moment, _n, fn, args = heapq.heappop(self.heap)
            self.now = moment
            try:
                with clock(moment), transaction.atomic():
                    fn(self, moment, *args)
            except ApplicationError as exc:  # refused as the system would refuse it: skipped
                self.refused[exc.code or type(exc).__name__] += 1


def _world() -> World:
    workers = list(User.objects.filter(worker_profile__isnull=False, is_active=True)
                   .select_related("worker_profile").prefetch_related("worker_profile__areas")
                   .order_by("mobile"))
    by_street: dict[str, list[User]] = {}
    for w in workers:
        w.auth_level = AuthLevel.CODE
        for a in w.worker_profile.areas.all():
            by_street.setdefault(_street_code(a), []).append(w)
    station_list = list(Station.objects.filter(is_active=True).select_related("area", "steward")
                        .order_by("pk"))
    stations_by_street: dict[str, list[Station]] = {}
    for s in station_list:
        stations_by_street.setdefault(_street_code(s.area), []).append(s)
        if s.steward is not None:
            s.steward.auth_level = AuthLevel.PASSWORD
    dispatcher = User.objects.filter(grants__role=Role.DISTRICT_ADMIN).order_by("pk").first()
    assert dispatcher is not None, "the demo's district admin is seeded first"
    dispatcher.auth_level = AuthLevel.MFA
    offers = list(Offer.objects.filter(is_active=True, merchant__is_active=True)
                  .select_related("merchant").order_by("pk"))
    return World(
        workers=workers, by_street=by_street, stations=station_list,
        stations_by_street=stations_by_street,
        categories={c.code: c for c in Category.objects.filter(is_active=True)},
        dispatcher=dispatcher, meal_offers=[o for o in offers if o.kind == Offer.Kind.MEAL],
        point_offers=[o for o in offers if o.kind == Offer.Kind.POINTS and o.points],
        counters=_counters({o.merchant for o in offers}),
        demo_worker=next((w for w in workers if w.mobile == "13800000001"), None))


def _street_code(area: Area) -> str:
    parts = area.path.strip("/").split("/")
    return parts[1] if len(parts) > 1 else parts[0]


def _counters(merchants: set[Merchant]) -> dict[int, User]:
    """A counter account for each partner (the demo has two; the others get their cashier)."""
    counters: dict[int, User] = {}
    for i, m in enumerate(sorted(merchants, key=lambda m: m.pk)):
        staff = MerchantStaff.objects.filter(merchant=m).select_related("user").first()
        if staff is None:
            mobile = f"{COUNTER_STAFF}{i:04d}"
            user = User.objects.filter(mobile=mobile).first()
            if user is None:
                user = User.objects.create_user(mobile, None, real_name=f"{m.contact_name}（收银）")
                role_grant(actor=None, user=user, role=Role.MERCHANT, area=m.area)
            staff, _ = MerchantStaff.objects.get_or_create(user=user, merchant=m)
        staff.user.auth_level = AuthLevel.PASSWORD
        counters[m.pk] = staff.user
    return counters


def _volunteering(world: World, present: datetime) -> list[tuple[Any, list]]:
    """The present-day demo's tasks (found again by it), made a year ago: their past shifts
    are the history's. Returns those that still need their upcoming shifts."""
    from warmstation.demo import volunteering as demo_volunteering

    codes = [demo_volunteering.CHANGYANG, demo_volunteering.GONGCHEN, demo_volunteering.YANSHAN,
             "110111105901"]
    areas = {a.code: a for a in Area.objects.filter(code__in=codes)}
    if len(areas) < len(codes):
        return []
    world.organiser = demo_volunteering._organiser(areas)
    made = []
    for code, kind, title, place, offset, shifts in demo_volunteering.TASKS:
        if code not in areas:
            continue
        task = demo_volunteering._task(world.organiser, areas[code], kind, title, place, offset,
                                       shifts, present, upcoming=False)
        if not task.shifts.filter(starts_at__gt=present).exists():
            made.append((task, shifts))
        if kind == "patrol":
            world.patrol = task
        elif code == "110111105901":
            world.checkpoint = task
    return made


def _reports(world: World) -> None:
    from warmstation.demo.reports import picture, seed_report_setup

    setup = seed_report_setup()
    if setup is not None:
        world.street, world.centre = setup
        world.pictures = [picture(i, size=(640, 480)) for i in range(6)]


def seed_history(*, days: int = DAYS, scale: float = 1.0, today: date | None = None) -> dict:
    """Load the history (idempotent: nothing if the demo already has a past). `scale` shrinks
    every rate (the test loads a quarter)."""
    if has_past():
        return {"created": False}
    today = today or timezone.localdate()
    start = today - timedelta(days=days)
    present = timezone.now().astimezone(LOCAL)
    # The partners' cashiers, the volunteer tasks and the command centre existed all year.
    with clock(at_local(start, 8)):
        world = _world()
        if not world.workers or not world.categories:
            return {"created": False}
        tasks = _volunteering(world, present)
        _reports(world)
        _registrations(world, start, days)
    if world.organiser is not None:  # the tasks' next shifts, made today
        from warmstation.demo.volunteering import upcoming_shifts

        for task, shifts in tasks:
            upcoming_shifts(world.organiser, task, shifts, present)
    rng = random.Random(SEED)
    sim = Simulation(world, rng, end=at_local(today, 0))
    with override_settings(TASKS=IMMEDIATE), _quiet():
        for i in range(days):
            day = start + timedelta(days=i)
            _plan(sim, day, i / days, scale)
            end = at_local(day + timedelta(days=1), 0)
            # The day's commit (and its after-commit work) at the day's last moment.
            with clock(end - timedelta(seconds=1)), transaction.atomic():
                sim.run_until(end)
    rollup_rebuild()
    return {"created": True, "days": days, **dict(sim.done),
            "refused": sum(sim.refused.values())}


def _plan(sim: Simulation, day: date, progress: float, scale: float) -> None:
    rng, w = sim.rng, sim.world
    people = (0.55 + 0.45 * progress) * festival(day)
    hot_cold = weather(day)
    weekend = day.weekday() >= 5
    for _ in range(poisson(rng, RATES["cases"] * scale * people * (0.9 + 0.4 * (hot_cold - 1))
                           * (0.7 if weekend else 1.0))):
        sim.at(at_local(day, rng.uniform(7, 22)), _case, weighted(rng, CASE_MIX, day.month))
    for _ in range(poisson(rng, RATES["checkins"] * scale * people * hot_cold * peak(day))):
        sim.at(at_local(day, _busy_hour(rng)), _check_in)
    for _ in range(poisson(rng, RATES["services"] * scale * people * hot_cold)):
        sim.at(at_local(day, rng.uniform(8.5, 20)), _service)
    meals = RATES["meals"] * scale * people * peak(day) * (1.15 if hot_cold > 1.2 else 1.0)
    for _ in range(poisson(rng, meals)):
        sim.at(at_local(day, rng.choice([rng.uniform(11, 13.8), rng.uniform(6, 20.5)])), _meal)
    for _ in range(poisson(rng, RATES["points"] * scale * people)):
        sim.at(at_local(day, rng.uniform(9, 20)), _points_redeem)
    if w.centre is not None:
        summer = 1.3 if day.month in (6, 7, 8) else 1.0
        for _ in range(poisson(rng, RATES["reports"] * scale * people * summer)):
            sim.at(at_local(day, rng.uniform(8, 20)), _report)
    # Shifts are published a week ahead; none while most workers are home for the festival.
    ahead = day + timedelta(days=7)
    if festival(ahead) > 0.5 and at_local(ahead, 23) < sim.end:
        if w.patrol is not None and ahead.weekday() == 5:
            sim.at(at_local(day, 10), _shift, w.patrol, ahead, 14, 3, 8)
        if w.checkpoint is not None and ahead.weekday() == 2:
            sim.at(at_local(day, 10), _shift, w.checkpoint, ahead, 9, 4, 4)
    if day.day == 15 and w.organiser is not None:
        sim.at(at_local(day, 16), _activity)
    if day.day == 25:
        sim.at(at_local(day, 15), _reversal)


def _busy_hour(rng: random.Random) -> float:
    """Lunch, the afternoon lull and the evening: when riders stop at a station."""
    return rng.choice([rng.uniform(11, 14), rng.uniform(14, 17), rng.uniform(7, 22),
                       rng.uniform(18, 21)])


def _registrations(world: World, start: date, days: int) -> None:
    """When each sample worker registered: about half before the history's year (the
    stations opened in 2024), the rest through it, so the dashboard's registrations grow month
    by month instead of all arriving today. The demo worker (13800000001) was there from the
    start. Deterministic, like the rest of the history."""
    rng = random.Random(SEED + 1)
    first = at_local(start, 9)
    changed = []
    for user in world.workers:
        u = rng.random()
        if user is world.demo_worker or u < 0.55:
            moment = first - timedelta(days=rng.uniform(30, 600))
        else:
            moment = first + timedelta(days=days * (u - 0.55) / 0.45, hours=rng.uniform(0, 10))
        world.joined[user.pk] = moment
        if user.date_joined > moment:
            user.date_joined = moment
            changed.append(user)
    User.objects.bulk_update(changed, ["date_joined"], batch_size=500)


def _worker(sim: Simulation, street: str | None = None) -> User:
    w = sim.world
    pool = w.present(w.by_street.get(street, []), sim.now) if street else []
    if w.demo_worker is not None and sim.rng.random() < 0.03:
        return w.demo_worker
    return sim.rng.choice(pool or w.present(w.workers, sim.now) or w.workers)


# --- cases -------------------------------------------------------------------------------------

def _case(sim: Simulation, moment: datetime, category_code: str) -> None:
    rng, w = sim.rng, sim.world
    category = w.categories.get(category_code)
    if category is None:
        return
    worker = _worker(sim)
    area = worker.worker_profile.areas.all()[0] if worker.worker_profile.areas.all() else None
    if area is None:
        return
    title, body = rng.choice(CASE_TEXTS[category_code])
    appeal = appeals.appeal_create(actor=worker, category=category, area=area, title=title,
                                   body=body, anonymous_public=rng.random() < 0.3)
    sim.done["cases"] += 1
    sim.at(office(moment + timedelta(hours=rng.uniform(0.5, 6)), rng), _case_step, appeal.pk,
           "dispatch", worker)


def _case_step(sim: Simulation, moment: datetime, appeal_id: int, action: str, worker: User) -> None:
    from warmstation.demo.appeals import _department_staff

    rng, w = sim.rng, sim.world
    kw: dict[str, Any] = {}
    if action == "dispatch":
        actor = w.dispatcher
    elif action in ("accept", "start", "answer"):
        department = Appeal.objects.get(pk=appeal_id).department
        assert department is not None
        if department.pk not in w.staff:
            w.staff[department.pk] = _department_staff(department)
        actor = w.staff[department.pk]
        if action == "answer":
            kw["note"] = rng.choice(ANSWERS)
    elif action == "rate":
        actor = worker
        kw = _rating(sim, moment)
    else:  # followup, close
        actor = w.dispatcher
        if action == "followup":
            kw["note"] = rng.choice(FOLLOWUPS)
            if Appeal.objects.filter(pk=appeal_id, resolved=None).exists():
                kw |= _rating(sim, moment)
    appeals.appeal_transition(actor=actor, appeal_id=appeal_id, action=action, **kw)
    nxt = {"dispatch": ("accept", 0.3, 5), "accept": ("start", 0.1, 3),
           "start": ("answer", 16, 96)}.get(action)
    if nxt is not None:
        sim.at(office(moment + timedelta(hours=rng.uniform(nxt[1], nxt[2])), rng), _case_step,
               appeal_id, nxt[0], worker)
    elif action == "answer":
        if rng.random() < 0.72:  # the worker rates it, within a few days
            sim.at(moment + timedelta(hours=rng.uniform(1, 72)), _case_step, appeal_id, "rate",
                   worker)
        sim.at(office(moment + timedelta(days=rng.uniform(3, 7)), rng), _case_step, appeal_id,
               "followup", worker)
    elif action == "followup":
        sim.at(moment + timedelta(minutes=rng.uniform(5, 90)), _case_step, appeal_id, "close",
               worker)
    elif action == "close":
        sim.done["cases_closed"] += 1


def _rating(sim: Simulation, moment: datetime) -> dict[str, Any]:
    """Satisfaction improves over the year as the stations and offices learn."""
    progress = 1 - (sim.end - moment).days / DAYS
    resolved = sim.rng.random() < 0.7 + 0.2 * progress
    good = 0.45 + 0.35 * progress
    if resolved:
        mood = sim.rng.choices(["satisfied", "fairly", "dissatisfied"],
                               weights=[good, 0.9 - good, 0.1])[0]
    else:
        mood = sim.rng.choice(["fairly", "dissatisfied", "dissatisfied"])
    return {"resolved": resolved, "satisfaction": mood}


# --- stations ----------------------------------------------------------------------------------

def _station_for(sim: Simulation, worker: User) -> Station:
    w = sim.world
    areas = worker.worker_profile.areas.all()
    near = w.stations_by_street.get(_street_code(areas[0])) if areas else None
    return sim.rng.choice(near if near and sim.rng.random() < 0.8 else w.stations)


def _check_in(sim: Simulation, moment: datetime) -> None:
    worker = _worker(sim)
    station = _station_for(sim, worker)
    stations.station_check_in(worker=worker, token=station.checkin_token)
    sim.done["check_ins"] += 1


def _service(sim: Simulation, moment: datetime) -> None:
    worker = _worker(sim)
    station = _station_for(sim, worker)
    if station.steward is None:
        return
    code = weighted(sim.rng, SERVICE_MIX, moment.astimezone(LOCAL).month)
    stations.service_record_create(actor=station.steward, station=station, service_code=code,
                                   worker=worker, at=moment)
    sim.done["service_records"] += 1


# --- redemptions -------------------------------------------------------------------------------

def _redeem(sim: Simulation, worker: User, offer: Offer, moment: datetime) -> bool:
    if not offer_served_now(offer, moment) or not schedule_of(offer.merchant).is_open(moment):
        return False
    key = sim.key()
    code = benefits.redemption_code_issue(user=worker, offer=offer, idempotency_key=key)
    counter = sim.world.counters[offer.merchant_id]
    later = moment + timedelta(seconds=sim.rng.randint(20, 240))
    with clock(later):
        benefits.redemption_redeem(actor=counter, merchant=offer.merchant, code=code["digits"],
                                   idempotency_key=key)
    return True


def _meal(sim: Simulation, moment: datetime) -> None:
    if not sim.world.meal_offers:
        return
    offer = sim.rng.choice(sim.world.meal_offers)
    worker = _worker(sim, _street_code(offer.merchant.area))
    if _redeem(sim, worker, offer, moment):
        sim.done["meal_redemptions"] += 1


def _points_redeem(sim: Simulation, moment: datetime) -> None:
    if not sim.world.point_offers:
        return
    offer = sim.rng.choice(sim.world.point_offers)
    assert offer.points is not None
    rich = list(PointsAccount.objects.filter(kind=PointsAccount.Kind.WORKER,
                                             balance__gte=F("held") + offer.points)
                .order_by("pk")
                .values_list("user_id", flat=True)[:50])
    if not rich:
        return
    worker = User.objects.select_related("worker_profile").get(pk=sim.rng.choice(rich))
    worker.auth_level = AuthLevel.CODE
    if _redeem(sim, worker, offer, moment):
        sim.done["points_redemptions"] += 1


# --- street reports ----------------------------------------------------------------------------

def _report(sim: Simulation, moment: datetime) -> None:
    from warmstation.reports import services as reports
    from warmstation.reports.models import ReportCategory

    rng, w = sim.rng, sim.world
    assert w.street is not None and w.centre is not None
    assert w.street.center_lat is not None and w.street.center_lng is not None
    code, text = rng.choice(REPORT_MIX)
    category = ReportCategory.objects.filter(code=code, is_active=True).first()
    if category is None:
        return
    reporter = _worker(sim, _street_code(w.street))
    photo = reports.photo_upload(actor=reporter, data=rng.choice(w.pictures))
    problem, _ = reports.report_create(
        actor=reporter, category=category, lat=w.street.center_lat + rng.uniform(-0.008, 0.008),
        lng=w.street.center_lng + rng.uniform(-0.008, 0.008), description=text,
        photo_ids=[photo.pk], client_key=sim.key(), area=w.street)
    sim.done["reports"] += 1
    sim.at(office(moment + timedelta(hours=rng.uniform(0.5, 5)), rng), _report_step, problem.pk,
           "reject" if rng.random() < 0.12 else "accept")


def _report_step(sim: Simulation, moment: datetime, problem_id: int, action: str) -> None:
    from warmstation.reports import services as reports
    from warmstation.reports.models import Problem

    rng, centre = sim.rng, sim.world.centre
    assert centre is not None
    if action == "reject":
        reports.problem_transition(actor=centre, problem_id=problem_id, action="reject",
                                   reason=rng.choice(["untrue", "split", "unclear"]))
        return
    if action == "accept":
        problem = Problem.objects.select_related("category__department").get(pk=problem_id)
        reports.problem_transition(actor=centre, problem_id=problem_id, action="accept",
                                   department=problem.category.department)
        sim.at(moment + timedelta(hours=rng.uniform(4, 72)), _report_step, problem_id,
               "resolve")
    elif action == "resolve":
        after = reports.photo_upload(actor=centre, data=rng.choice(sim.world.pictures),
                                     kind="after")
        reports.problem_transition(actor=centre, problem_id=problem_id, action="resolve",
                                   photo_ids=[after.pk], note="已清理")
        sim.at(moment + timedelta(days=rng.uniform(3, 8)), _report_step, problem_id, "close")
    elif action == "close":
        reports.problem_transition(actor=centre, problem_id=problem_id, action="close")


# --- volunteering ------------------------------------------------------------------------------

def _shift(sim: Simulation, moment: datetime, task: Any, day: date, start_hour: int, hours: int,
           capacity: int) -> None:
    from warmstation.volunteering import services as volunteering

    rng, w = sim.rng, sim.world
    assert w.organiser is not None
    starts = at_local(day, start_hour)
    shift = volunteering.shift_create(actor=w.organiser, task=task, starts_at=starts,
                                      ends_at=starts + timedelta(hours=hours), capacity=capacity,
                                      now=moment)
    pool = w.present(w.by_street.get(_street_code(task.area), []) or w.workers, moment)
    people = rng.sample(pool, k=min(len(pool), rng.randint(max(1, capacity // 2), capacity)))
    if w.demo_worker is not None and task is w.patrol and rng.random() < 0.4 and \
            w.demo_worker not in people:
        people[-1:] = [w.demo_worker]
    for person in people:
        sim.at(starts - timedelta(hours=rng.uniform(6, 120)), _signup, shift.pk, person)
    sim.at(starts + timedelta(hours=hours, minutes=CLOSE_AFTER_MIN), _shift_close, shift.pk)


CLOSE_AFTER_MIN = 125  # the periodic job closes a shift two hours after its end


def _signup(sim: Simulation, moment: datetime, shift_id: int, worker: User) -> None:
    from warmstation.volunteering import services as volunteering
    from warmstation.volunteering.models import Shift

    rng = sim.rng
    signup = volunteering.shift_signup(worker=worker, shift_id=shift_id, now=moment)
    shift = Shift.objects.select_related("task").get(pk=shift_id)
    if signup.status != signup.Status.PLACED or rng.random() < 0.07:  # a no-show
        return
    sim.at(shift.starts_at + timedelta(minutes=rng.uniform(-10, 8)), _scan, shift_id, worker)
    if rng.random() > 0.06:  # most check out; the periodic job caps the others
        sim.at(shift.ends_at - timedelta(minutes=rng.uniform(0, 25)), _scan, shift_id, worker)
    sim.done["signups"] += 1


def _scan(sim: Simulation, moment: datetime, shift_id: int, worker: User) -> None:
    from warmstation.volunteering import services as volunteering
    from warmstation.volunteering.models import Shift

    shift = Shift.objects.select_related("task").get(pk=shift_id)
    volunteering.attendance_scan(worker=worker, token=shift.task.checkin_token, now=moment)


def _shift_close(sim: Simulation, moment: datetime, shift_id: int) -> None:
    from warmstation.volunteering import services as volunteering
    from warmstation.volunteering.models import Signup

    assert sim.world.organiser is not None
    volunteering.shift_close_due(now=moment)
    for signup in Signup.objects.filter(shift_id=shift_id, confirmed_at=None) \
            .exclude(checked_out_at=None).order_by("pk"):
        volunteering.attendance_confirm(actor=sim.world.organiser, signup=signup, now=moment)
        sim.done["hours_confirmed"] += 1
    sim.done["shifts"] += 1


def _activity(sim: Simulation, moment: datetime) -> None:
    from warmstation.demo import volunteering as demo_volunteering
    from warmstation.volunteering.activities import activity_record

    rng, w = sim.rng, sim.world
    assert w.organiser is not None
    local = moment.astimezone(LOCAL)
    summer, winter = local.month in (6, 7, 8), local.month in (12, 1, 2)
    kind, title = ("visit", "夏日送清凉") if summer else ("visit", "冬日送温暖") if winter else \
        rng.choice([("visit", "走访慰问快递网点小哥"), ("initiative", "文明骑行倡议"),
                    ("shared_service", "共享服务：免费理发、洗浴")])
    area = Area.objects.get(code=rng.choice([demo_volunteering.CHANGYANG,
                                             demo_volunteering.GONGCHEN,
                                             demo_volunteering.YANSHAN]))
    pool = w.present(w.by_street.get(_street_code(area), []) or w.workers, moment)
    activity_record(actor=w.organiser, area=area, kind=kind,
                    title=f"{local.month}月·{title}", held_on=local.date(),
                    people_reached=rng.randint(40, 180),
                    participants=rng.sample(pool, k=min(3, len(pool))))
    sim.done["activities"] += 1


# --- reversals ---------------------------------------------------------------------------------

def _reversal(sim: Simulation, moment: datetime) -> None:
    """Now and then a wrong award is reversed by the district (the demo worker's among them)."""
    rng, w = sim.rng, sim.world
    awards = LedgerTransaction.objects.filter(kind=LedgerTransaction.Kind.EARN,
                                              reversed_by=None,
                                              created_at__gte=moment - timedelta(days=30))
    mine = awards.filter(user=w.demo_worker) if w.demo_worker is not None else awards.none()
    pick = (mine if mine.exists() and rng.random() < 0.5 else awards).order_by("pk")
    ids = list(pick.values_list("pk", flat=True)[:200])
    if not ids:
        return
    points_reverse(actor=w.dispatcher, transaction_id=rng.choice(ids),
                   reason=rng.choice(REVERSAL_REASONS), idempotency_key=sim.key())
    sim.done["reversals"] += 1

