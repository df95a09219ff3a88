"""The demo union roll: 1,200-odd members across 城关街道, 阎村镇 and other towns, and 窦店镇's
on-site enrolment of 申通's couriers with 北京银行; loaded once, fast (bulk inserts)."""

import time

from warmstation.demo.union import seed_union
from warmstation.union.models import EnrolmentBatch, Member


def test_demo_union_roll_loads_once(db):
    from warmstation.demo.seed import seed_demo

    seed_demo(workers=15)
    assert 1200 <= Member.objects.count() < 1300
    assert Member.objects.filter(area__name_zh="城关街道").count() > 400
    assert Member.objects.filter(area__name_zh="阎村镇").count() > 300
    doudian = EnrolmentBatch.objects.get(partner="北京银行")
    assert doudian.area.name_zh == "窦店镇" and doudian.brand.name_zh == "申通快递"
    assert doudian.rows_enrolled == doudian.rows_total and doudian.rows_refused == 0
    assert Member.objects.filter(number__isnull=True).count() == 0
    count = Member.objects.count()
    started = time.monotonic()
    seed_union()
    assert Member.objects.count() == count
    assert time.monotonic() - started < 2
