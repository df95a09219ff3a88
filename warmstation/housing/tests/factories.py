"""Flats for the housing tests, made through the real service."""

from __future__ import annotations

from warmstation.housing import services
from warmstation.housing.models import Equipment, Flat

EQUIPMENT = [("fridge", "冰箱", "Fridge"), ("washer", "洗衣机", "Washing machine"),
             ("induction_cooker", "电磁炉", "Induction cooker")]


def make_flat(area, *, station=None, name: str = "小哥爱心公寓", **fields) -> Flat:
    for code, zh, en in EQUIPMENT:
        Equipment.objects.get_or_create(code=code, defaults={"name_zh": zh, "name_en": en})
    return services.flat_save(actor=None, flat=Flat(), equipment=[c for c, _, _ in EQUIPMENT],
                              name=name, area=area, station=station, address="长阳镇测试路1号",
                              **fields)


FAMILY = [{"name": "王芳", "relation": "spouse"}, {"name": "王小明", "relation": "child"}]
