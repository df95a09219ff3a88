"""Who may see a case, and in which capacity. `access_case_by_id` is the one choke point for a
single case; `case_visible_q` scopes every list. Out of scope and missing look the same (404).

- the submitter sees their own cases (whatever roles they hold);
- a steward sees the cases they recorded for workers;
- department staff see the cases currently routed to their department;
- an area admin sees the cases of their area and below, a district admin all (through
  areas.scoping) — they are the dispatchers (派单人).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from warmstation.accounts.models import Role
from warmstation.appeals.models import Appeal
from warmstation.areas.scoping import area_in_scope, scope_q
from warmstation.core.errors import NotFound

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from warmstation.accounts.models import User

DISPATCHERS = (Role.AREA_ADMIN, Role.DISTRICT_ADMIN)


def department_ids(user: User | AnonymousUser | None) -> list[int]:
    if user is None or not user.is_authenticated:
        return []
    return [g.department_id for g in user.active_grants()
            if g.role == Role.DEPARTMENT and g.department_id]


def case_visible_q(user: User | AnonymousUser | None) -> Q:
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    q = Q(submitter=user)
    if user.has_role(Role.STEWARD):
        q |= Q(recorded_by=user)
    if ids := department_ids(user):
        q |= Q(department_id__in=ids)
    if user.has_role(*DISPATCHERS):
        q |= scope_q(user, field="area", roles=DISPATCHERS)
    return q


def capacities(user: User | AnonymousUser | None, appeal: Appeal) -> set[str]:
    """In which capacities `user` acts on `appeal`: submitter, recorder, department, dispatcher."""
    caps: set[str] = set()
    if user is None or not user.is_authenticated:
        return caps
    if appeal.submitter_id == user.pk:
        caps.add("submitter")
    if appeal.recorded_by_id == user.pk and user.has_role(Role.STEWARD, *DISPATCHERS):
        caps.add("recorder")
    if appeal.department_id and appeal.department_id in department_ids(user):
        caps.add("department")
    if user.has_role(*DISPATCHERS) and area_in_scope(user, appeal.area, roles=DISPATCHERS):
        caps.add("dispatcher")
    return caps


def access_case_by_id(user: User | AnonymousUser | None, appeal_id: int | str, *,
                      for_update: bool = False) -> Appeal:
    """The case if `user` may see it, else NotFound. With for_update the row is locked (the
    caller must be inside transaction.atomic)."""
    try:
        appeal_id = int(appeal_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    qs = Appeal.objects.filter(case_visible_q(user), pk=appeal_id)
    if for_update:
        # Check visibility first, then lock by primary key alone; `of=self` because PostgreSQL
        # refuses FOR UPDATE on the nullable side of the outer joins select_related makes.
        if not qs.exists():
            raise NotFound()
        qs = Appeal.objects.select_for_update(of=("self",)).filter(pk=appeal_id)
    appeal = qs.select_related("category", "area", "street", "department", "submitter",
                               "company", "meeting", "policy_answer").first()
    if appeal is None:
        raise NotFound()
    return appeal


access_appeal_by_id = access_case_by_id
