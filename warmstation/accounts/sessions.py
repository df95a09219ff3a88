"""Putting a proven person into the session at a sign-in level."""

import time

from django.contrib.auth import login
from django.http import HttpRequest

from warmstation.accounts.middleware import SESSION_LEVEL, SESSION_STARTED
from warmstation.accounts.models import User


def session_sign_in(request: HttpRequest, user: User, level: int) -> None:
    """Log in (a new session key, against fixation) or raise the level of the current one."""
    if not (request.user.is_authenticated and request.user.pk == user.pk):
        login(request, user, backend="warmstation.accounts.backends.MobilePasswordBackend")
        request.session[SESSION_STARTED] = time.time()
    else:
        request.session.cycle_key()
    request.session[SESSION_LEVEL] = max(level, request.session.get(SESSION_LEVEL, 0))
    user.auth_level = request.session[SESSION_LEVEL]
    request.user = user
