"""The dashboard's figures against a world small enough to count by hand, for a district admin
and for the admins of each street; and the suppression of small groups.

The world (built once for the module):
- 拱辰 GC → 伊林郡 YLJ: 7 workers (5 顺丰 sf + 2 京东 jd; 6 couriers + 1 rider), 3 of them
  registered last month; a station with 6 check-ins and 2 services this month; 6 street
  reports this month, 5 resolved after 1, 2, 3, 4 and 5 hours (mean 3.0 h); 5 workers given 10
  points each; 5 union members.
- 西潞 XL → 苏庄 SZ: 6 workers (all sf, couriers, this month); a station with 3 check-ins.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from tests.factories import (
    as_level,
    build_area_tree,
    make_station,
    make_user,
    make_worker,
    once_per_module,
    signed_in,
)
from warmstation.accounts.models import Brand, Role, User, WorkerProfile
from warmstation.core import geo
from warmstation.core.time import LOCAL
from warmstation.dashboard import rollups, selectors, services
from warmstation.dashboard.models import Figure, FigureRefresh
from warmstation.points.tests.factories import fund
from warmstation.reports import services as report_services
from warmstation.reports.models import Problem, ReportCategory
from warmstation.stations.models import ServiceRecord
from warmstation.union.models import Member

TODAY = timezone.localdate()
THIS_MONTH = TODAY.replace(day=1)
LAST_MONTH = (THIS_MONTH - timedelta(days=1)).replace(day=15)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=LOCAL)


def build() -> dict:
    tree = build_area_tree()
    jd, _ = Brand.objects.get_or_create(
        code="jd", defaults={"name_zh": "京东物流", "kind": "express"}
    )
    ylj = [make_worker([tree["ylj"]]) for _ in range(7)]
    sz = [make_worker([tree["sz"]]) for _ in range(6)]
    sf = Brand.objects.get(code="sf")
    WorkerProfile.objects.filter(user__in=ylj[:5] + sz).update(brand=sf)
    WorkerProfile.objects.filter(user__in=ylj[5:]).update(brand=jd)
    WorkerProfile.objects.filter(user=ylj[6]).update(job_type="food_delivery")
    User.objects.filter(pk__in=[u.pk for u in ylj + sz]).update(date_joined=_at(THIS_MONTH))
    User.objects.filter(pk__in=[u.pk for u in ylj[:3]]).update(date_joined=_at(LAST_MONTH))

    s1 = make_station(tree["ylj"], 39.7482, 116.1400, name="伊林郡驿站", is_24h=True)
    s2 = make_station(tree["sz"], 39.7800, 116.1000, name="苏庄驿站", is_24h=True)
    records = [
        ServiceRecord(station=s1, kind="check_in", worker=u, at=_at(THIS_MONTH, 9 + i))
        for i, u in enumerate(ylj[:6])
    ]
    records += [
        ServiceRecord(station=s1, kind="service", worker_label="匿名", at=_at(THIS_MONTH))
        for _ in range(2)
    ]
    records += [
        ServiceRecord(station=s2, kind="check_in", worker=u, at=_at(THIS_MONTH)) for u in sz[:3]
    ]
    ServiceRecord.objects.bulk_create(records)

    report_services.report_categories_seed()
    category = ReportCategory.objects.order_by("pk").first()
    cell_s, cell_l = geo.cells_of(39.7482, 116.1400)
    start = _at(THIS_MONTH, 8)
    for i in range(6):
        p = Problem.objects.create(
            category=category,
            area=tree["ylj"],
            lat=39.7482,
            lng=116.14,
            cell_s=cell_s,
            cell_l=cell_l,
            reporter=ylj[i],
        )
        resolved = start + timedelta(hours=i + 1) if i < 5 else None
        Problem.objects.filter(pk=p.pk).update(
            created_at=start, resolved_at=resolved, status="resolved" if resolved else "submitted"
        )
    for u in ylj[:5]:
        fund(u, 10)
    for i in range(5):
        Member.objects.create(
            real_name=f"会员{i}", area=tree["ylj"], source="batch", enrolled_at=_at(THIS_MONTH)
        )
    rollups.figures_rebuild()
    return {
        "tree": tree,
        "ylj": ylj,
        "sz": sz,
        "district": as_level(make_user(Role.DISTRICT_ADMIN, tree["district"])),
        "gc_admin": as_level(make_user(Role.AREA_ADMIN, tree["gc"])),
        "xl_admin": as_level(make_user(Role.AREA_ADMIN, tree["xl"])),
    }


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with once_per_module(django_db_blocker):
        yield build()


def _board(world, who: str, **kw):
    return selectors.dashboard(user=world[who], **kw)


def _rows(rows):
    return {r["label"]: r["value"] for r in rows}


@pytest.mark.django_db
def test_district_figures_match_the_hand_count(world):
    p = _board(world, "district")["panels"]
    assert p["workers"]["total"] == 13
    assert _rows(p["workers"]["by_area"]) == {"拱辰街道": 7, "西潞街道": 6}
    assert p["stations"]["count"] == 2 and p["stations"]["h24"] == 2
    assert p["stations"]["visits"] == 11 and p["stations"]["checkins"] == 9
    assert p["stations"]["services"] is None  # 2 services: too few to show
    assert p["reports"]["count"] == 6 and p["reports"]["resolved"] == 5
    assert p["reports"]["mean_hours"] == 3.0
    assert p["points"]["issued"] == 50 and p["points"]["spent"] == 0
    assert p["members"]["total"] == 5


@pytest.mark.django_db
def test_charts_put_each_figure_in_its_month(world):
    d = _board(world, "district")
    periods = d["periods"]
    chart = d["panels"]["workers"]["chart"]
    cumulative, new = chart["series"]
    i_this, i_last = periods.index(THIS_MONTH), periods.index(LAST_MONTH.replace(day=1))
    assert cumulative[i_this] == 13
    assert new[i_this] == 10 and new[i_last] is None  # 3 registrations last month: suppressed
    assert cumulative[i_last] is None  # 3 workers to date then: suppressed too
    assert all(v in (0, None) for i, v in enumerate(new) if i not in (i_this, i_last))


@pytest.mark.django_db
def test_weekly_figures_add_up_to_the_monthly_ones(world):
    weeks = _board(world, "district", grain=Figure.Grain.WEEK)["panels"]
    assert weeks["workers"]["total"] == 13
    assert sum(v or 0 for v in weeks["reports"]["chart"]["series"][0]) == 6


@pytest.mark.django_db
def test_each_street_admin_sees_only_their_street(world):
    gc = _board(world, "gc_admin")["panels"]
    assert gc["workers"]["total"] == 7
    assert _rows(gc["workers"]["by_area"]) == {"伊林郡社区": 7}
    assert gc["stations"]["count"] == 1 and gc["stations"]["visits"] == 8
    assert gc["reports"]["count"] == 6 and gc["points"]["issued"] == 50
    xl = _board(world, "xl_admin")["panels"]
    assert xl["workers"]["total"] == 6
    assert xl["stations"]["visits"] is None  # 3 check-ins
    assert xl["reports"]["count"] == 0 and xl["points"]["issued"] == 0
    assert xl["members"]["total"] == 0


@pytest.mark.django_db
def test_a_small_group_is_hidden_and_so_is_the_one_that_would_give_it_away(world):
    p = _board(world, "district")["panels"]["workers"]
    # 11 sf + 2 jd: jd is hidden, and sf with it (13 − 11 would give jd away).
    assert set(_rows(p["by_brand"]).values()) == {None}
    assert set(_rows(p["by_job"]).values()) == {None}  # 12 couriers + 1 rider
    gc = _board(world, "gc_admin")["panels"]["workers"]
    assert set(_rows(gc["by_brand"]).values()) == {None}  # 5 sf + 2 jd, total 7 shown


@pytest.mark.django_db
def test_the_page_is_for_district_and_area_admins_only(world):
    assert signed_in(world["district"]).get("/district/").status_code == 200
    worker = signed_in(world["ylj"][0])
    assert worker.get("/district/").status_code == 403
    response = signed_in(world["gc_admin"]).get("/district/?area=SZ&grain=year")
    assert response.status_code == 200
    body = response.content.decode()
    assert "不在您的管辖范围内" in body and "时间粒度只能是按周或按月" in body
    assert 'data-kpi="workers">7<' in body.replace("\n", "")


@pytest.mark.django_db
def test_a_district_admin_can_narrow_to_one_street(world):
    response = signed_in(world["district"]).get("/district/?area=XL")
    assert 'data-kpi="workers">6<' in response.content.decode().replace("\n", "")


def test_rates_resting_on_few_cases_are_hidden():
    row = {
        "cases": 4,
        "dispatched": 4,
        "rated": 3,
        "answered": 6,
        "response": 0.75,
        "resolution": 0.5,
        "satisfaction": 1.0,
        "on_time": 0.5,
        "score": 70,
    }
    shown = selectors._rate_shown(row)
    assert shown["response"] is None and shown["resolution"] is None and shown["cases"] is None
    assert shown["on_time"] == 0.5  # 6 answered


@pytest.mark.django_db
def test_a_refresh_rewrites_the_open_periods_as_a_rebuild_would(world):
    before = set(Figure.objects.values_list("area_id", "grain", "period", "metric", "dim", "value"))
    rollups.figures_refresh()
    after = set(Figure.objects.values_list("area_id", "grain", "period", "metric", "dim", "value"))
    assert before == after


@pytest.mark.django_db
def test_the_periodic_job_is_due_only_when_the_figures_are_old(
    world, django_capture_on_commit_callbacks
):
    state = FigureRefresh.objects.get(pk=1)
    now = timezone.now()
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.figures_refresh_due(now=now) == 0
        assert services.figures_refresh_due(now=now + timedelta(minutes=11)) == 1
        assert services.figures_refresh_due(now=now + timedelta(days=2)) == 1
    assert len(callbacks) == 2
    assert state.rebuilt_at is not None
