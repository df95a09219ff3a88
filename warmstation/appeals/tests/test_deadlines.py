"""Deadlines across nights, weekends and the district's holiday calendar (Asia/Shanghai)."""

from datetime import date, datetime

import pytest

from warmstation.appeals import deadlines as d
from warmstation.appeals.models import WorkCalendarDay

pytestmark = pytest.mark.django_db


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    # November 2026: the 26th is a Thursday, 27th Friday, 28th Saturday, 30th Monday.
    return datetime(2026, month, day, hour, minute, tzinfo=d.LOCAL)


@pytest.mark.parametrize("start, hours, due", [
    (at(26, 10), 24, at(27, 10)),            # Thursday → Friday, the night counts
    (at(27, 16), 24, at(30, 16)),            # Friday 16:00 → Monday 16:00: weekend skipped
    (at(28, 10), 24, datetime(2026, 12, 1, 0, 0, tzinfo=d.LOCAL)),  # from Saturday
    (at(26, 23, 30), 1, at(27, 0, 30)),      # across midnight on working days
])
def test_general_dispatch_counts_working_day_hours(start, hours, due):
    assert d.add_working_day_hours(start, hours) == due


@pytest.mark.parametrize("start, hours, due", [
    (at(26, 16), 4, at(27, 12)),             # 1 h Thursday, 3 h Friday morning
    (at(27, 16), 4, at(30, 12)),             # Friday afternoon → Monday noon
    (at(25, 20), 2, at(26, 11)),             # raised at night: counts from 09:00
    (at(28, 15), 8, at(30, 17)),             # raised on Saturday: Monday's whole office day
    (at(26, 7), 16, at(27, 17)),             # before opening: two office days
])
def test_answer_limits_count_office_hours(start, hours, due):
    assert d.add_office_hours(start, hours) == due


@pytest.mark.parametrize("start, days, due", [
    (at(27, 16), 1, at(30, 16)),
    (at(28, 10), 5, datetime(2026, 12, 7, 9, 0, tzinfo=d.LOCAL)),
    (at(26, 18), 15, datetime(2026, 12, 18, 9, 0, tzinfo=d.LOCAL)),  # complex case, 15 days
])
def test_resolution_limits_count_working_days(start, days, due):
    assert d.add_working_days(start, days) == due


def test_holidays_and_adjusted_working_weekends():
    WorkCalendarDay.objects.create(date=date(2026, 11, 30), working=False, name="假日")
    WorkCalendarDay.objects.create(date=date(2026, 11, 28), working=True, name="调休上班")
    # Friday 16:00 + 24 h: Friday's last 8 hours, then Saturday (a 调休 working day) 16 hours.
    assert d.add_working_day_hours(at(27, 16), 24) == at(28, 16)
    # Office hours skip the Monday holiday: Saturday 16:00 + 4 h → Tuesday 12:00.
    assert d.add_office_hours(at(28, 16), 4) == datetime(2026, 12, 1, 12, 0, tzinfo=d.LOCAL)


def test_urgent_dispatch_is_clock_time():
    assert d.add_clock(at(28, 23, 30), minutes=60) == at(29, 0, 30)
