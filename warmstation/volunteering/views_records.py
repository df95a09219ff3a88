"""The volunteer-service record pages: a worker's records (issue, download the PDF, revoke), and
the public verification page a record's QR code opens — which shows the masked name, the hours,
the issuer and whether the record stands, and nothing else about the person."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from warmstation.accounts.models import Role
from warmstation.accounts.pages import staff_page
from warmstation.core.audit import audit_record
from warmstation.core.errors import ApplicationError, NotFound
from warmstation.core.exports import content_disposition
from warmstation.core.pagination import page_list
from warmstation.core.refusals import refused, refused_message
from warmstation.volunteering import records as services
from warmstation.volunteering import selectors
from warmstation.volunteering.models import ServiceRecord
from warmstation.volunteering.permissions import access_record_by_id, record_list


def _verify_url(request, record: ServiceRecord) -> str:
    return request.build_absolute_uri(reverse("volunteering:verify", args=[record.number]))


def _records_ctx(request) -> dict:
    page = page_list(request, record_list(request.user), per_page=20)
    return {"records": page, "page": page, "hours": selectors.my_hours(request.user)}


@require_http_methods(["GET", "POST"])
@staff_page(Role.WORKER)
def records(request):
    if request.method == "POST":
        try:
            record = services.record_issue(worker=request.user, request=request)
        except ApplicationError as exc:
            return refused(request, "volunteering/records.html", _records_ctx(request), exc)
        messages.success(request, _("记录已出具，编号 %(n)s。") % {"n": record.number})
        return redirect("volunteering:records")
    return render(request, "volunteering/records.html", _records_ctx(request))


@staff_page(Role.WORKER)
def record_pdf(request, record_id: int):
    record = access_record_by_id(request.user, record_id)
    data = services.record_pdf(record, verify_url=_verify_url(request, record))
    audit_record("export", actor=request.user, obj=record, request=request,
                 detail={"format": "pdf"})
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(f"志愿服务记录-{record.number}.pdf")
    return response


@require_POST
@staff_page(Role.WORKER, Role.DISTRICT_ADMIN)
def record_revoke(request, record_id: int):
    record = access_record_by_id(request.user, record_id)
    try:
        services.record_revoke(actor=request.user, record=record,
                               reason=request.POST.get("reason", "") or "本人撤销",
                               request=request)
    except ApplicationError as exc:
        refused_message(request, exc)
    else:
        messages.success(request, _("记录已撤销，核验页面将显示“已撤销”。"))
    if request.user.has_role(Role.WORKER) and record.worker_id == request.user.pk:
        return redirect("volunteering:records")
    return redirect("volunteering:verify", number=record.number)


def verify(request, number: str):
    """Public: anyone holding the paper (an employer, a school) checks it by its number."""
    record = ServiceRecord.objects.filter(number=number[:32]).select_related("issuer").first() \
        if number.isascii() and number.isalnum() else None
    if record is None:
        raise NotFound()
    return render(request, "volunteering/verify.html", {
        "r": record, "hours": round(record.minutes / 60, 1),
        "not_certificate": not record.issuer.qualified,
        "statement": services.NOT_A_CERTIFICATE})
