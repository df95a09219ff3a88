"""A worker's report: photos referenced by id, the place in any coordinate system, the
same-problem prompt within the radius and not beyond, 我也遇到, the offline queue's key."""

import pytest

from warmstation.core import geo
from warmstation.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from warmstation.reports import selectors, services
from warmstation.reports.models import Follower, Photo, Problem, ReportSettings
from warmstation.reports.tests.factories import YLJ, file_report, jpeg

pytestmark = pytest.mark.django_db


def _offset(point, metres_north):
    return point[0] + metres_north / 111_195, point[1]


def test_a_report_takes_its_photos_area_and_follower(w):
    problem = file_report(w)
    assert problem.status == Problem.Status.SUBMITTED and problem.area == w["ylj"]
    assert problem.photos.count() == 1 and problem.number.startswith("SP")
    assert Follower.objects.get(problem=problem).kind == Follower.Kind.REPORTER
    assert problem.events.get().action == "create"


def test_a_photo_is_used_once_and_only_by_its_uploader(w):
    photo = services.photo_upload(actor=w["worker"], data=jpeg())
    with pytest.raises(InvalidInput):
        services.report_create(actor=w["worker2"], category=w["garbage"], lat=YLJ[0],
                               lng=YLJ[1], photo_ids=[photo.pk])
    services.report_create(actor=w["worker"], category=w["garbage"], lat=YLJ[0], lng=YLJ[1],
                           photo_ids=[photo.pk])
    with pytest.raises(InvalidInput):
        services.report_create(actor=w["worker"], category=w["garbage"], lat=YLJ[0],
                               lng=YLJ[1], photo_ids=[photo.pk])
    assert Problem.objects.count() == 1


def test_a_report_needs_a_photo_and_a_worker(w):
    with pytest.raises(InvalidInput):
        services.report_create(actor=w["worker"], category=w["garbage"], lat=YLJ[0],
                               lng=YLJ[1], photo_ids=[])
    with pytest.raises(PermissionDenied):
        services.report_create(actor=w["cc"], category=w["garbage"], lat=YLJ[0], lng=YLJ[1],
                               photo_ids=[1])


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09"])
def test_the_place_is_stored_as_wgs84_from_any_system(w, crs):
    lat, lng = geo.from_wgs84(*YLJ, crs)
    photo = services.photo_upload(actor=w["worker"], data=jpeg())
    problem, _ = services.report_create(actor=w["worker"], category=w["garbage"], lat=lat,
                                        lng=lng, crs=crs, photo_ids=[photo.pk])
    assert geo.distance_m(problem.lat, problem.lng, *YLJ) < 1


def test_a_place_outside_the_district_is_refused(w):
    photo = services.photo_upload(actor=w["worker"], data=jpeg())
    with pytest.raises(InvalidInput) as caught:
        services.report_create(actor=w["worker"], category=w["garbage"], lat=31.23,
                               lng=121.47, photo_ids=[photo.pk])
    assert caught.value.code == "outside_district"


def test_the_same_client_key_is_the_same_report(w):
    first = file_report(w, key="offline-1")
    photo = services.photo_upload(actor=w["worker"], data=jpeg(color="blue"))
    again, created = services.report_create(actor=w["worker"], category=w["garbage"],
                                            lat=YLJ[0], lng=YLJ[1], photo_ids=[photo.pk],
                                            client_key="offline-1")
    assert again.pk == first.pk and not created and Problem.objects.count() == 1
    assert Photo.objects.get(pk=photo.pk).problem is None  # the resend's photo stays unused


def test_same_problem_within_the_radius_and_not_beyond(w):
    near = file_report(w, at=_offset(YLJ, 60))
    far = file_report(w, at=_offset(YLJ, 140))
    other_kind = file_report(w, at=_offset(YLJ, 10), category="piles")
    found = selectors.same_problem_candidates(viewer=w["worker2"], category=w["garbage"],
                                              lat=YLJ[0], lng=YLJ[1])
    assert [c.problem.pk for c in found] == [near.pk]
    assert 55 < found[0].distance_m < 65 and found[0].grant
    ReportSettings.objects.update_or_create(pk=1, defaults={"same_radius_m": 200})
    found = selectors.same_problem_candidates(viewer=w["worker2"], category=w["garbage"],
                                              lat=YLJ[0], lng=YLJ[1])
    assert [c.problem.pk for c in found] == [near.pk, far.pk]
    assert other_kind.pk not in [c.problem.pk for c in found]


def test_at_most_five_candidates_nearest_first(w):
    made = [file_report(w, at=_offset(YLJ, 10 * i), color=(i * 30, 0, 0)) for i in range(7)]
    found = selectors.same_problem_candidates(viewer=w["worker2"], category=w["garbage"],
                                              lat=YLJ[0], lng=YLJ[1])
    assert [c.problem.pk for c in found] == [p.pk for p in made[:5]]


def test_closed_and_rejected_problems_are_not_candidates(w):
    problem = file_report(w)
    services.problem_transition(actor=w["cc"], problem_id=problem.pk, action="reject",
                                reason="untrue")
    assert selectors.same_problem_candidates(viewer=w["worker2"], category=w["garbage"],
                                             lat=YLJ[0], lng=YLJ[1]) == []


def test_choosing_one_follows_and_confirms_instead_of_a_new_report(w):
    problem = file_report(w)
    services.report_follow(actor=w["worker2"], problem_id=problem.pk, lat=YLJ[0], lng=YLJ[1])
    services.report_follow(actor=w["worker2"], problem_id=problem.pk, lat=YLJ[0], lng=YLJ[1])
    assert Problem.objects.count() == 1
    follower = Follower.objects.get(problem=problem, user=w["worker2"])
    assert follower.kind == Follower.Kind.CONFIRMER
    assert list(problem.events.values_list("action", flat=True)) == ["create", "follow"]
    mine = selectors.problem_list(user=w["worker2"], mine=True)
    assert list(mine) == [problem]


def test_a_problem_far_away_cannot_be_confirmed(w):
    problem = file_report(w)
    with pytest.raises(NotFound):
        services.report_follow(actor=w["worker2"], problem_id=problem.pk,
                               lat=_offset(YLJ, 2000)[0], lng=YLJ[1])


def test_candidate_photos_are_seen_through_the_grant_only(w):
    from django.test import Client

    from tests.factories import signed_in

    problem = file_report(w)
    photo = problem.photos.get()
    found = selectors.same_problem_candidates(viewer=w["worker2"], category=w["garbage"],
                                              lat=YLJ[0], lng=YLJ[1])
    browser = signed_in(w["worker2"], w["worker2"].auth_level)
    assert browser.get(f"/reports/photos/{photo.pk}/").status_code == 404
    ok = browser.get(f"/reports/photos/{photo.pk}/?g={found[0].grant}")
    assert ok.status_code == 200 and ok["Cache-Control"] == "private, no-store"
    third = signed_in(w["worker3"], w["worker3"].auth_level)
    assert third.get(f"/reports/photos/{photo.pk}/?g={found[0].grant}").status_code == 404
    assert Client().get(f"/reports/photos/{photo.pk}/").status_code == 404


def test_the_area_of_a_place_is_the_nearest_centre_deepest_first(w):
    """area_for_point asks the database for the nearest few centres by a flat-earth distance
    and chooses by the great-circle one: the same area as measuring every centre, for places
    all over the district, with centres shared by several levels (the deepest wins)."""
    import random

    from warmstation.areas.models import Area
    from warmstation.areas.services import area_upsert

    rng = random.Random(7)
    parent = w["ylj"].parent
    for i in range(60):
        lat, lng = 39.55 + rng.random() * 0.4, 115.7 + rng.random() * 0.6
        street = area_upsert(code=f"T{i:02d}", name_zh=f"测试{i}", level="street",
                             parent=parent.parent, center_lat=lat, center_lng=lng)
        if i % 5 == 0:  # a community at its street's very centre
            area_upsert(code=f"T{i:02d}C", name_zh=f"测试社区{i}", level="community",
                        parent=street, center_lat=lat, center_lng=lng)

    def measured_all(lat, lng):
        return min(Area.objects.exclude(center_lat=None),
                   key=lambda a: (round(geo.distance_m(lat, lng, a.center_lat, a.center_lng)),
                                  -a.depth, a.pk))

    for _ in range(200):
        lat, lng = 39.5 + rng.random() * 0.5, 115.65 + rng.random() * 0.7
        assert services.area_for_point(lat, lng) == measured_all(lat, lng), (lat, lng)
    centre = Area.objects.get(code="T05C")
    assert services.area_for_point(centre.center_lat, centre.center_lng) == centre


def test_too_many_photos_waiting_are_refused_and_nothing_is_kept(w, monkeypatch, settings,
                                                                  tmp_path):
    """A day's photos not yet in a report are limited per person (PENDING_MAX): the next one is
    refused with 409 and neither its row nor its bytes are kept; a photo filed in a report
    frees its place."""
    settings.MEDIA_ROOT = str(tmp_path)
    monkeypatch.setattr(services, "PENDING_MAX", 2)
    first = services.photo_upload(actor=w["worker"], data=jpeg())
    services.photo_upload(actor=w["worker"], data=jpeg(color="blue"))
    with pytest.raises(Conflict) as refused:
        services.photo_upload(actor=w["worker"], data=jpeg(color="red"))
    assert refused.value.code == "too_many_photos"
    assert Photo.objects.filter(uploader=w["worker"]).count() == 2
    assert len(list((tmp_path / "reports" / "incoming").iterdir())) == 2
    services.report_create(actor=w["worker"], category=w["garbage"], lat=YLJ[0], lng=YLJ[1],
                           photo_ids=[first.pk])
    assert services.photo_upload(actor=w["worker2"], data=jpeg()).pk  # another person's own
    assert services.photo_upload(actor=w["worker"], data=jpeg(color="red")).pk
