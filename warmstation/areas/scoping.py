"""Area scoping — THE choke point every app uses to decide which areas a person covers.

A grant on an area covers that area and every area below it (its `path` prefix). A district
admin's grant is on the district root, so it covers everything. Out-of-scope objects must look
missing: callers raise NotFound, never a distinct "forbidden".
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from warmstation.accounts.models import Role
from warmstation.areas.models import Area
from warmstation.core.errors import NotFound

# Roles that manage an area's data (stations, contacts, groups, notices …).
MANAGING_ROLES = (Role.AREA_ADMIN, Role.DISTRICT_ADMIN)


def scope_paths(user, roles: Iterable[str] = MANAGING_ROLES) -> list[str]:
    """The area paths the user covers through active grants of any of `roles`, with paths
    already covered by a shorter one dropped."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    roles = set(roles)
    paths = sorted({g.area.path for g in user.active_grants() if g.role in roles})
    kept: list[str] = []
    for path in paths:
        if not any(path.startswith(k) for k in kept):
            kept.append(path)
    return kept


def scope_q(user, *, field: str = "area", roles: Iterable[str] = MANAGING_ROLES) -> Q:
    """A Q that keeps rows whose `field` (an Area foreign key, or "" for Area itself) lies in
    the user's scope. Empty scope → a Q that matches nothing."""
    prefix = f"{field}__path" if field else "path"
    q = Q(pk__in=[])
    for path in scope_paths(user, roles):
        q |= Q(**{f"{prefix}__startswith": path})
    return q


def scope_queryset(
    queryset: QuerySet, user, *, field: str = "area", roles: Iterable[str] = MANAGING_ROLES
) -> QuerySet:
    return queryset.filter(scope_q(user, field=field, roles=roles)).distinct()


def area_in_scope(user, area: Area, roles: Iterable[str] = MANAGING_ROLES) -> bool:
    return any(area.path.startswith(p) for p in scope_paths(user, roles))


def managed_area_list(user, roles: Iterable[str] = MANAGING_ROLES) -> QuerySet[Area]:
    """Areas the user may change, top-down."""
    return scope_queryset(Area.objects.select_related("parent"), user, field="", roles=roles)


def access_area_by_id(user, area_id: int, *, for_change: bool = False) -> Area:
    """Any signed-in person may read an area and its contacts (they are printed on public
    service cards); changing one needs a managing grant that covers it. Missing and out of
    scope raise the same NotFound."""
    try:
        area = Area.objects.select_related("parent").get(pk=area_id)
    except (Area.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    return _checked(user, area, for_change=for_change)


def _checked(user, area: Area | None, *, for_change: bool) -> Area:
    if area is None or (for_change and not area_in_scope(user, area)):
        raise NotFound()
    return area


def access_area_by_code(user, code: str, *, for_change: bool = False) -> Area:
    if not code or "\x00" in code or len(code) > 32:  # PostgreSQL refuses NUL in a literal
        raise NotFound()
    area = Area.objects.select_related("parent").filter(code=code).first()  # one query
    return _checked(user, area, for_change=for_change)
