"""Reads: a flat's calendar (which nights are taken — never by whom), the desk's bookings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from warmstation.housing.models import Booking, Flat, FlatNight

CALENDAR_DAYS_MAX = 120


@dataclass(frozen=True)
class Night:
    day: date
    taken: bool
    past: bool


def flat_taken_nights(flat: Flat, start: date, end: date) -> set[date]:
    return set(FlatNight.objects.filter(flat=flat, night__gte=start, night__lt=end)
               .values_list("night", flat=True))


def flat_calendar(flat: Flat, *, start: date | None = None, days: int = 56) -> list[Night]:
    """The nights start .. start + days - 1 (at most CALENDAR_DAYS_MAX), each taken or free."""
    today = timezone.localdate()
    start = start or today
    days = max(1, min(days, CALENDAR_DAYS_MAX))
    taken = flat_taken_nights(flat, start, start + timedelta(days=days))
    return [Night(day=d, taken=d in taken, past=d < today)
            for d in (start + timedelta(days=i) for i in range(days))]


def calendar_weeks(nights: list[Night]) -> list[list[Night | None]]:
    """The nights laid out Monday-first in weeks (None pads the first and last week)."""
    if not nights:
        return []
    cells: list[Night | None] = [None] * nights[0].day.weekday() + list(nights)
    cells += [None] * (-len(cells) % 7)
    return [cells[i:i + 7] for i in range(0, len(cells), 7)]


def desk_bookings(bookings: QuerySet[Booking], *, upcoming: bool = True) -> QuerySet[Booking]:
    """The bookings a desk works on: those still holding nights, soonest first; or all."""
    if upcoming:
        return bookings.filter(status__in=(Booking.Status.BOOKED, Booking.Status.CHECKED_IN)) \
            .order_by("check_in", "id")
    return bookings.order_by("-check_in", "-id")
