"""Demo volunteering from the 2021 report: 长阳镇's communities asked workers to stand duty at
community checkpoints (社区检查岗值守) and spread the epidemic-prevention policy in their rest
time; 拱辰街道 formed the "行走的哨兵" (Walking Sentinels) team that patrols and reports street
problems; 燕山 workers run errands (跑腿) for elderly, sick and disabled residents; the "四个一"
activities (a visit, a civic initiative, a care delivery, shared services) reached 500-odd. Places,
people and times are made up; shifts are placed around the day the demo is loaded.
Idempotent: a second run finds every task by its title and area and adds nothing."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from warmstation.accounts.models import AuthLevel, Role, User
from warmstation.accounts.services import role_grant
from warmstation.areas.models import Area
from warmstation.core.time import LOCAL
from warmstation.demo.data import DEMO_PASSWORD
from warmstation.volunteering import errands, services
from warmstation.volunteering.models import Errand, Shift, Signup, VolunteerTask

# The demo organiser (docs/demo.md): organises in 长阳镇, 拱辰街道 and 燕山.
DEMO_ORGANISER = ("13800000008", "周组织", DEMO_PASSWORD)
CHANGYANG, GONGCHEN, YANSHAN, GANGNAN = "110111105000", "110111011000", "110111-YS", \
    "110111004901"
DEMO_WORKER = "13800000001"

TASKS = [  # area code, kind, title, place, (lat, lng) offset from the area centre, shifts
    ("110111105901", "checkpoint", "长阳半岛社区检查岗值守", "长阳半岛社区南门检查岗",
     (0.001, -0.001), [(9, 13, 4), (13, 17, 4), (22, 6, 2)]),
    ("110111105902", "checkpoint", "碧桂园社区检查岗值守", "碧桂园社区东门检查岗",
     (0.0, 0.001), [(8, 12, 3), (18, 22, 3)]),
    (CHANGYANG, "publicity", "防疫政策宣传", "长阳镇文化广场", (0.001, 0.0),
     [(10, 12, 6)]),
    (GONGCHEN, "patrol", "“行走的哨兵”环境巡查", "拱辰街道城市管理指挥中心",
     (0.0, 0.0), [(14, 17, 8), (19, 21, 8)]),
]
ERRANDS = [  # title, details, where, resident (name, address, phone)
    ("买菜", "西红柿两斤、鸡蛋一斤、挂面两把", "岗南菜市场",
     ("王奶奶", "岗南社区3号楼2单元501", "13911110001")),
    ("取药", "到社区卫生服务站取降压药（已开好处方）", "燕山社区卫生服务站",
     ("李大爷", "岗南社区7号楼1单元302", "13911110002")),
    ("代缴电费", "电费100元，回执带回", "岗南路营业厅", ("赵阿姨", "岗南社区11号楼402", "")),
]


FOUR_ONES = [  # area code, kind, title, days ago, people reached, goods from 华冠's cabinet
    (CHANGYANG, "visit", "走访慰问快递网点小哥", 20, 126, []),
    (GONGCHEN, "initiative", "“文明骑行、礼让行人”文明倡议", 15, 180, []),
    (GONGCHEN, "care_delivery", "夏日关爱传递：送水送口罩", 10, 138,
     [("water", 20), ("mask", 40)]),
    (YANSHAN, "shared_service", "共享服务：免费理发、洗浴", 5, 62, []),
]  # 506 people reached: the report's "共服务快递小哥500余人次"
CARE_STATION = "华冠购物中心爱心驿站"


def _four_ones(organiser: User, areas: dict[str, Area], workers: list[User]) -> int:
    from warmstation.stations.models import Station
    from warmstation.volunteering.activities import activity_record
    from warmstation.volunteering.models import Activity

    station = Station.objects.filter(name=CARE_STATION).first()
    for code, kind, title, days, reached, goods in FOUR_ONES:
        if Activity.objects.filter(area=areas[code], title=title).exists():
            continue
        activity_record(actor=organiser, area=areas[code], kind=kind, title=title,
                        held_on=timezone.localdate() - timedelta(days=days),
                        people_reached=reached, station=station if goods else None,
                        goods=goods if station else [], participants=workers[:3])
    return Activity.objects.count()


def _organiser(areas: dict[str, Area]) -> User:
    mobile, name, password = DEMO_ORGANISER
    user = User.objects.filter(mobile=mobile).first() or \
        User.objects.create_user(mobile, password, real_name=name)
    for code in (CHANGYANG, GONGCHEN, YANSHAN):
        if not user.grants.filter(role=Role.ORGANISER, area=areas[code]).exists():
            role_grant(actor=None, user=user, role=Role.ORGANISER, area=areas[code])
    # acting as signed in with a password, as the organiser would (their grants need it)
    user.auth_level = AuthLevel.PASSWORD
    user.forget_grants()
    return user


def _at(day: datetime, hour: int) -> datetime:
    return datetime.combine(day.date(), time(hour), tzinfo=LOCAL)


def _task(organiser: User, area: Area, kind: str, title: str, place: str,
          offset: tuple[float, float], shifts: list[tuple[int, int, int]],
          today: datetime, *, upcoming: bool = True) -> VolunteerTask:
    existing = VolunteerTask.objects.filter(area=area, title=title).first()
    if existing is not None:
        return existing
    assert area.center_lat is not None and area.center_lng is not None
    task = services.task_save(actor=organiser, task=VolunteerTask(), area=area, kind=kind,
                              title=title, place_name=place,
                              lat=round(area.center_lat + offset[0], 6),
                              lng=round(area.center_lng + offset[1], 6),
                              description="利用休息时间参与社区治理；到场扫码签到，离开扫码签退。")
    if upcoming:
        upcoming_shifts(organiser, task, shifts, today)
    return task


def upcoming_shifts(organiser: User, task: VolunteerTask, shifts: list[tuple[int, int, int]],
                    today: datetime) -> None:
    """The next three days' shifts of a task (the history makes its tasks a year ago, and
    these at the present day)."""
    for days in (1, 2, 3):
        day = today + timedelta(days=days)
        for start, end, capacity in shifts:
            starts_at = _at(day, start)
            ends_at = _at(day, end) + (timedelta(days=1) if end <= start else timedelta())
            services.shift_create(actor=organiser, task=task, starts_at=starts_at,
                                  ends_at=ends_at, capacity=capacity,
                                  now=starts_at - timedelta(days=7))


def _past_shift(task: VolunteerTask, organiser: User, workers: list[User],
                today: datetime) -> None:
    """Yesterday's shift of the patrol, run and confirmed: hours and points in the ledger."""
    starts_at = _at(today - timedelta(days=1), 14)
    shift = Shift.objects.filter(task=task, starts_at=starts_at).first()
    if shift is not None:
        return
    shift = services.shift_create(actor=organiser, task=task, starts_at=starts_at,
                                  ends_at=starts_at + timedelta(hours=3), capacity=8,
                                  now=starts_at - timedelta(days=2))
    for i, worker in enumerate(workers):
        s = services.shift_signup(worker=worker, shift_id=shift.pk,
                                  now=starts_at - timedelta(days=1))
        services.attendance_scan(worker=worker, token=task.checkin_token,
                                 now=starts_at - timedelta(minutes=5))
        if i == len(workers) - 1:
            continue  # forgot to check out: closed at the end by the tick, flagged
        services.attendance_scan(worker=worker, token=task.checkin_token,
                                 now=starts_at + timedelta(hours=2, minutes=50 - 10 * i))
        services.attendance_confirm(actor=organiser, signup=s)
    services.shift_close_due()


def seed_volunteering() -> dict:
    codes = [CHANGYANG, GONGCHEN, YANSHAN, GANGNAN, "110111105901", "110111105902"]
    areas = {a.code: a for a in Area.objects.filter(code__in=codes)}
    if len(areas) < len(codes):
        return {"tasks": 0}
    organiser = _organiser(areas)
    today = timezone.now().astimezone(LOCAL)
    tasks = [_task(organiser, areas[code], kind, title, place, offset, shifts, today)
             for code, kind, title, place, offset, shifts in TASKS]
    gongchen_workers = list(User.objects.filter(
        worker_profile__areas__path__startswith=areas[GONGCHEN].path, is_active=True)
        .order_by("mobile").distinct()[:4])
    if gongchen_workers:
        _past_shift(tasks[3], organiser, gongchen_workers, today)
    demo_worker = User.objects.filter(mobile=DEMO_WORKER).first()
    upcoming = Shift.objects.filter(task=tasks[3], starts_at__gt=timezone.now()) \
        .order_by("starts_at").first()
    if demo_worker is not None and upcoming is not None and \
            not Signup.objects.filter(worker=demo_worker, shift=upcoming).exists():
        services.shift_signup(worker=demo_worker, shift_id=upcoming.pk)
    # 燕山: errands for 岗南社区's residents; the demo worker is verified for errands.
    if demo_worker is not None:
        errands.errand_worker_verify(actor=organiser, worker=demo_worker)
    for title, details, where, (name, address, phone) in ERRANDS:
        if not Errand.objects.filter(area=areas[GANGNAN], title=title).exists():
            errands.errand_post(actor=organiser, area=areas[GANGNAN], title=title,
                                details=details, where=where, resident_name=name,
                                resident_address=address, resident_phone=phone,
                                due_at=today + timedelta(days=1))
    activities = _four_ones(organiser, areas, gongchen_workers)
    return {"tasks": len(tasks), "shifts": Shift.objects.filter(task__in=tasks).count(),
            "activities": activities,
            "errands": Errand.objects.filter(area=areas[GANGNAN]).count()}
