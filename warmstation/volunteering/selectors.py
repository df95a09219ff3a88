"""Reads: tasks near a worker or in their areas with their coming shifts, a worker's shifts and
hours, the 四个一 figures."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from warmstation.core import geo
from warmstation.volunteering.models import Activity, Errand, Shift, Signup, VolunteerTask
from warmstation.volunteering.permissions import task_list

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from warmstation.accounts.models import User


def coming_shifts(now: datetime | None = None) -> Prefetch[Any]:
    now = now or timezone.now()
    return Prefetch("shifts", queryset=Shift.objects.filter(ends_at__gt=now).order_by(
        "starts_at", "id"), to_attr="coming")


def task_browse(*, user: User | AnonymousUser, area_paths: list[str] | None = None,
                kind: str | None = None, now: datetime | None = None
                ) -> QuerySet[VolunteerTask]:
    """Active tasks with a shift still to come, soonest first; in `area_paths` when given
    (a worker's areas: a task in a community or the street above it)."""
    now = now or timezone.now()
    qs = task_list(user).filter(is_active=True, shifts__ends_at__gt=now)
    if area_paths is not None:
        q = Q(pk__in=[])
        for path in area_paths:
            q |= Q(area__path__startswith=path)
            # the street or town above a worker's community runs tasks for it too
            parts = path.strip("/").split("/")
            for depth in range(1, len(parts)):
                q |= Q(area__path="/" + "/".join(parts[:depth]) + "/")
        qs = qs.filter(q)
    if kind in VolunteerTask.Kind.values:
        qs = qs.filter(kind=kind)
    from django.db.models import Min

    return (qs.annotate(next_start=Min("shifts__starts_at", filter=Q(shifts__ends_at__gt=now)))
            .prefetch_related(coming_shifts(now)).order_by("next_start", "id").distinct())


def task_nearby(*, user: User | AnonymousUser, lat: float, lng: float, radius_m: int = 5000,
                limit: int = 50, now: datetime | None = None) -> list[VolunteerTask]:
    """Active tasks with coming shifts within `radius_m`, nearest first (each with
    `distance_m`)."""
    south, west, north, east = geo.bbox(lat, lng, radius_m)
    rows = list(task_browse(user=user, now=now).filter(
        lat__gte=south, lat__lte=north, lng__gte=west, lng__lte=east)[:500])
    for t in rows:
        t.distance_m = round(geo.distance_m(lat, lng, t.lat, t.lng))  # type: ignore[attr-defined]
    rows = [t for t in rows if t.distance_m <= radius_m]  # type: ignore[attr-defined]
    rows.sort(key=lambda t: (t.distance_m, t.pk))  # type: ignore[attr-defined]
    return rows[:limit]


def coming_shift_count(user: User) -> int | None:
    """The worker home's badge on 志愿服务: shifts I hold a place in that have not ended."""
    n = Signup.objects.filter(worker=user, status=Signup.Status.PLACED,
                              shift__ends_at__gt=timezone.now(), checked_out_at=None).count()
    return n or None


def my_signups(user: User) -> QuerySet[Signup]:
    return (Signup.objects.filter(worker=user).select_related("shift__task__area")
            .order_by("-shift__starts_at", "-id"))


class Hours(TypedDict):
    confirmed_hours: float  # shifts and errands confirmed, what a record certifies
    confirmed_minutes: int
    pending_minutes: int
    shifts: int
    errand_minutes: int
    errands: int
    no_shows: int
    points: int


def my_hours(user: User) -> Hours:
    """A worker's volunteer time: confirmed (what a record certifies) and waiting for
    confirmation, shifts and errands, no-shows, points paid."""
    s = Signup.objects.filter(worker=user).aggregate(
        confirmed=Sum("minutes", filter=Q(confirmed_at__isnull=False)),
        pending=Sum("minutes", filter=Q(confirmed_at=None, checked_out_at__isnull=False)),
        shifts=Count("id", filter=Q(confirmed_at__isnull=False)),
        no_shows=Count("id", filter=Q(status=Signup.Status.NO_SHOW)),
        points=Sum("points"))
    e = Errand.objects.filter(taker=user, status=Errand.Status.CONFIRMED).aggregate(
        minutes=Sum("minutes"), n=Count("id"), points=Sum("points"))
    confirmed = (s["confirmed"] or 0) + (e["minutes"] or 0)
    return {"confirmed_hours": round(confirmed / 60, 1), "confirmed_minutes": s["confirmed"] or 0, "pending_minutes": s["pending"] or 0,
            "shifts": s["shifts"] or 0, "errand_minutes": e["minutes"] or 0,
            "errands": e["n"] or 0, "no_shows": s["no_shows"] or 0,
            "points": (s["points"] or 0) + (e["points"] or 0)}


def four_ones_figures(*, activities: QuerySet[Activity]) -> list[dict[str, Any]]:
    """People reached and activities held, by kind (the district's 四个一 figures)."""
    rows = activities.values("kind").annotate(n=Count("id"), reached=Sum("people_reached"))
    labels = dict(Activity.Kind.choices)
    by_kind: dict[str, dict[str, Any]] = {r["kind"]: dict(r) for r in rows}
    return [{"kind": k, "label": labels[k], "activities": by_kind.get(k, {}).get("n", 0),
             "reached": by_kind.get(k, {}).get("reached") or 0} for k in Activity.Kind.values]
