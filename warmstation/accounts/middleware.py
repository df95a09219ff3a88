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


SESSION_TERMS_DUE = "ws_terms_due"
# Where a worker asked for their consent may still go: the consent form itself, signing out,
# switching the language, what the form's page needs, and their data (/me/: a copy, or closing
# the account, are their rights whether they consent or not).
TERMS_DUE_OPEN = ("/register/", "/logout/", "/i18n/", "/static/", "/healthz", "/api/", "/me/")


class TermsDueMiddleware:
    """A worker put on the list by an import (WorkerProfile.terms_due) has never agreed to the
    terms and privacy policy: from their sign-in on (the session is marked then, so other
    requests cost nothing), every page sends them to the registration form, which asks for that
    consent and records it, before anything else. The API answers as before (a bearer token
    is issued to an app that shows the terms itself)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.user.is_authenticated
            and request.session.get(SESSION_TERMS_DUE)
            and not request.path.startswith(TERMS_DUE_OPEN)
        ):
            from django.shortcuts import redirect
            from django.utils.http import urlencode

            return redirect("/register/?" + urlencode({"next": request.get_full_path()}))
        return self.get_response(request)
