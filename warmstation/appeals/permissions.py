"""Who may see a case, and in which capacity. `access_case_by_id` is the one choke point for a
single case; `case_visible_q` scopes every list. Out of scope and missing look the same (404).

- the submitter sees their own cases (whatever roles they hold);
- a steward sees the cases they recorded for workers;
- department staff see the cases currently routed to their department;
- an area admin sees the cases of their area and below, a district admin all (through
  areas.scoping) — they are the dispatchers (派单人).

Child objects go through the case: a timeline photo (`access_attachment_by_id`) is seen by whoever
sees its case. The policy Q&A (`access_policy_answer_by_id`) is read by anyone signed in and
changed only by the department that owns the answer, or a district admin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from warmstation.accounts.models import Role
from warmstation.appeals.models import Appeal, AppealAttachment, Category, Department, PolicyAnswer
from warmstation.areas.scoping import area_in_scope, scope_q
from warmstation.core.errors import NotFound
from warmstation.core.inputs import id_or_404

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




def access_attachment_by_id(user: User | AnonymousUser | None, attachment_id: int | str) -> AppealAttachment:
    """A photo on a case's timeline, for whoever may see the case (the file itself is not under
    the public /media/: case photos are personal)."""
    attachment = (AppealAttachment.objects
                  .filter(pk=id_or_404(attachment_id))
                  .filter(event__appeal__in=Appeal.objects.filter(case_visible_q(user)))
                  .select_related("event").first())
    if attachment is None:
        raise NotFound()
    return attachment


# --- the policy Q&A (政策问答) and the categories ------------------------------------------------

def own_department(user: User | AnonymousUser | None) -> Department | None:
    """The department a new policy answer belongs to: the author's (department staff); none for
    a district admin (then only district admins change it)."""
    ids = department_ids(user)
    return Department.objects.filter(pk=ids[0]).first() if ids else None


def can_change_policy_answer(user: User | AnonymousUser | None, answer: PolicyAnswer) -> bool:
    if user is None or not user.is_authenticated:
        return False
    if user.has_role(Role.DISTRICT_ADMIN):
        return True
    return bool(answer.department_id) and answer.department_id in department_ids(user) \
        and user.has_role(Role.DEPARTMENT)


def access_policy_answer_by_id(user: User | AnonymousUser | None, answer_id: int | str, *,
                               for_change: bool = False) -> PolicyAnswer:
    """Reading: an active answer (or one the user may change). Changing: the department that owns
    it, or a district admin. Anything else looks missing."""
    answer = PolicyAnswer.objects.filter(pk=id_or_404(answer_id)).first()
    if answer is None or not getattr(user, "is_authenticated", False):
        raise NotFound()
    if (for_change or not answer.is_active) and not can_change_policy_answer(user, answer):
        raise NotFound()
    return answer


def access_category_by_code(user: User | AnonymousUser | None, code: str, *,
                            for_change: bool = False) -> Category:
    """Categories are read by anyone signed in (active ones); only a district admin changes
    one (their limits are the district's rules)."""
    if user is None or not user.is_authenticated or not code or "\x00" in code or \
            len(code) > 32:
        raise NotFound()
    category = Category.objects.filter(code=code).first()
    if category is None or (for_change and not user.has_role(Role.DISTRICT_ADMIN)) or \
            (not for_change and not category.is_active):
        raise NotFound()
    return category
