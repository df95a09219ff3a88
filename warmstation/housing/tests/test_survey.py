"""The housing survey: a worker's answers, aggregates by street/town, brand and job type that
never show a group below MIN_GROUP — not directly, and not by subtracting the shown groups
from the total (two overlapping figures) — and one worker's answers only for the housing
office of their area."""

import pytest

from tests.factories import BrandFactory, as_level, make_user, make_worker, signed_in
from warmstation.accounts.models import AuthLevel, Role
from warmstation.core.errors import InvalidInput
from warmstation.housing import services
from warmstation.housing.permissions import survey_scope
from warmstation.housing.selectors import MIN_GROUP, protect, survey_figures

pytestmark = pytest.mark.django_db


def _answer(area, *, brand="sf", job="courier", rent=1500, housing="rent_shared", needs=()):
    worker = make_worker([area])
    profile = worker.worker_profile
    profile.brand = BrandFactory(code=brand, name_zh={"sf": "顺丰速运", "jd": "京东物流",
                                                      "meituan": "美团"}[brand])
    profile.job_type = job
    profile.save()
    return services.survey_save(worker=worker, area=area, housing=housing, rent=rent,
                                commute_minutes=30, household=1, needs=set(needs))


@pytest.fixture
def answered(tree):
    """拱辰: 11 couriers of 顺丰, 1 rider of 美团; 西潞: 6 couriers, 4 of 京东 and 2 of 顺丰."""
    for i in range(11):
        _answer(tree["ylj"], needs=("need_cheaper",) if i < 7 else ("need_family",))
    _answer(tree["ylj"], brand="meituan", job="food_delivery", rent=2400, housing="rent_alone")
    for _ in range(4):
        _answer(tree["sz"], brand="jd", rent=900, housing="dormitory")
    for _ in range(2):
        _answer(tree["sz"], rent=1100)
    district = as_level(make_user(Role.DISTRICT_ADMIN, tree["district"]), AuthLevel.MFA)
    return {**tree, "district": district}


def _cells(figures):
    return {c["key"]: c["count"] for c in figures["cells"]}


def test_small_groups_are_suppressed(answered):
    scope = survey_scope(answered["district"])
    by_area = survey_figures(scope, by="area")
    assert by_area["total"]["count"] == 18
    assert _cells(by_area) == {"GC": 12, "XL": 6}
    by_brand = survey_figures(scope, by="brand")
    # 美团 has one answer: hidden; 京东 (4) hidden too; 顺丰 13 shown.
    assert _cells(by_brand)["meituan"] is None and _cells(by_brand)["jd"] is None
    assert _cells(by_brand)["sf"] == 13
    gc = next(c for c in by_area["cells"] if c["key"] == "GC")
    assert gc["needs"]["need_cheaper"] == 7 and gc["needs"]["need_family"] is None  # 4 < 5
    assert gc["avg_rent"] == round((11 * 1500 + 2400) / 12)


def test_a_hidden_group_cannot_be_had_by_subtraction(answered):
    """By job type the rider (1) is below the threshold; 17 couriers would be shown, and the
    total (18) is shown in the same figure — 18 - 17 = 1 would single the rider out. So the
    couriers' count is hidden too (complementary suppression), and in every figure the total
    minus the shown groups is either nothing or at least MIN_GROUP."""
    scope = survey_scope(answered["district"])
    by_job = survey_figures(scope, by="job_type")
    assert by_job["total"]["count"] == 18
    assert _cells(by_job) == {"courier": None, "food_delivery": None}
    for by in ("area", "brand", "job_type"):
        figures = survey_figures(scope, by=by)
        shown = sum(n for n in _cells(figures).values() if n is not None)
        hidden = figures["total"]["count"] - shown
        assert hidden == 0 or hidden >= MIN_GROUP, (by, figures)
        assert sum(1 for n in _cells(figures).values() if n is None) != 1, by
    # Within a shown group, its housing types partition it the same way.
    gc = next(c for c in survey_figures(scope, by="area")["cells"] if c["key"] == "GC")
    assert gc["housing"]["rent_alone"] is None and gc["housing"]["rent_shared"] is None


def test_an_area_admin_sees_their_area_only_and_below_threshold_nothing(answered):
    xl_admin = as_level(make_user(Role.AREA_ADMIN, answered["xl"]), AuthLevel.MFA)
    figures = survey_figures(survey_scope(xl_admin), by="brand")
    assert figures["total"]["count"] == 6
    assert _cells(figures) == {"jd": None, "sf": None}  # 4 and 2
    tiny = as_level(make_user(Role.AREA_ADMIN, answered["ylj"]), AuthLevel.MFA)
    assert survey_figures(survey_scope(tiny), by="area")["total"]["count"] == 12


def test_protect_hides_the_complement():
    assert protect({"a": 10, "b": 1, "c": 6}, total=17) == {"a": 10, "b": None, "c": None}
    assert protect({"a": 10, "b": 1, "c": 2}, total=13) == {"a": 10, "b": None, "c": None}
    assert protect({"a": 10, "b": 0}, total=10) == {"a": 10, "b": 0}


def test_answers_are_for_the_office_only(answered, tree):
    worker = as_level(make_worker([tree["ylj"]]), AuthLevel.CODE)
    mine = services.survey_save(worker=worker, area=tree["ylj"], housing="own", rent=None,
                                commute_minutes=10, household=3, needs={"need_family"})
    office = as_level(make_user(Role.HOUSING_OFFICE, tree["gc"]), AuthLevel.PASSWORD)
    office_xl = as_level(make_user(Role.HOUSING_OFFICE, tree["xl"]), AuthLevel.PASSWORD)
    admin = as_level(make_user(Role.AREA_ADMIN, tree["gc"]), AuthLevel.MFA)
    url = f"/api/v1/housing/surveys/{mine.pk}"
    assert signed_in(worker, AuthLevel.CODE).get(url).status_code == 200
    assert signed_in(office, AuthLevel.PASSWORD).get(url).json()["household"] == 3
    assert signed_in(office_xl, AuthLevel.PASSWORD).get(url).status_code == 404
    assert signed_in(admin, AuthLevel.MFA).get(url).status_code == 404  # aggregates only
    assert signed_in(admin, AuthLevel.MFA).get(f"/housing/survey/answers/{mine.pk}/") \
        .status_code == 403
    page = signed_in(admin, AuthLevel.MFA).get("/housing/survey/figures/?by=brand")
    assert page.status_code == 200 and 'data-count="hidden"' in page.content.decode()


def test_the_worker_answers_on_the_page_and_again(tree):
    worker = as_level(make_worker([tree["ylj"]]), AuthLevel.CODE)
    client = signed_in(worker, AuthLevel.CODE)
    bad = client.post("/housing/survey/", {"area": "YLJ", "housing": "rent_alone",
                                            "commute_minutes": "40"})
    assert bad.status_code == 422  # renting: the rent is needed
    ok = client.post("/housing/survey/", {"area": "YLJ", "housing": "rent_alone", "rent": "1800",
                                           "commute_minutes": "40", "household": "1",
                                           "needs": ["need_cheaper", "need_closer"]})
    assert ok.status_code == 302
    client.post("/housing/survey/", {"area": "YLJ", "housing": "dormitory", "rent": "300",
                                     "commute_minutes": "15", "household": "1"})
    survey = worker.housing_survey
    survey.refresh_from_db()
    assert survey.housing == "dormitory" and not survey.need_cheaper
    with pytest.raises(InvalidInput):
        services.survey_save(worker=worker, area=tree["ylj"], housing="own", rent=None,
                             commute_minutes=10, household=1, needs={"need_pony"})
