"""Gates for HTML pages: the page form of core.permissions (redirect to sign-in instead of 401,
a 403 page for a wrong role)."""

import functools

from django.shortcuts import redirect
from django.urls import reverse

from warmstation.accounts.models import ROLE_MIN_LEVEL, AuthLevel
from warmstation.core.audit import audit_record
from warmstation.core.models import AuditEvent
from warmstation.core.refusals import forbidden_page


def staff_page(*roles: str):
    """The page needs one of `roles`. Anonymous people, and people who hold such a role but
    signed in below the level it needs (an admin signed in by SMS code), go to the right
    sign-in page; anyone else without the role gets 403."""
    need = min(ROLE_MIN_LEVEL[r] for r in roles)
    target = "accounts:worker_login" if need <= AuthLevel.CODE else "accounts:staff_login"

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            held_but_inactive = user.is_authenticated and not user.has_role(*roles) and \
                user.grants.filter(role__in=roles).exists()
            if not user.is_authenticated or held_but_inactive:
                return redirect(f"{reverse(target)}?next={request.get_full_path()}")
            if not user.has_role(*roles):
                audit_record("access.denied", actor=user, result=AuditEvent.Result.DENIED,
                             request=request, detail={"path": request.path})
                return forbidden_page(request)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
