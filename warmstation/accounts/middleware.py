import time

from django.conf import settings
from django.contrib.auth import logout

from warmstation.accounts.models import AuthLevel

SESSION_LEVEL = "ws_auth_level"
SESSION_STARTED = "ws_auth_started"


class SessionLifetimeMiddleware:
    """Gives request.user the sign-in level of this session and ends sessions older than
    SESSION_ABSOLUTE_SECONDS, however active (the idle timeout is SESSION_COOKIE_AGE)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            started = request.session.get(SESSION_STARTED, 0)
            if time.time() - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
            else:
                user.auth_level = request.session.get(SESSION_LEVEL, AuthLevel.NONE)
        return self.get_response(request)
