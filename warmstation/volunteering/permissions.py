"""Who may see and change volunteer tasks, shifts, sign-ups, errands, activities and records.
One choke point per object a URL can name; out of scope and missing look the same (404).

- Tasks are calls for volunteers: any signed-in worker reads an active task and its shifts.
  Changing one (shifts, roster, check-in desk, confirmation) needs an organiser, area admin or
  district admin whose area covers the task's (areas.scoping).
- A sign-up is seen by its worker and by the organisers covering its task.
- An errand is seen by the community staff covering its area, by the resident it is for, by
  verified workers while it is open (without the resident's details), and by the worker who
  took it; only that worker sees who and where the resident is, and only until it is done
  (`can_see_resident`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from warmstation.accounts.models import Role
from warmstation.areas.scoping import area_in_scope, scope_q
from warmstation.core.errors import NotFound
from warmstation.core.inputs import id_or_404
from warmstation.volunteering.models import (
    Activity,
    Errand,
    ServiceRecord,
    Shift,
    Signup,
    VolunteerTask,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from warmstation.accounts.models import User
    from warmstation.areas.models import Area

    Viewer = User | AnonymousUser | None

ORGANISERS = (Role.ORGANISER, Role.AREA_ADMIN, Role.DISTRICT_ADMIN)
# Community staff who post errands for residents and verify the workers who run them.
ERRAND_STAFF = ORGANISERS


def _signed_in(user: Viewer) -> bool:
    return user is not None and user.is_authenticated


def organises(user: Viewer, area: Area) -> bool:
    return _signed_in(user) and area_in_scope(user, area, roles=ORGANISERS)


def task_managed_q(user: Viewer) -> Q:
    return scope_q(user, field="area", roles=ORGANISERS)


def task_visible_q(user: Viewer) -> Q:
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    q = task_managed_q(user)
    if user.has_role(Role.WORKER):
        q |= Q(is_active=True)
    return q


def task_list(user: Viewer, *, managed: bool = False) -> QuerySet[VolunteerTask]:
    q = task_managed_q(user) if managed else task_visible_q(user)
    return VolunteerTask.objects.filter(q).select_related("area")


def access_task_by_id(user: Viewer, task_id: int | str, *,
                      for_change: bool = False) -> VolunteerTask:
    q = task_managed_q(user) if for_change else task_visible_q(user)
    task = VolunteerTask.objects.filter(q, pk=id_or_404(task_id)).select_related("area").first()
    if task is None:
        raise NotFound()
    return task


def access_shift_by_id(user: Viewer, shift_id: int | str, *, for_change: bool = False) -> Shift:
    q = task_managed_q(user) if for_change else task_visible_q(user)
    shift = (Shift.objects.filter(pk=id_or_404(shift_id),
                                  task__in=VolunteerTask.objects.filter(q))
             .select_related("task__area").first())
    if shift is None:
        raise NotFound()
    return shift


def signup_visible_q(user: Viewer) -> Q:
    if not _signed_in(user):
        return Q(pk__in=[])
    return Q(worker=user) | Q(shift__task__in=VolunteerTask.objects.filter(task_managed_q(user)))


def access_signup_by_id(user: Viewer, signup_id: int | str, *,
                        for_change: bool = False) -> Signup:
    """for_change: the organiser's desk (check-in/out, no-show, confirm). Otherwise the worker
    (their own sign-up: cancel) or an organiser covering it."""
    q = Q(shift__task__in=VolunteerTask.objects.filter(task_managed_q(user))) if for_change \
        else signup_visible_q(user)
    signup = (Signup.objects.filter(q, pk=id_or_404(signup_id))
              .select_related("shift__task__area", "worker").first())
    if signup is None:
        raise NotFound()
    return signup


def own_signup(user: Viewer, signup_id: int | str) -> Signup:
    """The worker's own sign-up (what a worker may cancel)."""
    signup = (Signup.objects.filter(pk=id_or_404(signup_id),
                                    worker_id=getattr(user, "pk", None) or -1)
              .select_related("shift__task").first())
    if signup is None or not _signed_in(user):
        raise NotFound()
    return signup


def roster_list(user: Viewer, shift: Shift) -> QuerySet[Signup]:
    return (Signup.objects.filter(signup_visible_q(user), shift=shift)
            .select_related("worker").order_by("status", "waitlisted_at", "id"))


# --- errands ----------------------------------------------------------------------------------

def errand_visible_q(user: Viewer) -> Q:
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    q = scope_q(user, field="area", roles=ERRAND_STAFF) | Q(taker=user)
    if user.has_role(Role.RESIDENT):
        q |= Q(resident=user)
    if user.has_role(Role.WORKER) and errand_verified(user):
        q |= Q(status=Errand.Status.OPEN)
    return q


def errand_verified(user: Viewer) -> bool:
    from warmstation.volunteering.models import VolunteerProfile

    if user is None or not user.is_authenticated:
        return False
    return VolunteerProfile.objects.filter(user_id=user.pk,
                                           errand_verified_at__isnull=False).exists()


def errand_list(user: Viewer) -> QuerySet[Errand]:
    return Errand.objects.filter(errand_visible_q(user)).select_related("area", "taker")


def access_errand_by_id(user: Viewer, errand_id: int | str, *,
                        for_change: bool = False) -> Errand:
    """for_change: community staff covering the errand's area (cancel, confirm for a resident
    without an account)."""
    q = scope_q(user, field="area", roles=ERRAND_STAFF) if for_change else errand_visible_q(user)
    errand = Errand.objects.filter(q, pk=id_or_404(errand_id)).select_related("area").first()
    if errand is None:
        raise NotFound()
    return errand


def can_see_resident(user: Viewer, errand: Errand) -> bool:
    """The resident's name, address and phone: only the worker who took the errand, and only
    while it is not yet done (the resident sees their own errand, of course)."""
    if user is None or not user.is_authenticated:
        return False
    if errand.resident_id is not None and errand.resident_id == user.pk:
        return True
    return errand.taker_id == user.pk and errand.status == Errand.Status.TAKEN


# --- activities and records -------------------------------------------------------------------

def activity_list(user: Viewer) -> QuerySet[Activity]:
    return Activity.objects.filter(scope_q(user, field="area", roles=ORGANISERS)) \
        .select_related("area", "station")


def record_list(user: Viewer) -> QuerySet[ServiceRecord]:
    if user is None or not user.is_authenticated:
        return ServiceRecord.objects.none()
    return ServiceRecord.objects.filter(worker=user).select_related("issuer")


def access_record_by_id(user: Viewer, record_id: int | str) -> ServiceRecord:
    """The worker's own record (download, revoke); district admins may revoke any."""
    if user is None or not user.is_authenticated:
        raise NotFound()
    q = Q(worker=user)
    if user.has_role(Role.DISTRICT_ADMIN):
        q = Q()
    record = ServiceRecord.objects.filter(q, pk=id_or_404(record_id)) \
        .select_related("issuer", "worker").first()
    if record is None:
        raise NotFound()
    return record
