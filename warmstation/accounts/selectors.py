from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from warmstation.accounts.models import User, WorkerProfile
from warmstation.areas.scoping import scope_queryset
from warmstation.core.errors import InvalidInput, NotFound
from warmstation.core.inputs import normalise_mobile


def worker_by_mobile(mobile: str | None, *, in_path: bool = False) -> User:
    """The one way to find a worker by the mobile number a steward or an admin typed (or the
    worker showed): normalised exactly as the sign-in normalises it (core.inputs.
    normalise_mobile: NFKC, spaces, hyphens, +86), then the active account registered as a worker (it has a WorkerProfile).

    Not found is the caller's input being wrong — InvalidInput (422, field "mobile") — for a
    mobile typed into a form or an API body; only a mobile in a URL path (`in_path=True`) is a
    missing resource (NotFound, 404). A malformed number is InvalidInput too (NotFound in a
    path)."""
    try:
        normalised = normalise_mobile(mobile or "", field="mobile")
    except InvalidInput:
        if in_path:
            raise NotFound() from None
        raise
    worker = User.objects.filter(mobile=normalised, is_active=True,
                                 worker_profile__isnull=False).first()
    if worker is None:
        if in_path:
            raise NotFound()
        raise InvalidInput(_("没有找到该手机号的小哥，请先让其注册。"), code="unknown_worker",
                           field="mobile")
    return worker

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
