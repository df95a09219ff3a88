"""Deadlines of needs, in Asia/Shanghai time. The rule (docs/appeals-rates.md#deadlines):

- **Working days** are Monday–Friday, except the public holidays in WorkCalendarDay
  (working=False), plus the weekend days the official 调休 makes working (working=True).
- **Urgent dispatch** (1 hour): clock time, nights and weekends included — an emergency does
  not wait for the office to open.
- **General dispatch** (24 hours): hours of working days count in full, nights included; hours
  of non-working days do not. Friday 16:00 + 24 h = Monday 16:00; a need raised on Saturday
  is due on Tuesday 00:00.
- **Respond and answer limits** (per category, e.g. 16 hours): office hours, 09:00–17:00 of
  working days. Thursday 16:00 + 4 office hours = Friday 12:00.
- **Resolution limits** (per category; complex cases 15 days): working days, same time of day,
  counted from the next office time if the need arrived outside it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from warmstation.appeals.models import WorkCalendarDay
from warmstation.core.time import LOCAL

OFFICE_OPEN = time(9, 0)
OFFICE_CLOSE = time(17, 0)
_MAX_DAYS = 400  # a limit never spans more than this; guards against an all-holiday calendar


class Calendar:
    """Working days, with the district's exceptions loaded once for a window of dates."""

    def __init__(self, start: date, days: int = _MAX_DAYS) -> None:
        self.exceptions = dict(
            WorkCalendarDay.objects.filter(date__gte=start - timedelta(days=1),
                                           date__lte=start + timedelta(days=days))
            .values_list("date", "working"))

    def working(self, day: date) -> bool:
        return self.exceptions.get(day, day.weekday() < 5)


def _local(at: datetime) -> datetime:
    return at.astimezone(LOCAL)


def add_clock(start: datetime, *, minutes: int) -> datetime:
    return start + timedelta(minutes=minutes)


def add_working_day_hours(start: datetime, hours: int, cal: Calendar | None = None) -> datetime:
    """`hours` counted only on working days (all 24 hours of them)."""
    cal = cal or Calendar(_local(start).date())
    at, left = _local(start), timedelta(hours=hours)
    for _ in range(_MAX_DAYS):
        day_end = datetime.combine(at.date() + timedelta(days=1), time(0), LOCAL)
        if cal.working(at.date()):
            if at + left <= day_end:
                return at + left
            left -= day_end - at
        at = day_end
    raise ValueError("calendar has no working days")


def add_office_hours(start: datetime, hours: int, cal: Calendar | None = None) -> datetime:
    """`hours` of office time (09:00–17:00 on working days)."""
    cal = cal or Calendar(_local(start).date())
    at, left = _local(start), timedelta(hours=hours)
    for _ in range(_MAX_DAYS):
        opens = datetime.combine(at.date(), OFFICE_OPEN, LOCAL)
        closes = datetime.combine(at.date(), OFFICE_CLOSE, LOCAL)
        if cal.working(at.date()) and at < closes:
            at = max(at, opens)
            if at + left <= closes:
                return at + left
            left -= closes - at
        at = datetime.combine(at.date() + timedelta(days=1), time(0), LOCAL)
    raise ValueError("calendar has no working days")


def add_working_days(start: datetime, days: int, cal: Calendar | None = None) -> datetime:
    """`days` working days later at the same office time; from outside office hours the count
    starts at the next opening."""
    cal = cal or Calendar(_local(start).date())
    at = _local(start)
    opens = datetime.combine(at.date(), OFFICE_OPEN, LOCAL)
    closes = datetime.combine(at.date(), OFFICE_CLOSE, LOCAL)
    if not cal.working(at.date()) or at >= closes:
        at = _next_opening(at, cal)
    elif at < opens:
        at = opens
    for _ in range(days):
        at += timedelta(days=1)
        for _ in range(_MAX_DAYS):
            if cal.working(at.date()):
                break
            at += timedelta(days=1)
    return at


def _next_opening(at: datetime, cal: Calendar) -> datetime:
    day = at.date() + timedelta(days=1)
    for _ in range(_MAX_DAYS):
        if cal.working(day):
            return datetime.combine(day, OFFICE_OPEN, LOCAL)
        day += timedelta(days=1)
    raise ValueError("calendar has no working days")
