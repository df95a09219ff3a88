"""The district admin's page for Open311 clients: issue a key (shown once), scope it to areas,
revoke it. Every change is audited (services.open311_client_issue / _revoke)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from warmstation.accounts.models import Role
from warmstation.accounts.pages import staff_page
from warmstation.areas.models import Area
from warmstation.core.errors import ApplicationError
from warmstation.core.pagination import page_list
from warmstation.core.refusals import refused
from warmstation.reports import services
from warmstation.reports.models import Open311Client
from warmstation.reports.permissions import access_client_by_id


def _ctx(request) -> dict:
    page = page_list(request, Open311Client.objects.prefetch_related("areas")
                     .order_by("-created_at", "-id"))
    return {"clients": page, "page": page, "form": request.POST or {},
            "areas": Area.objects.filter(depth__lte=1).order_by("path")}


@staff_page(Role.DISTRICT_ADMIN)
def clients(request):
    if request.method == "POST":
        codes = [c for c in request.POST.getlist("areas") if c and "\x00" not in c][:50]
        try:
            client, key = services.open311_client_issue(
                actor=request.user, name=request.POST.get("name", ""),
                contact=request.POST.get("contact", ""),
                areas=Area.objects.filter(code__in=codes), request=request)
        except ApplicationError as exc:
            return refused(request, "reports/clients.html", _ctx(request), exc,
                           fields=("name", "contact", "areas"))
        # The key is shown on this answer only; it is stored as a hash.
        return render(request, "reports/clients.html",
                      {**_ctx(request), "form": {}, "issued": client, "key": key}, status=201)
    return render(request, "reports/clients.html", _ctx(request))


@require_POST
@staff_page(Role.DISTRICT_ADMIN)
def client_revoke(request, client_id: int):
    client = access_client_by_id(request.user, client_id)
    services.open311_client_revoke(actor=request.user, client=client, request=request)
    messages.success(request, _("已吊销该客户端的密钥。"))
    return redirect("reports:clients")
