"""Reads: case lists scoped by permissions.case_visible_q, a case's timeline, what a viewer may
see of the submitter."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from django.db.models import BooleanField, Case, F, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext

from warmstation.appeals.models import Appeal, AppealEvent
from warmstation.appeals.permissions import capacities, case_visible_q
from warmstation.appeals.workflow import OPEN, PENDING, TRANSITIONS
from warmstation.core.masking import mask_mobile, mask_name

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from warmstation.accounts.models import User


class SubmitterLabel(TypedDict):
    """What a viewer may see of who raised a case."""

    name: str
    mobile: str
    hidden: bool


def appeal_list(*, user: User, status: str | None = None, department_id: int | None = None,
                category: str | None = None, overdue: bool | None = None,
                urgent: bool | None = None, mine: bool = False, q: str | None = None,
                now: datetime | None = None) -> QuerySet[Appeal]:
    """Cases the user may see: open first, overdue → urgent → nearest deadline, then newest."""
    now = now or timezone.now()
    qs = Appeal.objects.filter(case_visible_q(user)).select_related(
        "category", "area", "street", "department", "submitter", "company")
    if mine:
        qs = qs.filter(submitter=user)
    if status == "open":
        qs = qs.filter(status__in=OPEN)
    elif status in Appeal.Status.values:
        qs = qs.filter(status=status)
    if department_id:
        qs = qs.filter(department_id=department_id)
    if category and "\x00" not in category:
        qs = qs.filter(category__code=category)
    if urgent is not None:
        qs = qs.filter(urgent=urgent)
    overdue_q = Q(status__in=OPEN, current_due__lt=now)
    if overdue is True:
        qs = qs.filter(overdue_q)
    elif overdue is False:
        qs = qs.exclude(overdue_q)
    if q and "\x00" not in q:
        qs = qs.filter(Q(title__icontains=q[:50]) | Q(body__icontains=q[:50]))
    # Triage order: cases still waiting for staff (PENDING) before answered and closed ones;
    # among them overdue, then urgent, then the nearest deadline (none last); then newest.
    return qs.annotate(
        is_open=Case(When(status__in=PENDING, then=Value(True)), default=Value(False),
                     output_field=BooleanField()),
        is_overdue=Case(When(overdue_q, then=Value(True)), default=Value(False),
                        output_field=BooleanField()),
    ).order_by("-is_open", "-is_overdue", "-urgent", F("current_due").asc(nulls_last=True),
               "-created_at", "-id")


def appeal_timeline(appeal: Appeal) -> list[AppealEvent]:
    return list(appeal.events.select_related("actor", "department")
                .prefetch_related("attachments"))


def submitter_label(appeal: Appeal, viewer: User | AnonymousUser | None) -> SubmitterLabel:
    """What `viewer` may see of who raised the case: the dispatcher and the submitter see the
    person; a department sees a masked name and the mobile it needs to call back, or nothing at
    all if the worker asked to stay anonymous to the department; others see a masked form."""
    if appeal.submitter is None:
        company = appeal.company.name_zh if appeal.company else ""
        return {"name": company or "座谈会", "mobile": "", "hidden": False}
    person = appeal.submitter
    if person.closed_at:  # the account was closed: the case stays, nobody is named
        return {"name": gettext("已注销"), "mobile": "", "hidden": False}
    caps = capacities(viewer, appeal)
    if caps & {"submitter", "dispatcher"}:
        return {"name": person.real_name, "mobile": person.mobile, "hidden": False}
    if "department" in caps and appeal.hide_from_department:
        return {"name": "匿名", "mobile": "", "hidden": True}
    if "department" in caps:
        return {"name": mask_name(person.real_name), "mobile": person.mobile, "hidden": False}
    return {"name": mask_name(person.real_name), "mobile": mask_mobile(person.mobile),
            "hidden": False}


def available_actions(appeal: Appeal, viewer: User | AnonymousUser | None) -> list[str]:
    caps = capacities(viewer, appeal)
    allowed = [a for a, (src, _, who) in TRANSITIONS.items()
               if appeal.status in src and caps & who]
    return sorted(allowed, key=ACTION_ORDER.index)


# The order a case page offers its actions: the next expected step of the workflow first (签收
# before 转派, 答复 before 退回), then a note, then the side roads and the ones that undo.
ACTION_ORDER = ["dispatch", "accept", "start", "answer", "rate", "followup", "close", "reopen",
                "note", "urgent", "transfer", "return", "merge"]


def appeal_open_count(user: User) -> int:
    """How many of the user's own needs are still open (the badge on the worker home's tile)."""
    return Appeal.objects.filter(submitter=user, status__in=OPEN).count()
