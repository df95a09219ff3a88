"""Pages of union membership: the worker's application and member card, the union's review
desk with its figures, and on-site batch enrolment with its row-by-row report."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from warmstation.accounts.models import Brand, Role
from warmstation.accounts.pages import staff_page
from warmstation.areas.models import Area
from warmstation.areas.scoping import access_area_by_code, managed_area_list
from warmstation.core.errors import ApplicationError, InvalidInput, NotFound
from warmstation.core.exports import export_response
from warmstation.core.inputs import normalise_date, parse_id
from warmstation.core.pagination import page_list
from warmstation.core.refusals import refused, refused_message
from warmstation.stations.permissions import station_managed_list
from warmstation.union import roster, selectors, services
from warmstation.union.models import JobType
from warmstation.union.permissions import (
    REVIEWERS,
    ROLL_ROLES,
    access_application_by_id,
    access_batch_by_id,
    access_enrolment_place,
    application_list,
    batch_list,
    member_list,
    my_member,
)

APPLY_FIELDS = ("area", "employer", "job_type", "brand", "consent")
BATCH_FIELDS = ("title", "held_on", "place", "partner", "brand", "roster", "file", "consent")
BATCH_ROLES = (Role.STEWARD, Role.UNION_STAFF)


def _apply_context(request) -> dict:
    profile = getattr(request.user, "worker_profile", None)
    areas = list(profile.areas.all()) if profile else []
    areas += [a for a in Area.objects.filter(depth=1).order_by("path") if a not in areas]
    return {"areas": areas, "brands": Brand.objects.all(), "job_types": JobType.choices,
            "profile": profile}


@staff_page(Role.WORKER)
def home(request):
    """Join the union: the application form with its own consent, or where it stands."""
    member = my_member(request.user)
    application = application_list(request.user).filter(applicant=request.user) \
        .order_by("-created_at", "-id").first()
    ctx = {"member": member, "application": application, **_apply_context(request)}
    if request.method == "POST":
        if member is not None:
            return redirect("union:card")
        p = request.POST
        try:
            area = access_area_by_code(request.user, p.get("area", ""))
            brand = Brand.objects.filter(code=p.get("brand", "")).first() \
                if p.get("brand") else None
            services.membership_apply(
                user=request.user, area=area, employer=p.get("employer", ""),
                job_type=p.get("job_type", ""), brand=brand, consent=p.get("consent") == "on",
                request=request)
        except NotFound:
            return refused(request, "union/home.html", ctx,
                           InvalidInput(_("请选择所在区域。"), field="area"), fields=APPLY_FIELDS)
        except ApplicationError as exc:
            return refused(request, "union/home.html", ctx, exc, fields=APPLY_FIELDS)
        messages.success(request, _("入会申请已提交，工会审核后会通知您。"))
        return redirect("union:home")
    return render(request, "union/home.html", ctx)


@require_POST
@staff_page(Role.WORKER)
def withdraw(request, application_id: int):
    application = access_application_by_id(request.user, application_id)
    if application.applicant_id != request.user.pk:
        raise NotFound()
    try:
        services.membership_withdraw(user=request.user, application=application, request=request)
    except ApplicationError as exc:
        refused_message(request, exc)
    else:
        messages.success(request, _("已撤回入会申请。"))
    return redirect("union:home")


@staff_page(Role.WORKER)
def card(request):
    """The member card (会员卡): number, name, area, with a QR code of the number."""
    member = my_member(request.user)
    if member is None:
        raise NotFound()
    qr = segno.make_qr(f"FSGH:{member.number}", error="m").svg_inline(scale=5)
    return render(request, "union/card.html", {"member": member, "qr": qr})


@staff_page(*ROLL_ROLES)
def desk(request):
    """Applications waiting for review (union staff) and the figures of the roll."""
    reviewing = request.user.has_role(*REVIEWERS)
    waiting = page_list(request, application_list(request.user, review=True)
                        .filter(status="submitted").order_by("created_at", "id"), per_page=30)
    members = member_list(request.user)
    return render(request, "union/desk.html", {
        "waiting": waiting, "page": waiting, "reviewing": reviewing,
        "figures": selectors.figures(members, application_list(request.user, review=True)),
        "batches": batch_list(request.user).order_by("-held_on", "-id")[:10]})


@require_POST
@staff_page(*REVIEWERS)
def decide(request, application_id: int):
    application = access_application_by_id(request.user, application_id, for_review=True)
    try:
        services.membership_decide(actor=request.user, application=application,
                                   approve=request.POST.get("action") == "approve",
                                   note=request.POST.get("note", ""), request=request)
    except ApplicationError as exc:
        refused_message(request, exc)
    else:
        messages.success(request, _("已处理。"))
    return redirect("union:desk")


def _places(request) -> list[tuple[str, str]]:
    """Where the user may hold an enrolment: their stations, the areas they cover as union."""
    places = [(f"s{s.pk}", s.name) for s in station_managed_list(request.user)
              .filter(steward=request.user).order_by("name")[:100]]
    if request.user.has_role(Role.UNION_STAFF):
        places += [(f"a{a.code}", a.name_zh) for a in
                   managed_area_list(request.user, roles=REVIEWERS).filter(depth__lte=2)[:200]]
    return places


@staff_page(*BATCH_ROLES)
def batch_new(request):
    """On-site batch enrolment: a list typed in, or a spreadsheet uploaded."""
    ctx = {"places": _places(request), "brands": Brand.objects.all(),
           "today": timezone.localdate().isoformat()}
    if request.method == "POST":
        p = request.POST
        try:
            place = p.get("place", "")
            station_id = parse_id(place[1:]) if place.startswith("s") else None
            area, station = access_enrolment_place(
                request.user, area_code=place[1:] if place.startswith("a") else None,
                station_id=station_id)
            upload = request.FILES.get("file")
            rows = roster.roster_from_file(upload, upload.name) if upload else \
                roster.roster_from_text(p.get("roster", ""))
            batch = services.batch_enrol(
                actor=request.user, title=p.get("title", ""),
                held_on=normalise_date(p.get("held_on", ""), field="held_on"), area=area,
                station=station, partner=p.get("partner", ""),
                brand=Brand.objects.filter(code=p.get("brand", "")).first()
                if p.get("brand") else None,
                rows=rows, consent_confirmed=p.get("consent") == "on", request=request)
        except NotFound:
            return refused(request, "union/batch_new.html", ctx,
                           InvalidInput(_("请选择驿站或区域。"), field="place"),
                           fields=BATCH_FIELDS)
        except ApplicationError as exc:
            return refused(request, "union/batch_new.html", ctx, exc, fields=BATCH_FIELDS)
        return redirect("union:batch", batch_id=batch.pk)
    return render(request, "union/batch_new.html", ctx)


@staff_page(Role.STEWARD, *ROLL_ROLES)
def batch_report(request, batch_id: int):
    batch = access_batch_by_id(request.user, batch_id)
    fmt = request.GET.get("format")
    if fmt in ("xlsx", "csv"):
        en = getattr(request, "LANGUAGE_CODE", "").startswith("en")
        return export_response(
            request, fmt=fmt, filename=f"入会名单-{batch.held_on:%Y%m%d}-{batch.pk}",
            header=["行", "姓名", "手机号", "结果", "说明", "会员号"],
            rows=([r["row"], r["name"], r["mobile"], r["result"],
                   r["message_en"] if en else r["message_zh"], r["number"]]
                  for r in batch.report),
            object_type="union.enrolmentbatch", audit_detail={"batch": batch.pk})
    return render(request, "union/batch.html", {"batch": batch})


@staff_page(*BATCH_ROLES)
def batch_template(request):
    """An empty list to fill in Excel (the columns the upload reads)."""
    return export_response(request, fmt=request.GET.get("format", "xlsx"), filename="入会名单模板",
                           header=roster.TEMPLATE_HEADER,
                           rows=[["张三", "13800001234", "申通快递", "courier"]],
                           object_type="union.template")
