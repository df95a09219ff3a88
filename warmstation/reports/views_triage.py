"""The command centre's pages: the queue (待受理 first) with filters, a map of what is listed,
and bulk accept/reject/dispatch; merging is a step on a problem's page (views.act)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from warmstation.accounts.pages import staff_page
from warmstation.appeals.models import Department
from warmstation.core.errors import ApplicationError
from warmstation.core.inputs import parse_id
from warmstation.core.pagination import page_list
from warmstation.core.refusals import refused_message
from warmstation.reports import selectors, services
from warmstation.reports.models import Problem
from warmstation.reports.permissions import STAFF, TRIAGERS


def _filters(request) -> dict:
    g = request.GET
    overdue = {"1": True, "0": False}.get(g.get("overdue", ""))
    status = g.get("status", "submitted") if "status" in g else "submitted"
    return {"status": status or None, "category": g.get("category") or None,
            "area_code": g.get("area", "")[:32] or None, "overdue": overdue,
            "department_id": parse_id(g.get("department", ""))}


@staff_page(*STAFF)
def queue(request):
    f = _filters(request)
    if request.method == "POST":
        p = request.POST
        ids = [i for i in map(parse_id, p.getlist("ids")) if i]
        dept = Department.objects.filter(code=p.get("department", ""), is_active=True).first() \
            if p.get("department") and "\x00" not in p.get("department", "") else None
        try:
            result = services.problem_bulk(actor=request.user, ids=ids,
                                           action=p.get("action", ""), reason=p.get("reason", ""),
                                           department=dept, request=request)
        except ApplicationError as exc:
            refused_message(request, exc)
        else:
            messages.success(request, _("完成 %(done)s 条，未完成 %(failed)s 条。") % {
                "done": len(result["done"]), "failed": len(result["failed"])})
            english = (request.LANGUAGE_CODE or "").startswith("en")
            for fail in result["failed"][:5]:
                messages.error(request, f"#{fail['id']}: {fail['en' if english else 'zh']}")
        return redirect(request.get_full_path())
    page = page_list(request, selectors.problem_list(user=request.user, **f))
    ctx = {"problems": page, "page": page, "f": f, "now": timezone.now(),
           "statuses": Problem.Status.choices, "reasons": Problem.RejectReason.choices,
           "categories": selectors.category_list(),
           "departments": Department.objects.filter(is_active=True),
           "is_triager": request.user.has_role(*TRIAGERS),
           "tile_url": settings.MAP_TILE_URL, "tile_attribution": settings.MAP_TILE_ATTRIBUTION}
    if request.htmx:
        return render(request, "reports/queue.html#rows", ctx)
    return render(request, "reports/queue.html", ctx)
