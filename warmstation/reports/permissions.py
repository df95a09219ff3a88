"""Who may see a street problem, and in which capacity. `access_problem_by_id` is the one
choke point for a problem; `problem_visible_q` scopes every list; out of scope and missing look
the same (404).

- followers (the first reporter and everyone who said 我也遇到) see the problems they follow;
- the command centre (城管指挥中心), area admins and district admins see the problems of their
  area and below — they triage (受理/立案/派遣/结案);
- department staff see the problems dispatched to their department, and resolve them.

A photo (`access_photo_by_id`) is seen by its uploader and by whoever sees its problem; the
public sees only a photo staff marked public. The "same problem" prompt shows a worker other
people's photos through a short-lived signed grant (`photo_grant`) made by the selector that
chose those problems.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core import signing
from django.db.models import Q

from warmstation.accounts.models import Role
from warmstation.appeals.permissions import department_ids
from warmstation.areas.scoping import area_in_scope, scope_q
from warmstation.core.errors import NotFound
from warmstation.core.inputs import id_or_404
from warmstation.reports.models import Follower, Open311Client, Photo, Problem

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from warmstation.accounts.models import User

TRIAGERS = (Role.COMMAND_CENTRE, Role.AREA_ADMIN, Role.DISTRICT_ADMIN)
STAFF = (Role.COMMAND_CENTRE, Role.DEPARTMENT, Role.AREA_ADMIN, Role.DISTRICT_ADMIN)
GRANT_SECONDS = 15 * 60
_GRANT_SALT = "reports.photo-grant"


def problem_visible_q(user: User | AnonymousUser | None) -> Q:
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    q = Q(pk__in=Follower.objects.filter(user=user).values("problem_id"))
    if ids := department_ids(user):
        q |= Q(department_id__in=ids)
    if user.has_role(*TRIAGERS):
        q |= scope_q(user, field="area", roles=TRIAGERS)
    return q


def capacities(user: User | AnonymousUser | None, problem: Problem, *,
               follower_kind: str | None = None) -> set[str]:
    """follower, reporter (the first one), department, triager. `follower_kind`: how `user`
    follows `problem` when the caller knows it already (the reporter of a problem just filed),
    instead of reading it."""
    caps: set[str] = set()
    if user is None or not user.is_authenticated:
        return caps
    kind = follower_kind or Follower.objects.filter(problem=problem, user=user).values_list(
        "kind", flat=True).first()
    if kind is not None:
        caps.add("follower")
        if kind == Follower.Kind.REPORTER:
            caps.add("reporter")
    if problem.department_id and problem.department_id in department_ids(user):
        caps.add("department")
    if user.has_role(*TRIAGERS) and area_in_scope(user, problem.area, roles=TRIAGERS):
        caps.add("triager")
    return caps


def access_problem_by_id(user: User | AnonymousUser | None, problem_id: int | str, *,
                         for_update: bool = False) -> Problem:
    """The problem if `user` may see it, else NotFound. With for_update the row is locked (the
    caller must be inside transaction.atomic)."""
    pk = id_or_404(problem_id)
    qs = Problem.objects.filter(problem_visible_q(user), pk=pk)
    if for_update:
        # Visibility first, then the lock by primary key alone (`of=self`: PostgreSQL refuses
        # FOR UPDATE on the nullable side of select_related's outer joins).
        if not qs.exists():
            raise NotFound()
        qs = Problem.objects.select_for_update(of=("self",)).filter(pk=pk)
    problem = qs.select_related("category", "area", "department", "merged_into").first()
    if problem is None:
        raise NotFound()
    return problem


def photo_grant(user: User | AnonymousUser | None, photo_id: int) -> str:
    """A token letting `user` see one photo for GRANT_SECONDS (the same-problem prompt)."""
    return signing.dumps({"p": photo_id, "u": getattr(user, "pk", None)}, salt=_GRANT_SALT,
                         compress=True)


def _granted(user: User | AnonymousUser | None, photo_id: int, grant: str) -> bool:
    if not grant or len(grant) > 200:
        return False
    try:
        data = signing.loads(grant, salt=_GRANT_SALT, max_age=GRANT_SECONDS)
    except signing.BadSignature:
        return False
    return bool(data.get("p") == photo_id and data.get("u") == getattr(user, "pk", None))


def access_photo_by_id(user: User | AnonymousUser | None, photo_id: int | str, *,
                       grant: str = "") -> Photo:
    """A problem's photo for its uploader, whoever may see its problem, the holder of a grant
    for it; a public photo of a public problem for anyone. Anything else looks missing."""
    from warmstation.reports.workflow import PUBLIC

    pk = id_or_404(photo_id)
    photo = Photo.objects.filter(pk=pk).select_related("problem").first()
    if photo is None:
        raise NotFound()
    authenticated = bool(user is not None and user.is_authenticated)
    if authenticated and photo.uploader_id == getattr(user, "pk", None):
        return photo
    if photo.problem_id is None:
        raise NotFound()
    if photo.is_public and photo.problem is not None and photo.problem.status in PUBLIC:
        return photo
    if authenticated and _granted(user, pk, grant):
        return photo
    if authenticated and Problem.objects.filter(problem_visible_q(user),
                                                pk=photo.problem_id).exists():
        return photo
    raise NotFound()


def access_public_problem_by_id(problem_id: int | str) -> Problem:
    """A problem as the public sees it (filed, not merged): anyone."""
    from warmstation.reports.workflow import PUBLIC

    problem = Problem.objects.filter(pk=id_or_404(problem_id), status__in=PUBLIC) \
        .select_related("category", "area").first()
    if problem is None:
        raise NotFound()
    return problem


def access_client_by_id(user: User | AnonymousUser | None, client_id: int | str) -> Open311Client:
    """Open311 clients are the district admin's to issue and revoke."""
    if user is None or not user.is_authenticated or not user.has_role(Role.DISTRICT_ADMIN):
        raise NotFound()
    client = Open311Client.objects.filter(pk=id_or_404(client_id)).first()
    if client is None:
        raise NotFound()
    return client
