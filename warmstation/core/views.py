from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.views import defaults
from django.views.static import serve as static_serve

from warmstation.core import outage
from warmstation.core.audit import address_in, client_ip
from warmstation.core.readiness import readiness_report
from warmstation.core.refusals import forbidden_page, not_found_page


def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for whatever the page links: the site's icon (hashed
    static name, cached for a year), so no page load ends in a 404."""
    from django.templatetags.static import static

    response = redirect(static("favicon.svg"), permanent=True)
    response["Cache-Control"] = "public, max-age=86400"
    return response


def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers; 503 otherwise (load balancers take the node out)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 — any database failure means "not healthy"
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


def media(request: HttpRequest, path: str) -> HttpResponseBase:
    """Uploaded pictures (already re-encoded and public: station photos) on a one-machine
    install; a proxy serves them instead when SERVE_MEDIA=0. Only PUBLIC_MEDIA_PREFIXES: other
    uploads (a case's photos) are personal and go through their app's access check."""
    if not path.startswith(tuple(settings.PUBLIC_MEDIA_PREFIXES)) or ".." in path.split("/"):
        return page_not_found(request)
    response = static_serve(request, path, document_root=str(settings.MEDIA_ROOT))
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: a path no page has. The same page as NotFound (core/refusals.py)."""
    return not_found_page(request)


def permission_denied(request: HttpRequest,
                      exception: Exception | None = None) -> HttpResponse:
    return forbidden_page(request)


def admin_login_redirect(request: HttpRequest,
                         extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """The Django admin has no sign-in of its own: district admins sign in with password and
    TOTP on the staff page, then come back."""
    return redirect(f"{reverse('accounts:staff_login')}?next={request.get_full_path()}")


def readyz(request: HttpRequest) -> JsonResponse:
    """200 `{"status": "ready", …}` when the database answers and the task worker and periodic
    jobs are running; 503 with `"waiting"` (and what for) or `"unavailable"` otherwise."""
    status, report = readiness_report()
    response = JsonResponse(report, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics (django-prometheus: requests, latencies, status codes, database and
    cache calls; with several granian workers, all of them through PROMETHEUS_MULTIPROC_DIR).

    Only for the monitoring system: a client address in METRICS_ALLOWED (default loopback) or
    `Authorization: Bearer <METRICS_TOKEN>`; anyone else gets the 404 of a missing page."""
    import hmac

    from django_prometheus.exports import ExportToDjangoView  # type: ignore[import-untyped]

    token = settings.METRICS_TOKEN
    bearer = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    allowed = (bool(token) and hmac.compare_digest(bearer, token)) or \
        address_in(client_ip(request), settings.METRICS_ALLOWED)
    if not allowed:
        return page_not_found(request)
    response: HttpResponse = ExportToDjangoView(request)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 handler: a database outage is a 503 (core/outage.py), anything else a 500."""
    return outage.server_error(request) or defaults.server_error(request)
