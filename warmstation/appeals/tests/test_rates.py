"""The rates on a fixture whose answers are worked out by hand below."""

from datetime import date, datetime, timedelta

import pytest

from warmstation.appeals import services
from warmstation.appeals.deadlines import LOCAL
from warmstation.appeals.models import Appeal, MonthlyStat
from warmstation.appeals.rates import board, rollup_rebuild
from warmstation.appeals.rules import appeal_settings_update

OCT = date(2026, 10, 1)
T0 = datetime(2026, 10, 12, 10, 0, tzinfo=LOCAL)
H = timedelta(hours=1)


def case(s, *, dept, street, area, responded=None, answered=None, resolved=None,
         satisfaction="", status="closed", month=OCT):
    """A case dispatched at T0, response due T0+4h, answer due T0+8h; `responded`/`answered`
    are hours after T0 (None: not yet)."""
    return Appeal.objects.create(
        submitter=s["worker"], channel="worker", category=s["cats"]["housing"], area=area,
        street=street, title="t", body="b", status=status, month=month,
        department=dept, dispatch_due=T0, resolve_due=T0 + 100 * H,
        dispatched_at=T0 if dept else None, respond_due=T0 + 4 * H, answer_due=T0 + 8 * H,
        responded_at=T0 + responded * H if responded is not None else None,
        answered_at=T0 + answered * H if answered is not None else None,
        resolved=resolved, satisfaction=satisfaction)


@pytest.fixture
def fixture(s):
    rsj, cgzx, gc, xl = s["rsj"], s["cgzx"], s["gc"], s["xl"]
    # 区人力社保局 in 拱辰: 4 cases.
    case(s, dept=rsj, street=gc, area=s["ylj"], responded=1, answered=5, resolved=True,
         satisfaction="satisfied")
    case(s, dept=rsj, street=gc, area=gc, responded=6, answered=9, resolved=True,
         satisfaction="fairly")                       # late response, late answer
    case(s, dept=rsj, street=gc, area=gc, responded=2, answered=7, resolved=False,
         satisfaction="dissatisfied")
    case(s, dept=rsj, street=gc, area=gc, responded=3, status="accepted")
    # 拱辰城管指挥中心 in 西潞 (odd, but it is only a fixture): 2 perfect cases.
    for _ in range(2):
        case(s, dept=cgzx, street=xl, area=xl, responded=1, answered=2, resolved=True,
             satisfaction="satisfied")
    case(s, dept=None, street=gc, area=gc, status="received")          # not dispatched yet
    case(s, dept=rsj, street=gc, area=gc, responded=1, answered=2, resolved=False,
         satisfaction="dissatisfied", status="merged")                # a duplicate: not counted
    case(s, dept=rsj, street=gc, area=gc, responded=9, month=date(2026, 9, 1))  # September
    rollup_rebuild()
    return s


def test_department_rates_by_hand(fixture):
    b = board(user=fixture["district"], month=OCT)
    rsj, cgzx = ({d["name"]: d for d in b["departments"]}[n]
                 for n in ("区人力社保局", "拱辰城管指挥中心"))
    # 区人力社保局: responded on time 3 of 4 dispatched; 2 of 3 rated resolved; (1 satisfied +
    # 1 fairly) of 3 rated; answered on time 2 of 3 answered.
    assert (rsj["cases"], rsj["dispatched"], rsj["rated"]) == (4, 4, 3)
    assert rsj["response"] == 0.75
    assert rsj["resolution"] == 0.6667
    assert rsj["satisfaction"] == 0.6667
    assert rsj["on_time"] == 0.6667
    # Score 0.10×0.75 + 0.45×0.6667 + 0.45×0.6667 = 0.675 (×100).
    assert rsj["score"] == 67.5
    assert (cgzx["response"], cgzx["resolution"], cgzx["satisfaction"], cgzx["score"]) == \
        (1.0, 1.0, 1.0, 100.0)
    assert [d["rank"] for d in b["departments"]] == [1, 2]
    assert b["departments"][0]["name"] == "拱辰城管指挥中心"


def test_totals_streets_and_trend(fixture):
    b = board(user=fixture["district"], month=OCT)
    t = b["totals"]
    # 7 cases (the merged one is not counted), 6 dispatched, 5 responded on time; 5 rated,
    # 4 resolved, 3 satisfied + 1 fairly; 5 answered, 4 on time.
    assert (t["cases"], t["dispatched"], t["responded_on_time"]) == (7, 6, 5)
    assert (t["response"], t["resolution"], t["satisfaction"], t["on_time"]) == \
        (0.8333, 0.8, 0.8, 0.8)
    streets = {r["name"]: r for r in b["streets"]}
    assert streets["拱辰街道"]["cases"] == 5 and streets["西潞街道"]["cases"] == 2
    trend = {r["month"]: r for r in b["trend"]}
    assert trend[date(2026, 9, 1)]["cases"] == 1 and trend[date(2026, 9, 1)]["response"] == 0
    assert trend[OCT]["cases"] == 7 and len(b["trend"]) == 12


def test_fairly_satisfied_weight_is_the_districts_setting(fixture):
    appeal_settings_update(actor=fixture["district"], fairly_satisfied_weight=0.8)
    rsj = {d["name"]: d for d in board(user=fixture["district"], month=OCT)["departments"]}[
        "区人力社保局"]
    assert rsj["satisfaction"] == 0.6  # (1 + 0.8×1) / 3


def test_scoped_boards(fixture):
    # A department sees only its own row; 西潞's admin only 西潞's street.
    mine = board(user=fixture["rsj_staff"], month=OCT)
    assert [d["name"] for d in mine["departments"]] == ["区人力社保局"]
    xl = board(user=fixture["xl_admin"], month=OCT)
    assert [r["name"] for r in xl["streets"]] == ["西潞街道"] and xl["totals"]["cases"] == 2


@pytest.mark.tasks  # again through the Redis task backend and a real worker (tests/brokered.py)
def test_rollups_kept_current_by_tasks_equal_a_rebuild(s, django_capture_on_commit_callbacks):
    def step(actor, appeal, action, **kw):
        with django_capture_on_commit_callbacks(execute=True):
            return services.appeal_transition(actor=actor, appeal_id=appeal.pk, action=action,
                                              **kw)

    with django_capture_on_commit_callbacks(execute=True):
        a = services.appeal_create(actor=s["worker"], category=s["cats"]["housing"],
                                   area=s["ylj"], title="t", body="b")
    a = step(s["district"], a, "dispatch")
    a = step(s["rsj_staff"], a, "accept")
    a = step(s["rsj_staff"], a, "transfer", department=s["cgzx"], note="属地")
    a = step(s["cgzx_staff"], a, "accept")
    a = step(s["cgzx_staff"], a, "answer", note="已处理")
    step(s["worker"], a, "rate", resolved=True, satisfaction="fairly")
    live = sorted(MonthlyStat.objects.values_list("department_id", "cases", "rated", "fairly"))
    rollup_rebuild()
    rebuilt = sorted(MonthlyStat.objects.values_list("department_id", "cases", "rated", "fairly"))
    assert live == rebuilt == [(s["cgzx"].pk, 1, 1, 1)]
