"""Helpers for report tests: pictures as phones make them, a world with a command centre, and
reports filed through the real services."""

from __future__ import annotations

import io

from PIL import Image

from tests.factories import as_level, make_user, make_worker
from warmstation.accounts.models import AuthLevel, Role
from warmstation.appeals.models import Department
from warmstation.points.tests.factories import make_rule
from warmstation.reports import services
from warmstation.reports.models import ReportCategory

# 伊林郡 (拱辰) and 苏庄三里 (西潞): centres given so a place finds its area.
YLJ = (39.7330, 116.1450)
SZ = (39.7050, 116.1010)


def jpeg(size=(64, 48), color="orange", **save) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG", **save)
    return buf.getvalue()


def make_report_world(tree: dict) -> dict:
    from warmstation.areas.models import Area

    services.report_categories_seed()  # a flushing (transactional) test may have emptied it
    Area.objects.filter(pk=tree["ylj"].pk).update(center_lat=YLJ[0], center_lng=YLJ[1])
    Area.objects.filter(pk=tree["sz"].pk).update(center_lat=SZ[0], center_lng=SZ[1])
    centre = Department.objects.create(code="gc-zx", name_zh="拱辰城管指挥中心",
                                       kind="command_centre", area=tree["gc"])
    sanitation = Department.objects.create(code="gc-hw", name_zh="拱辰环卫所",
                                           kind="street_office", area=tree["gc"])
    make_rule("street_report_valid", 5, source="street_report", monthly_cap=150)
    make_rule("street_report_confirm", 2, source="street_report", monthly_cap=150)
    return {
        **tree, "centre": centre, "sanitation": sanitation,
        "garbage": ReportCategory.objects.get(code="exposed_garbage"),
        "piles": ReportCategory.objects.get(code="piled_materials"),
        "worker": as_level(make_worker([tree["ylj"]]), AuthLevel.CODE),
        "worker2": as_level(make_worker([tree["ylj"]]), AuthLevel.CODE),
        "worker3": as_level(make_worker([tree["sz"]]), AuthLevel.CODE),
        "cc": as_level(make_user(Role.COMMAND_CENTRE, tree["gc"]), AuthLevel.PASSWORD),
        "cc_other": as_level(make_user(Role.COMMAND_CENTRE, tree["xl"]), AuthLevel.PASSWORD),
        "hw_staff": as_level(make_user(Role.DEPARTMENT, tree["gc"], department=sanitation),
                             AuthLevel.PASSWORD),
        "district": as_level(make_user(Role.DISTRICT_ADMIN, tree["district"]), AuthLevel.MFA),
    }


def file_report(w: dict, who: str = "worker", *, category: str = "garbage",
                at: tuple[float, float] = YLJ, key: str = "", color: str = "orange"):
    actor = w[who]
    photo = services.photo_upload(actor=actor, data=jpeg(color=color))
    problem, _created = services.report_create(
        actor=actor, category=w[category], lat=at[0], lng=at[1], photo_ids=[photo.pk],
        client_key=key, description="路口垃圾堆")
    return problem
