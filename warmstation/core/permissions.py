"""Role gates for views and API operations. Area scoping is in areas/scoping.py; object
access in each app's permissions.py (`access_<thing>_by_id`)."""

from __future__ import annotations

import functools

from warmstation.core.audit import audit_record
from warmstation.core.errors import NotAuthenticated, PermissionDenied
from warmstation.core.models import AuditEvent


def check_roles(request, roles) -> None:
    """Raise 401 for anonymous, 403 (audited) if no active grant has one of `roles`."""
    user = request.user if hasattr(request, "user") else None
    auth = getattr(request, "auth", None)
    if auth is not None and getattr(auth, "is_authenticated", False):
        user = auth
    if user is None or not user.is_authenticated:
        raise NotAuthenticated()
    if not user.has_role(*roles):
        audit_record("access.denied", actor=user, result=AuditEvent.Result.DENIED,
                     request=request, detail={"path": request.path, "needs": sorted(roles)})
        raise PermissionDenied()


def require_roles(*roles: str):
    """Decorator for a view or API operation: the caller must hold one of `roles`, at the
    sign-in level the role needs."""

    def decorator(func):
        @functools.wraps(func)
        def wrapper(request, *args, **kwargs):
            check_roles(request, roles)
            return func(request, *args, **kwargs)

        return wrapper

    return decorator
