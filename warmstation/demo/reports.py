"""Demo street reports, after the source document: 拱辰街道 trained couriers at its city-management
command centre to photograph 环境脏乱、垃圾暴露、堆物堆料 and report them ("行走的哨兵").
A command-centre account for 拱辰, the categories' default departments, the confirmation rule,
and ~14 problems around 拱辰's communities in every state — some confirmed by a second courier
(我也遇到), one rejected as 拆分上报, one merged. Photos are drawn here (no real person or plate in
them). Idempotent: a second run adds nothing."""

from __future__ import annotations

import io

from django.db import transaction
from PIL import Image, ImageDraw

from warmstation.accounts.models import AuthLevel, Role, User
from warmstation.accounts.services import role_grant
from warmstation.appeals.models import Department
from warmstation.areas.models import Area
from warmstation.demo import data
from warmstation.points.models import EarningRule
from warmstation.reports import services
from warmstation.reports.models import Problem, ReportCategory

GONGCHEN = "110111011000"
CENTRE_ACCOUNT = ("13800000008", "周调度")
# category → default handling department (the street's office for street order, the command
# centre for the rest)
DEFAULT_DEPARTMENTS = {"street_vending": "gc-office", "outside_shop": "gc-office",
                       "bike_parking": "gc-office"}
# category, offset from 拱辰's centre (deg lat, deg lng), description, final state
PROBLEMS = [
    ("exposed_garbage", (0.0021, 0.0012), "小区东门外垃圾袋堆在路边，没有清运", "dispatched"),
    ("exposed_garbage", (-0.0034, 0.0020), "快递驿站旁的垃圾桶满了，垃圾散落一地", "resolved"),
    ("piled_materials", (0.0050, -0.0031), "人行道上堆放建材，电动车只能绕到机动车道", "dispatched"),
    ("muck_piles", (-0.0061, -0.0045), "路口积存渣土，下雨后一地泥", "closed"),
    ("dirty_road", (0.0012, 0.0067), "早市散场后路面油污和菜叶没人清扫", "accepted"),
    ("graffiti", (0.0072, 0.0009), "配电箱上贴满小广告", "submitted"),
    ("overflowing_bins", (-0.0015, -0.0070), "垃圾桶满溢两天了", "submitted"),
    ("piled_materials", (0.0033, 0.0041), "楼道口堆放纸箱杂物，挡住消防通道", "submitted"),
    ("illegal_ads", (-0.0042, 0.0058), "路灯杆上挂着违规横幅", "rejected_split"),
    ("manhole", (0.0008, -0.0022), "非机动车道井盖缺了一角，夜里很危险", "resolved"),
    ("bike_parking", (-0.0024, 0.0031), "地铁口共享单车堆成一片，挡住盲道", "accepted"),
    ("muck_spill", (0.0064, -0.0058), "渣土车遗撒，路面一道泥", "rejected_untrue"),
    ("exposed_garbage", (0.00215, 0.00125), "同一处垃圾，又看到了", "merged"),
    ("streetlight", (-0.0055, 0.0013), "这段路灯一直不亮", "submitted"),
]


def picture(seed: int, size: tuple[int, int] = (1280, 960)) -> bytes:
    """A stand-in street photo: sky, road, and a heap (no faces, no plates, no metadata)."""
    img = Image.new("RGB", (1280, 960), (150 + seed * 5 % 80, 190, 225))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 600, 1280, 960), fill=(95, 95, 100))
    x = 200 + seed * 53 % 700
    draw.ellipse((x, 480, x + 360, 720), fill=(90 + seed * 17 % 120, 70, 40))
    draw.rectangle((40, 380, 140, 600), fill=(60, 120, 60))
    if size != img.size:
        img = img.resize(size)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def _centre_account(street: Area) -> User:
    mobile, name = CENTRE_ACCOUNT
    user = User.objects.filter(mobile=mobile).first()
    if user is None:
        user = User.objects.create_user(mobile, data.DEMO_PASSWORD, real_name=name)
    role_grant(actor=None, user=user, role=Role.COMMAND_CENTRE, area=street)
    user.auth_level = AuthLevel.PASSWORD
    return user


def seed_report_setup() -> tuple[Area, User]:
    """The categories and their departments, 拱辰's command-centre account and the rules:
    what the present-day problems and the history's (demo/history.py) both need."""
    services.report_categories_seed()
    street = Area.objects.get(code=GONGCHEN)
    centre = _centre_account(street)
    command = Department.objects.get(code="gc-cgzx")
    for category in ReportCategory.objects.filter(department=None):
        code = DEFAULT_DEPARTMENTS.get(category.code)
        category.department = Department.objects.filter(code=code).first() if code else command
        category.save(update_fields=["department"])
    EarningRule.objects.get_or_create(action="street_report_confirm", defaults={
        "source": "street_report", "name_zh": "随手拍·我也遇到", "name_en": "Street report (me too)",
        "points": 2, "daily_cap": 6, "monthly_cap": 60})
    services.report_settings()
    return street, centre


@transaction.atomic
def seed_reports() -> dict:
    street, centre = seed_report_setup()
    # The present-day problems, once (the history's have their own keys).
    if Problem.objects.filter(client_key__startswith="demo-").exists():
        return {"problems": Problem.objects.count(), "created": 0}
    workers = list(User.objects.filter(worker_profile__areas__path__startswith=street.path)
                   .distinct().order_by("mobile")[:12])
    first = User.objects.filter(mobile=data.DEMO_ACCOUNTS[0][0]).first()
    if first is not None:
        workers = [first, *(w for w in workers if w.pk != first.pk)]
    if len(workers) < 3:  # a small demo (few sample workers): any worker of the district
        workers += [w for w in User.objects.filter(worker_profile__isnull=False)
                    .order_by("mobile")[:12] if w not in workers]
    if not workers:
        return {"problems": 0, "created": 0}
    for w in workers:
        w.auth_level = AuthLevel.CODE
    assert street.center_lat is not None and street.center_lng is not None
    made: list[Problem] = []
    for i, (code, (dlat, dlng), text, state) in enumerate(PROBLEMS):
        reporter = workers[i % len(workers)]
        photo = services.photo_upload(actor=reporter, data=picture(i))
        problem, _ = services.report_create(
            actor=reporter, category=ReportCategory.objects.get(code=code),
            lat=street.center_lat + dlat, lng=street.center_lng + dlng, description=text,
            photo_ids=[photo.pk], client_key=f"demo-{i}", area=street)
        other = workers[(i + 1) % len(workers)]
        if i % 3 == 0 and other.pk != reporter.pk:  # a second courier saw it too
            services.report_follow(actor=other, problem_id=problem.pk, lat=problem.lat,
                                   lng=problem.lng)
        _advance(problem, state, centre, reporter, made, i)
        made.append(problem)
    return {"problems": Problem.objects.count(), "created": len(made)}


def _advance(problem: Problem, state: str, centre: User, reporter: User,
             made: list[Problem], i: int) -> None:
    def step(action: str, actor: User = centre, **kw) -> None:
        services.problem_transition(actor=actor, problem_id=problem.pk, action=action, **kw)

    if state == "submitted":
        return
    if state.startswith("rejected"):
        step("reject", reason="split" if state == "rejected_split" else "untrue")
        return
    if state == "merged":
        step("merge", into_id=made[0].pk)
        return
    if state == "accepted":
        step("accept")
        return
    step("accept", department=problem.category.department)
    if state in ("resolved", "closed"):
        after = services.photo_upload(actor=centre, data=picture(100 + i), kind="after")
        step("resolve", photo_ids=[after.pk], note="已清理")
    if state == "closed":
        step("close")
