from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.views.static import serve as static_serve

from warmstation.accounts.models import Role
from warmstation.core.audit import audit_record
from warmstation.core.models import AuditEvent
from warmstation.core.pages import staff_page
from warmstation.core.pagination import page_list


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


@staff_page(Role.DISTRICT_ADMIN)
def audit_search(request):
    """District admins search the audit trail by action, person, object, result and date."""
    qs = AuditEvent.objects.select_related("actor")
    f = {k: (request.GET.get(k) or "").strip() for k in
         ("action", "actor", "object_type", "object_id", "result", "since", "until")}
    if f["action"]:
        qs = qs.filter(action__startswith=f["action"])
    if f["actor"]:
        qs = qs.filter(actor_label__contains=f["actor"]) | qs.filter(
            actor__real_name__contains=f["actor"])
    if f["object_type"]:
        qs = qs.filter(object_type=f["object_type"])
    if f["object_id"]:
        qs = qs.filter(object_id=f["object_id"])
    if f["result"] in AuditEvent.Result.values:
        qs = qs.filter(result=f["result"])
    if since := parse_date(f["since"]):
        qs = qs.filter(at__date__gte=since)
    if until := parse_date(f["until"]):
        qs = qs.filter(at__date__lte=until)
    page = page_list(request, qs.select_related("actor").order_by("-at", "-id"))
    audit_record("audit.search", actor=request.user, request=request,
                 detail={k: v for k, v in f.items() if v})
    template = "core/audit.html#rows" if request.htmx else "core/audit.html"
    return render(request, template, {"page": page, "f": f, "results": AuditEvent.Result.choices,
                                      "actions": _known_actions()})


def _known_actions() -> list[str]:
    return list(AuditEvent.objects.order_by().values_list("action", flat=True).distinct()[:100])


