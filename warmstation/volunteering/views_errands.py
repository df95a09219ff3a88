"""Errand pages (跑腿). Worker: open errands (once verified) and mine, an errand with the
resident's details while it is theirs to run. Community staff: post an errand for a resident,
verify workers, confirm for a resident without a phone, export. Resident: ask for an errand, and
the confirmation page made for an elderly person (large text, one button)."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from warmstation.accounts.models import Role
from warmstation.accounts.pages import staff_page
from warmstation.accounts.selectors import worker_by_mobile
from warmstation.areas.scoping import managed_area_list
from warmstation.core.errors import ApplicationError, InvalidInput, NotFound
from warmstation.core.exports import export_response
from warmstation.core.inputs import normalise_date, normalise_int
from warmstation.core.masking import mask_name
from warmstation.core.pagination import page_list
from warmstation.core.refusals import refused, refused_message
from warmstation.core.time import LOCAL
from warmstation.volunteering import errands as services
from warmstation.volunteering.models import Errand
from warmstation.volunteering.permissions import (
    ERRAND_STAFF,
    access_errand_by_id,
    can_see_resident,
    errand_list,
    errand_verified,
)
from warmstation.volunteering.views import parse_clock

ERRAND_ROLES = (Role.WORKER, Role.RESIDENT, *ERRAND_STAFF)


def _taker_label(errand: Errand) -> str:
    if errand.taker is None:
        return ""
    return mask_name(errand.taker.real_name) or "—"


@staff_page(Role.WORKER)
def errands(request):
    """Open errands (for a verified worker) and the ones I took."""
    verified = errand_verified(request.user)
    mine = list(errand_list(request.user).filter(taker=request.user)
                .exclude(status__in=[Errand.Status.CONFIRMED, Errand.Status.CANCELLED])
                .order_by("-taken_at", "-id")[:20])
    page = page_list(request, errand_list(request.user).filter(status=Errand.Status.OPEN)
                     .order_by("due_at", "-id"), per_page=20)
    return render(request, "volunteering/errands.html",
                  {"verified": verified, "mine": mine, "errands": page, "page": page})


DETAIL_FIELDS = ("minutes", "spent")


def _detail_ctx(request, errand: Errand) -> dict:
    user = request.user
    staff = user.has_role(*ERRAND_STAFF) and Errand.objects.filter(
        pk=errand.pk, area__in=managed_area_list(user, roles=ERRAND_STAFF)).exists()
    return {"e": errand, "show_resident": can_see_resident(user, errand),
            "resident_label": mask_name(errand.resident_name),
            "is_taker": errand.taker_id == user.pk, "staff": staff,
            "taker": _taker_label(errand),
            "can_take": errand.status == Errand.Status.OPEN and user.has_role(Role.WORKER)
            and errand_verified(user)}


@require_http_methods(["GET", "POST"])
@staff_page(*ERRAND_ROLES)
def errand(request, errand_id: int):
    """An errand and the step the viewer may take: take, done, confirm or cancel."""
    e = access_errand_by_id(request.user, errand_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "take":
                services.errand_take(worker=request.user, errand=e, request=request)
                messages.success(request, _("已接单，请按约定时间办理。"))
            elif action == "done":
                services.errand_done(
                    worker=request.user, errand=e, request=request,
                    minutes=normalise_int(request.POST.get("minutes", ""), lo=1,
                                          hi=services.MINUTES_MAX, field="minutes"),
                    spent=services.parse_money(request.POST.get("spent"), field="spent"))
                messages.success(request, _("已标记完成，等待居民确认。"))
            elif action in ("confirm", "cancel"):
                e = access_errand_by_id(request.user, errand_id, for_change=True)
                if action == "confirm":
                    services.errand_confirm(actor=request.user, errand=e, request=request)
                    messages.success(request, _("已确认，时长和积分已记入。"))
                else:
                    services.errand_cancel(actor=request.user, errand=e, request=request)
                    messages.success(request, _("跑腿已取消。"))
            else:
                raise InvalidInput(_("未知的操作。"), field="action")
        except ApplicationError as exc:
            return refused(request, "volunteering/errand.html", _detail_ctx(request, e), exc,
                           fields=DETAIL_FIELDS)
        return redirect("volunteering:errand", errand_id=e.pk)
    if can_see_resident(request.user, e) and e.taker_id == request.user.pk:
        from warmstation.core.audit import audit_record

        audit_record("errand.reveal_resident", actor=request.user, obj=e, request=request)
    return render(request, "volunteering/errand.html", _detail_ctx(request, e))


POST_FIELDS = ("area", "title", "details", "where", "due", "budget", "resident_name",
               "resident_address", "resident_phone")


def _desk_ctx(request) -> dict:
    page = page_list(request, errand_list(request.user).filter(
        area__in=managed_area_list(request.user, roles=ERRAND_STAFF)).order_by("-created_at",
                                                                                "-id"),
        per_page=20)
    for e in page:
        e.taker_label = _taker_label(e)
        e.resident_label = mask_name(e.resident_name)
    return {"errands": page, "page": page,
            "areas": list(managed_area_list(request.user, roles=ERRAND_STAFF).order_by("path"))}


@require_http_methods(["GET", "POST"])
@staff_page(*ERRAND_STAFF)
def errand_desk(request):
    """Community staff: errands of my areas, a new one for a resident."""
    ctx = _desk_ctx(request)
    if request.method == "POST":
        p = request.POST
        try:
            area = next((a for a in ctx["areas"] if a.code == p.get("area", "")), None)
            if area is None:
                raise InvalidInput(_("区域无效。"), field="area")
            due = None
            if p.get("due"):
                due = datetime.combine(normalise_date(p["due"], field="due"),
                                       parse_clock(p.get("due_time") or "09:00",
                                                   field="due_time"), tzinfo=LOCAL)
            e = services.errand_post(
                actor=request.user, area=area, title=p.get("title", ""),
                details=p.get("details", ""), where=p.get("where", ""), due_at=due,
                budget=services.parse_money(p.get("budget"), field="budget"),
                resident_name=p.get("resident_name", ""),
                resident_address=p.get("resident_address", ""),
                resident_phone=p.get("resident_phone", ""), request=request)
        except ApplicationError as exc:
            return refused(request, "volunteering/errand_desk.html", ctx, exc,
                           fields=POST_FIELDS)
        messages.success(request, _("跑腿已发布，等待已核验的小哥接单。"))
        return redirect("volunteering:errand", errand_id=e.pk)
    return render(request, "volunteering/errand_desk.html", ctx)


@require_POST
@staff_page(*ERRAND_STAFF)
def errand_verify(request):
    """Vouch for a worker (identity seen) so they may take errands."""
    try:
        worker = worker_by_mobile(request.POST.get("mobile", ""))
        services.errand_worker_verify(actor=request.user, worker=worker, request=request)
    except ApplicationError as exc:
        return refused(request, "volunteering/errand_desk.html", _desk_ctx(request), exc,
                       fields=("mobile",))
    messages.success(request, _("已核验该小哥，可以接跑腿单。"))
    return redirect("volunteering:errand_desk")


EXPORT_HEADER = ["编号", "区域", "事项", "地点", "状态", "接单人", "用时（分钟）", "发布时间"]


@staff_page(*ERRAND_STAFF)
def errand_export(request):
    """The errands of my areas as a spreadsheet — never the residents' names, addresses or
    phones (they are for the worker who runs the errand only)."""
    qs = errand_list(request.user).filter(
        area__in=managed_area_list(request.user, roles=ERRAND_STAFF)).order_by("-created_at")

    def rows():
        for e in qs.iterator(chunk_size=1000):
            yield [e.pk, e.area.name_zh, e.title, e.where, e.get_status_display(),
                   _taker_label(e), e.minutes,
                   e.created_at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")]

    return export_response(request, fmt="csv", filename=f"跑腿-{timezone.localdate():%Y%m%d}",
                           header=EXPORT_HEADER, rows=rows(), object_type="volunteering.errand")


ASK_FIELDS = ("title", "details", "where", "address", "phone")


@require_http_methods(["GET", "POST"])
@staff_page(Role.RESIDENT)
def errand_ask(request):
    """A resident asks for an errand, and sees the ones they asked for."""
    mine = list(Errand.objects.filter(resident=request.user).order_by("-created_at")[:10])
    ctx = {"mine": mine}
    if request.method == "POST":
        p = request.POST
        try:
            services.errand_ask(resident=request.user, title=p.get("title", ""),
                                details=p.get("details", ""), where=p.get("where", ""),
                                address=p.get("address", ""), phone=p.get("phone", ""),
                                request=request)
        except ApplicationError as exc:
            return refused(request, "volunteering/errand_ask.html", ctx, exc,
                           fields=ASK_FIELDS)
        messages.success(request, _("已提交，社区志愿者接单后会联系您。"))
        return redirect("volunteering:errand_ask")
    return render(request, "volunteering/errand_ask.html", ctx)


@require_http_methods(["GET", "POST"])
@staff_page(Role.RESIDENT)
def errand_thanks(request, errand_id: int):
    """The resident's confirmation, made for an elderly person: large text, one button."""
    e = Errand.objects.filter(pk=errand_id, resident=request.user).select_related("taker") \
        .first()
    if e is None:
        raise NotFound()
    if request.method == "POST":
        try:
            services.errand_confirm(actor=request.user, errand=e, request=request)
        except ApplicationError as exc:
            refused_message(request, exc)
        return redirect("volunteering:errand_thanks", errand_id=e.pk)
    return render(request, "volunteering/errand_thanks.html",
                  {"e": e, "taker": _taker_label(e)})
