"""open_now in Asia/Shanghai: daytime, overnight spans, 24-hour, exceptions, closure."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from warmstation.core.schedule import Schedule, Span, describe

SH = ZoneInfo("Asia/Shanghai")
# 2026-11-30 is a Monday (weekday 0).
MON = date(2026, 11, 30)


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, 30 + day, hh, mm, tzinfo=SH) if day < 1 else \
        datetime(2026, 12, day, hh, mm, tzinfo=SH)


def test_daytime_span():
    s = Schedule(weekly={0: [Span(time(9), time(21))]})
    assert not s.is_open(at(0, 8, 59))
    assert s.is_open(at(0, 9))
    assert s.is_open(at(0, 20, 59))
    assert not s.is_open(at(0, 21))


def test_overnight_span_belongs_to_the_day_it_opens():
    # Monday 18:00 – Tuesday 02:00; nothing on Tuesday itself.
    s = Schedule(weekly={0: [Span(time(18), time(2))]})
    assert s.is_open(at(0, 23, 30))
    assert s.is_open(at(1, 1, 59))     # Tuesday 01:59, the tail of Monday's span
    assert not s.is_open(at(1, 2))
    assert not s.is_open(at(1, 19))    # Tuesday evening: Tuesday has no span
    assert not s.is_open(at(0, 1))     # Monday 01:00: Sunday had no span


def test_open_now_is_evaluated_in_shanghai_time():
    s = Schedule(weekly={0: [Span(time(9), time(21))]})
    # 01:30 UTC on Monday is 09:30 in Shanghai.
    assert s.is_open(datetime(2026, 11, 30, 1, 30, tzinfo=ZoneInfo("UTC")))
    assert not s.is_open(datetime(2026, 11, 30, 0, 30, tzinfo=ZoneInfo("UTC")))


def test_24_hour_station_and_its_exceptions():
    s = Schedule(is_24h=True)
    assert s.is_open(at(0, 3)) and s.is_open(at(0, 15))
    s.exceptions[MON] = None  # closed for the day
    assert not s.is_open(at(0, 15))
    assert s.is_open(at(1, 15))


def test_all_day_span_and_holiday_hours():
    s = Schedule(weekly={d: [Span(time(0), time(0))] for d in range(7)})
    assert s.is_open(at(0, 0)) and s.is_open(at(0, 23, 59))
    s.exceptions[MON] = Span(time(10), time(14))  # shorter on the holiday
    assert not s.is_open(at(0, 9)) and s.is_open(at(0, 12))


def test_temporarily_closed_wins():
    s = Schedule(is_24h=True, closed=True)
    assert not s.is_open(at(0, 12))


@pytest.mark.parametrize("span, text", [
    (Span(time(9), time(21)), "09:00–21:00"),
    (Span(time(18), time(2)), "18:00–次日02:00"),
    (Span(time(0), time(0)), "00:00–24:00"),
])
def test_describe(span, text):
    assert describe(span) == text
