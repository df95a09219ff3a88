from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from warmstation.accounts.models import WorkerProfile
from warmstation.areas.scoping import scope_queryset
from warmstation.core.errors import NotFound

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from warmstation.accounts.models import User


def worker_list(*, user: User | AnonymousUser | None, area_code: str | None = None) -> QuerySet[WorkerProfile]:
    """Workers registered in the areas the user manages (an area admin: their area and below;
    the district: all)."""
    qs = scope_queryset(
        WorkerProfile.objects.select_related("user", "brand").prefetch_related("areas"),
        user, field="areas",
    )
    if area_code and "\x00" not in area_code:
        qs = qs.filter(areas__path__contains=f"/{area_code}/")
    return qs.filter(user__is_active=True).order_by("user__real_name", "pk")


def access_worker_by_id(user: User | AnonymousUser | None, worker_id: int) -> WorkerProfile:
    profile = worker_list(user=user).filter(pk=worker_id).first()
    if profile is None:
        raise NotFound()
    return profile
