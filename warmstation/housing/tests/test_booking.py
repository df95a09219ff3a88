"""Booking the family short-stay flat: by the night, check-out day free for the next guest,
refusals that name the taken nights, cancellation and check-out freeing nights at once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import make_user, make_worker
from warmstation.accounts.models import Role
from warmstation.core.errors import Conflict, InvalidInput
from warmstation.housing import services
from warmstation.housing.models import Booking, FlatNight
from warmstation.housing.selectors import flat_calendar
from warmstation.housing.tests.factories import FAMILY, make_flat

pytestmark = pytest.mark.django_db


@pytest.fixture
def flat(tree):
    return make_flat(tree["gc"], max_nights=5, max_bookings_per_season=2)


def _day(n):
    return timezone.localdate() + timedelta(days=n)


def _book(flat, worker, a, b, **kw):
    return services.booking_create(worker=worker, flat=flat, check_in=_day(a), check_out=_day(b),
                                   visitors=kw.pop("visitors", FAMILY), **kw)


def test_a_booking_holds_its_nights_and_not_its_check_out_day(tree, flat):
    worker = make_worker([tree["ylj"]])
    booking = _book(flat, worker, 3, 6)
    assert booking.nights == 3 and booking.status == "booked"
    assert sorted(FlatNight.objects.values_list("night", flat=True)) == [_day(3), _day(4), _day(5)]
    assert [v.name for v in booking.visitors.all()] == ["王芳", "王小明"]
    taken = {n.day for n in flat_calendar(flat, days=10) if n.taken}
    assert taken == {_day(3), _day(4), _day(5)}


def test_touching_ranges_are_allowed(tree, flat):
    first = _book(flat, make_worker([tree["ylj"]]), 3, 6)
    second = _book(flat, make_worker([tree["ylj"]]), 6, 8)  # arrives the day the first leaves
    before = _book(flat, make_worker([tree["ylj"]]), 1, 3)  # leaves the day the first arrives
    assert {b.pk for b in (first, second, before)} == set(Booking.objects.values_list("pk",
                                                                                       flat=True))
    assert FlatNight.objects.count() == 3 + 2 + 2


def test_an_overlapping_booking_is_refused_naming_the_taken_nights(tree, flat):
    _book(flat, make_worker([tree["ylj"]]), 3, 6)
    with pytest.raises(Conflict) as refused:
        _book(flat, make_worker([tree["ylj"]]), 5, 8)
    assert refused.value.code == "nights_taken"
    assert refused.value.extra["taken_nights"] == [_day(5).isoformat()]
    assert _day(5).isoformat() in refused.value.message_zh
    assert _day(5).isoformat() in refused.value.message_en
    assert Booking.objects.count() == 1 and FlatNight.objects.count() == 3


def test_cancelling_frees_the_nights_at_once(tree, flat):
    worker = make_worker([tree["ylj"]])
    booking = _book(flat, worker, 3, 6)
    services.booking_cancel(actor=worker, booking=booking)
    assert FlatNight.objects.count() == 0
    assert Booking.objects.get().status == "cancelled"
    again = _book(flat, make_worker([tree["ylj"]]), 3, 6)  # the same nights, at once
    assert again.status == "booked"
    with pytest.raises(Conflict) as twice:
        services.booking_cancel(actor=worker, booking=booking)
    assert twice.value.code == "invalid_transition"


def test_the_steward_checks_in_and_out_and_an_early_departure_frees_the_rest(tree, flat):
    steward = make_user(Role.STEWARD, tree["ylj"])
    booking = _book(flat, make_worker([tree["ylj"]]), 0, 4)
    with pytest.raises(Conflict):
        services.booking_check_out(actor=steward, booking=booking)  # not in yet
    services.booking_check_in(actor=steward, booking=booking)
    assert Booking.objects.get().status == "checked_in"
    with pytest.raises(Conflict):
        services.booking_cancel(actor=steward, booking=booking)  # in the flat: check out
    services.booking_check_out(actor=steward, booking=booking)  # leaving on the first day
    assert Booking.objects.get().status == "checked_out"
    assert FlatNight.objects.count() == 0  # tonight and the nights after are free again
    _book(flat, make_worker([tree["ylj"]]), 0, 2)


def test_check_in_only_during_the_stay(tree, flat):
    booking = _book(flat, make_worker([tree["ylj"]]), 2, 4)
    with pytest.raises(Conflict) as early:
        services.booking_check_in(actor=make_user(Role.STEWARD, tree["ylj"]), booking=booking)
    assert early.value.code == "not_today"


def test_limits_nights_per_stay_and_bookings_per_season(tree, flat):
    worker = make_worker([tree["ylj"]])
    with pytest.raises(Conflict) as long_stay:
        _book(flat, worker, 1, 7)
    assert long_stay.value.code == "too_many_nights"
    # Two a season at this flat: the third in the same quarter is refused.
    start = timezone.localdate().replace(day=1)
    quarter_start = start.replace(month=(start.month - 1) // 3 * 3 + 1)
    next_q = (quarter_start + timedelta(days=100)).replace(day=1)
    base = (next_q - timezone.localdate()).days
    _book(flat, worker, base, base + 1)
    _book(flat, worker, base + 2, base + 3)
    with pytest.raises(Conflict) as third:
        _book(flat, worker, base + 4, base + 5)
    assert third.value.code == "season_limit"


@pytest.mark.parametrize("a, b, field", [(5, 5, "check_out"), (-1, 2, "check_in"),
                                         (200, 201, "check_in")])
def test_dates_out_of_bounds_are_refused(tree, flat, a, b, field):
    with pytest.raises(InvalidInput) as bad:
        _book(flat, make_worker([tree["ylj"]]), a, b)
    assert bad.value.field == field


def test_visitors_are_needed_and_bounded_by_the_flat(tree, flat):
    worker = make_worker([tree["ylj"]])
    with pytest.raises(InvalidInput):
        _book(flat, worker, 1, 2, visitors=[{"name": "", "relation": ""}])
    with pytest.raises(InvalidInput) as relation:
        _book(flat, worker, 1, 2, visitors=[{"name": "王芳", "relation": "friend"}])
    assert relation.value.field == "relation_0"
    with pytest.raises(Conflict) as crowd:
        _book(flat, worker, 1, 2, visitors=[{"name": f"亲属{i}", "relation": "other"}
                                            for i in range(5)])
    assert crowd.value.code == "too_many_guests"


def test_only_registered_workers_book(tree, flat):
    from warmstation.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        _book(flat, make_user(Role.RESIDENT, tree["gc"]), 1, 2)
