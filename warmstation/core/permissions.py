"""Role gates for views and API operations. Area scoping is in areas/scoping.py; object
access in each app's permissions.py (`access_<thing>_by_id`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, cast

from django.http import HttpRequest

from warmstation.core.audit import audit_record
from warmstation.core.errors import NotAuthenticated, PermissionDenied
from warmstation.core.models import AuditEvent


def check_roles(request: HttpRequest, roles: Iterable[str]) -> None:
    """Raise 401 for anonymous, 403 (audited) if no active grant has one of `roles`."""
    # Any: the user model (with has_role) lives in accounts, which core does not import.
    user: Any = request.user if hasattr(request, "user") else None
    auth = getattr(request, "auth", None)
    if auth is not None and getattr(auth, "is_authenticated", False):
        user = auth
    if user is None or not user.is_authenticated:
        raise NotAuthenticated()
    if not user.has_role(*roles):
        audit_record("access.denied", actor=user, result=AuditEvent.Result.DENIED,
                     request=request, detail={"path": request.path, "needs": sorted(roles)})
        raise PermissionDenied()


def require_roles[F: Callable[..., Any]](*roles: str) -> Callable[[F], F]:
    """Decorator for a view or API operation: the caller must hold one of `roles`, at the
    sign-in level the role needs."""

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            check_roles(request, roles)
            return func(request, *args, **kwargs)

        return cast(F, wrapper)  # wraps() keeps the signature (ninja reads it)

    return decorator
