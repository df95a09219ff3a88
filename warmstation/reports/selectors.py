"""Reads: problems scoped by permissions.problem_visible_q, the same-problem candidates, a
problem's timeline, what the public may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.utils import timezone

from warmstation.core import geo
from warmstation.reports import workflow
from warmstation.reports.models import (
    Follower,
    Photo,
    Problem,
    ProblemEvent,
    ReportCategory,
    ReportSettings,
)
from warmstation.reports.permissions import capacities, photo_grant, problem_visible_q
from warmstation.reports.services import report_settings

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from warmstation.accounts.models import User

S = Problem.Status
SAME_STATUSES = (S.SUBMITTED, S.ACCEPTED, S.DISPATCHED)


@dataclass(frozen=True)
class Candidate:
    """An open problem near the place being reported: what the worker needs to judge it."""

    problem: Problem
    distance_m: float
    photo_id: int | None
    grant: str
    followers: int


def problem_list(*, user: User | AnonymousUser, status: str | None = None,
                 category: str | None = None, department_id: int | None = None,
                 area_code: str | None = None, overdue: bool | None = None, mine: bool = False,
                 now: datetime | None = None) -> QuerySet[Problem]:
    """Problems the user may see: waiting and overdue first, then oldest first (a queue)."""
    now = now or timezone.now()
    qs = Problem.objects.filter(problem_visible_q(user)).select_related(
        "category", "area", "department")
    if mine and user.is_authenticated:
        qs = qs.filter(pk__in=Follower.objects.filter(user_id=user.pk).values("problem_id"))
    if status == "open":
        qs = qs.filter(status__in=workflow.OPEN)
    elif status and status in Problem.Status.values:
        qs = qs.filter(status=status)
    if category and "\x00" not in category:
        qs = qs.filter(category__code=category)
    if department_id:
        qs = qs.filter(department_id=department_id)
    if area_code and "\x00" not in area_code:
        qs = qs.filter(area__path__contains=f"/{area_code[:32]}/")
    overdue_q = Q(status__in=(S.ACCEPTED, S.DISPATCHED), resolve_due__lt=now)
    if overdue is True:
        qs = qs.filter(overdue_q)
    elif overdue is False:
        qs = qs.exclude(overdue_q)
    qs = qs.annotate(is_overdue=Case(When(overdue_q, then=Value(True)), default=Value(False),
                                     output_field=BooleanField()))
    if mine:
        return qs.order_by("-created_at", "-id")
    return qs.order_by("-is_overdue", "created_at", "id")


def same_problem_candidates(*, viewer: User | AnonymousUser, category: ReportCategory,
                            lat: float, lng: float,
                            conf: ReportSettings | None = None) -> list[Candidate]:
    """At most `same_max` open problems of `category` within `same_radius_m` of the (WGS-84)
    place, nearest first — grid cells narrow the rows in the index, then exact distance.
    `conf`: the report settings, when the caller has read them already."""
    conf = report_settings() if conf is None else conf
    field, cells = geo.covering_cells(lat, lng, conf.same_radius_m)
    rows = list(Problem.objects.filter(**{f"{field}__in": cells}, category=category,
                                       status__in=SAME_STATUSES)
                .only("pk", "lat", "lng", "status", "created_at", "category_id",
                      "description", "address")[:500])
    near = geo.nearest(((p, p.lat, p.lng) for p in rows), lat, lng, conf.same_radius_m)
    chosen = [p for _d, p in near[:conf.same_max]]
    first_photo: dict[int | None, int] = {}
    for photo_id, problem_id in Photo.objects.filter(
            problem__in=chosen, kind=Photo.Kind.BEFORE).exclude(state=Photo.State.FAILED) \
            .order_by("-id") \
            .values_list("pk", "problem_id"):
        first_photo[problem_id] = photo_id
    counts: dict[int | None, int] = {}
    for problem_id in Follower.objects.filter(problem__in=chosen).values_list("problem_id",
                                                                              flat=True):
        counts[problem_id] = counts.get(problem_id, 0) + 1
    out = []
    for distance, p in near[:conf.same_max]:
        shown = first_photo.get(p.pk)
        out.append(Candidate(problem=p, distance_m=round(distance, 1), photo_id=shown,
                             grant=photo_grant(viewer, shown) if shown else "",
                             followers=counts.get(p.pk, 0)))
    return out


def problem_timeline(problem: Problem, *, public_only: bool = False) -> list[ProblemEvent]:
    qs = problem.events.select_related("department")
    if public_only:
        qs = qs.filter(public=True)
    return list(qs)


def problem_photos(problem: Problem, *, public_only: bool = False) -> list[Photo]:
    """A problem's photos; one that could not be decoded after its upload is left out."""
    qs = problem.photos.exclude(state=Photo.State.FAILED)
    if public_only:
        qs = qs.filter(is_public=True)
    return list(qs)


def available_actions(problem: Problem, viewer: User | AnonymousUser | None,
                      caps: set[str] | None = None) -> list[str]:
    """The actions `viewer` may take on `problem` now; `caps`, their capacities, when the
    caller has them already."""
    caps = capacities(viewer, problem) if caps is None else caps
    return [a for a, (src, _to, who) in workflow.TRANSITIONS.items()
            if problem.status in src and caps & who]


def public_problem_list(*, category: str | None = None) -> QuerySet[Problem]:
    """What anyone may see: filed problems (not merged, not rejected, not waiting), newest
    first, without a word about who reported them."""
    qs = Problem.objects.filter(status__in=workflow.PUBLIC).select_related("category", "area")
    if category and "\x00" not in category:
        qs = qs.filter(category__code=category)
    return qs.order_by("-created_at", "-id")


def category_list() -> QuerySet[ReportCategory]:
    return ReportCategory.objects.filter(is_active=True).order_by("sort", "code")
