"""Is a place open at a moment? Evaluated in the district's local time (Asia/Shanghai), with
overnight spans (18:00–02:00 belongs to the day it opens), 24-hour places, date exceptions
(holidays) and temporary closure. Pure functions over plain data, so stations and merchants
share them and tests need no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils.translation import gettext, gettext_lazy

from warmstation.core.time import LOCAL

WEEKDAY_LABELS = (gettext_lazy("周一"), gettext_lazy("周二"), gettext_lazy("周三"),
                  gettext_lazy("周四"), gettext_lazy("周五"), gettext_lazy("周六"),
                  gettext_lazy("周日"))


@dataclass(frozen=True)
class Span:
    opens: time
    closes: time

    @property
    def overnight(self) -> bool:
        return self.closes <= self.opens


@dataclass
class Schedule:
    weekly: dict[int, list[Span]] = field(default_factory=dict)   # 0 = Monday
    # date → None (closed all day) or the one span that replaces the weekday's
    exceptions: dict[date, Span | None] = field(default_factory=dict)
    is_24h: bool = False
    closed: bool = False  # temporarily closed

    def spans_on(self, day: date) -> list[Span]:
        if day in self.exceptions:
            span = self.exceptions[day]
            return [span] if span else []
        return self.weekly.get(day.weekday(), [])

    def is_open(self, at: datetime) -> bool:
        if self.closed:
            return False
        local = at.astimezone(LOCAL)
        today, now = local.date(), local.time()
        if self.is_24h:
            return not (today in self.exceptions and self.exceptions[today] is None)
        for span in self.spans_on(today):
            if span.overnight:
                if now >= span.opens:
                    return True
            elif span.opens <= now < span.closes:
                return True
        # The tail of yesterday's overnight spans (e.g. 00:30 inside 18:00–02:00).
        return any(span.overnight and now < span.closes
                   for span in self.spans_on(today - timedelta(days=1)))


def describe(span: Span) -> str:
    next_day = gettext("次日") if span.overnight and span.closes != time(0) else ""
    end = f"{next_day}{span.closes:%H:%M}"
    if span.closes == time(0):
        end = "24:00"
    return f"{span.opens:%H:%M}–{end}"


_DAY = 24 * 60
_WEEK = 7 * _DAY


def _minutes(at: time) -> int:
    return at.hour * 60 + at.minute


def overlapping(spans: list[tuple[int, Span]]) -> tuple[int, Span, Span] | None:
    """The first two weekly spans that are the same or overlap — on one day, or an overnight
    span running into the next day's first (Sunday's into Monday's) — as (weekday of the
    later-listed, earlier span, later span); None when they are all apart. Touching ends
    (08:00–12:00 and 12:00–18:00) do not overlap. 00:00–00:00 is the whole day."""
    intervals = []
    for weekday, span in spans:
        start = weekday * _DAY + _minutes(span.opens)
        end = weekday * _DAY + _minutes(span.closes) + (_DAY if span.overnight else 0)
        intervals.append((weekday, span, start, end))
    for i, (_wa, a, a_start, a_end) in enumerate(intervals):
        for wb, b, b_start, b_end in intervals[i + 1:]:
            for shift in (-_WEEK, 0, _WEEK):
                if a_start < b_end + shift and b_start + shift < a_end:
                    return wb, a, b
    return None
