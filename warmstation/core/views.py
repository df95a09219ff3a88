from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.static import serve as static_serve


def healthz(request):
    """200 when the database answers; 503 otherwise (load balancers take the node out)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 — any database failure means "not healthy"
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


def media(request, path):
    """Uploaded pictures (already re-encoded and public: station photos) on a one-machine
    install; a proxy serves MEDIA_ROOT instead when SERVE_MEDIA=0."""
    response = static_serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def page_not_found(request, exception=None):
    return render(request, "core/error.html", {"status": 404}, status=404)


def permission_denied(request, exception=None):
    return render(request, "core/error.html", {"status": 403}, status=403)


def admin_login_redirect(request, extra_context=None):
    """The Django admin has no sign-in of its own: district admins sign in with password and
    TOTP on the staff page, then come back."""
    return redirect(f"{reverse('accounts:staff_login')}?next={request.get_full_path()}")
