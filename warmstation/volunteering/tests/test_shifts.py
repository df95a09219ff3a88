"""Sign-up, capacity, the waitlist, cancellation, check-in/out, hours, no-shows, confirmation and
points, reminders."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from tests.factories import make_worker
from warmstation.core.errors import Conflict
from warmstation.core.time import LOCAL
from warmstation.outreach.models import OutboxMessage
from warmstation.points.models import LedgerTransaction
from warmstation.points.tests.factories import make_rule
from warmstation.volunteering import services
from warmstation.volunteering.models import Shift, Signup
from warmstation.volunteering.tests.factories import PLACE, make_organiser, make_shift, make_task


@pytest.fixture
def w(tree):
    make_rule("volunteer_shift", 20, daily_cap=40, monthly_cap=400)
    organiser = make_organiser(tree["gc"])
    task = make_task(tree["ylj"], organiser=organiser)
    workers = [make_worker([tree["ylj"]]) for _ in range(4)]
    return {**tree, "organiser": organiser, "task": task, "workers": workers}


def test_a_full_shift_puts_the_next_on_the_waitlist_and_a_cancellation_moves_it_up(w):
    shift = make_shift(w["task"], capacity=2)
    a, b, c, d = w["workers"]
    statuses = [services.shift_signup(worker=x, shift_id=shift.pk).status for x in (a, b, c, d)]
    assert statuses == ["placed", "placed", "waitlist", "waitlist"]
    shift.refresh_from_db()
    assert shift.placed == 2
    with pytest.raises(Conflict) as err:
        services.shift_signup(worker=a, shift_id=shift.pk)
    assert err.value.code == "already_signed_up"

    services.signup_cancel(actor=a, signup_id=Signup.objects.get(worker=a).pk)
    assert Signup.objects.get(worker=c).status == "placed"  # first in line
    assert Signup.objects.get(worker=d).status == "waitlist"
    shift.refresh_from_db()
    assert shift.placed == 2
    sms = OutboxMessage.objects.get(purpose="volunteer_promoted")
    assert sms.recipient == c.mobile and "已转为正式报名" in sms.body

    # a waitlisted worker leaves; nobody moves; signing up again puts one at the back
    services.signup_cancel(actor=d, signup_id=Signup.objects.get(worker=d).pk)
    assert services.shift_signup(worker=a, shift_id=shift.pk).status == "waitlist"


def test_a_place_cannot_be_cancelled_after_the_deadline(w):
    start = timezone.now() + timedelta(hours=5)
    shift = make_shift(w["task"], starts_at=start, cancel_deadline=start - timedelta(hours=2))
    s = services.shift_signup(worker=w["workers"][0], shift_id=shift.pk)
    with pytest.raises(Conflict) as err:
        services.signup_cancel(actor=s.worker, signup_id=s.pk,
                               now=start - timedelta(hours=1))
    assert err.value.code == "cancel_deadline_passed"
    services.signup_cancel(actor=s.worker, signup_id=s.pk, now=start - timedelta(hours=3))
    assert Shift.objects.get(pk=shift.pk).placed == 0


def test_an_overnight_shift_counts_its_real_length_and_travel_is_outside(w):
    start = datetime(2030, 1, 10, 22, 0, tzinfo=LOCAL)
    shift = make_shift(w["task"], starts_at=start, hours=8)  # 22:00 → 06:00 the next day
    worker = w["workers"][0]
    services.shift_signup(worker=worker, shift_id=shift.pk, now=start - timedelta(days=1))
    token = w["task"].checkin_token
    # arrives 10 minutes early (travel is before the scan): service counts from 22:00
    s = services.attendance_scan(worker=worker, token=token, lat=PLACE[0], lng=PLACE[1],
                                 now=start - timedelta(minutes=10))
    assert s.checked_in_at == start - timedelta(minutes=10)
    s = services.attendance_scan(worker=worker, token=token,
                                 now=start + timedelta(hours=7, minutes=30))
    assert s.minutes == 450 and not s.checkout_capped


def test_a_forgotten_check_out_is_capped_at_the_shift_end_and_flagged_a_no_show_recorded(w):
    start = timezone.now() - timedelta(hours=8)
    shift = make_shift(w["task"], starts_at=start, hours=4)
    came, absent = w["workers"][:2]
    for x in (came, absent):
        services.shift_signup(worker=x, shift_id=shift.pk, now=start - timedelta(days=1))
    services.attendance_scan(worker=came, token=w["task"].checkin_token,
                             now=start + timedelta(hours=1))
    assert services.shift_close_due() == 1
    s = Signup.objects.get(worker=came)
    assert s.checkout_capped and s.checked_out_at == shift.ends_at and s.minutes == 180
    assert Signup.objects.get(worker=absent).status == "no_show"
    assert services.shift_close_due() == 0  # once


def test_a_scan_out_of_the_radius_is_refused_without_a_position_it_counts(w):
    start = timezone.now() + timedelta(minutes=30)
    shift = make_shift(w["task"], starts_at=start)
    worker = w["workers"][0]
    services.shift_signup(worker=worker, shift_id=shift.pk, now=start - timedelta(days=1))
    with pytest.raises(Conflict) as err:
        services.attendance_scan(worker=worker, token=w["task"].checkin_token,
                                 lat=PLACE[0] + 0.01, lng=PLACE[1])  # ~1.1 km away
    assert err.value.code == "out_of_range"
    s = services.attendance_scan(worker=worker, token=w["task"].checkin_token)
    assert s.checked_in_at is not None and s.check_in_method == "qr"
    with pytest.raises(Conflict):  # another worker, no sign-up here
        services.attendance_scan(worker=w["workers"][1], token=w["task"].checkin_token)


def test_confirmation_pays_the_published_rule_once_however_often_it_is_retried(w):
    start = timezone.now() - timedelta(hours=3)
    shift = make_shift(w["task"], starts_at=start, hours=2)
    worker = w["workers"][0]
    s = services.shift_signup(worker=worker, shift_id=shift.pk, now=start - timedelta(days=1))
    services.attendance_mark(actor=w["organiser"], signup=s, action="check_in",
                             now=start + timedelta(minutes=5))
    services.attendance_mark(actor=w["organiser"], signup=s, action="check_out",
                             now=start + timedelta(hours=2))
    for _ in range(3):
        s = services.attendance_confirm(actor=w["organiser"], signup=s)
    assert s.points == 20 and s.minutes == 115
    assert LedgerTransaction.objects.filter(user=worker, action="volunteer_shift").count() == 1
    # even if the row's confirmation were lost, the ledger's key pays nothing twice
    Signup.objects.filter(pk=s.pk).update(confirmed_at=None)
    services.attendance_confirm(actor=w["organiser"], signup=s)
    assert LedgerTransaction.objects.filter(user=worker, action="volunteer_shift").count() == 1


def test_the_organiser_records_a_no_show_only_after_the_start(w):
    start = timezone.now() + timedelta(hours=1)
    shift = make_shift(w["task"], starts_at=start)
    s = services.shift_signup(worker=w["workers"][0], shift_id=shift.pk)
    with pytest.raises(Conflict):
        services.attendance_mark(actor=w["organiser"], signup=s, action="no_show")
    s = services.attendance_mark(actor=w["organiser"], signup=s, action="no_show",
                                 now=start + timedelta(minutes=20))
    assert s.status == "no_show"


def test_a_reminder_goes_once_before_the_shift(w):
    start = timezone.now() + timedelta(hours=3)
    shift = make_shift(w["task"], starts_at=start)
    worker = w["workers"][0]
    services.shift_signup(worker=worker, shift_id=shift.pk)
    assert services.shift_remind_due() == 1
    assert services.shift_remind_due() == 0
    sms = OutboxMessage.objects.get(purpose="volunteer_remind")
    assert sms.recipient == worker.mobile and w["task"].title in sms.body


def test_shift_bounds_are_refused(w):
    start = timezone.now() + timedelta(days=1)
    from warmstation.core.errors import InvalidInput

    for kwargs in ({"ends_at": start}, {"ends_at": start + timedelta(hours=25)},
                   {"ends_at": start + timedelta(hours=1), "capacity": 0}):
        with pytest.raises(InvalidInput):
            services.shift_create(actor=None, task=w["task"], starts_at=start,
                                  **{"capacity": 3, **kwargs})
