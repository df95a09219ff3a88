"""Helpers for volunteering tests: tasks and shifts through the real services."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from tests.factories import as_level, make_user
from warmstation.accounts.models import AuthLevel, Role
from warmstation.volunteering import services
from warmstation.volunteering.models import Shift, VolunteerTask

# 伊林郡社区 (拱辰街道), where the tree's worker works.
PLACE = (39.7207, 116.1101)


def make_organiser(area):
    return as_level(make_user(Role.ORGANISER, area), AuthLevel.PASSWORD)


def make_task(area, *, organiser=None, title: str = "社区检查岗值守", kind: str = "checkpoint",
              radius: int = 200, lat: float = PLACE[0], lng: float = PLACE[1]) -> VolunteerTask:
    return services.task_save(actor=organiser, task=VolunteerTask(), area=area, kind=kind,
                              title=title, place_name="伊林郡小区北门", lat=lat, lng=lng,
                              checkin_radius_m=radius)


def make_shift(task, *, starts_at: datetime | None = None, hours: float = 4,
               capacity: int = 3, cancel_deadline: datetime | None = None,
               now: datetime | None = None) -> Shift:
    starts_at = starts_at or timezone.now() + timedelta(days=1)
    return services.shift_create(actor=None, task=task, starts_at=starts_at,
                                 ends_at=starts_at + timedelta(hours=hours), capacity=capacity,
                                 cancel_deadline=cancel_deadline,
                                 now=now or starts_at - timedelta(days=2))
