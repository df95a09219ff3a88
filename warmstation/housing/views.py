"""Housing pages. The family short-stay flat: the worker's flats, calendar and booking form,
their bookings; the desk where the steward (and the housing office) check families in and out.
The housing survey: the worker's form, the aggregates, the office's view of the answers. The
resources and rental-intention applications, and the housing office's desk."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from warmstation.accounts.models import Role
from warmstation.accounts.pages import staff_page
from warmstation.areas.models import Area
from warmstation.areas.scoping import access_area_by_code
from warmstation.core.audit import audit_record
from warmstation.core.errors import ApplicationError, InvalidInput, NotFound
from warmstation.core.inputs import normalise_date, normalise_int
from warmstation.core.masking import mask_mobile, mask_name
from warmstation.core.pagination import page_list
from warmstation.core.refusals import refused, refused_message
from warmstation.housing import selectors, services
from warmstation.housing.models import RentalApplication, Resource, Survey, Visitor
from warmstation.housing.permissions import (
    access_booking_by_id,
    access_flat_by_id,
    access_rental_by_id,
    access_resource_by_id,
    access_survey_by_id,
    booking_list,
    flat_list,
    rental_list,
    resource_list,
    survey_list,
    survey_scope,
)

NEED_LABELS = {"need_cheaper": _("更便宜的房租"), "need_closer": _("离工作地点更近"),
               "need_dormitory": _("集体宿舍床位"), "need_family": _("适合家庭居住"),
               "need_short_stay": _("家属探亲短住")}
MANAGERS = (Role.STEWARD, Role.AREA_ADMIN, Role.DISTRICT_ADMIN, Role.HOUSING_OFFICE)
VISITOR_ROWS = 4
BOOKING_FIELDS = ("check_in", "check_out", "note",
                  *(f"{k}_{i}" for i in range(VISITOR_ROWS) for k in ("name", "relation")))


@staff_page(Role.WORKER)
def home(request):
    """The worker's 住宿 page: the flats, and their own bookings."""
    bookings = page_list(request, booking_list(request.user).filter(worker=request.user)
                         .order_by("-check_in", "-id"), per_page=20)
    return render(request, "housing/home.html", {
        "flats": flat_list(request.user), "bookings": bookings, "page": bookings})


def _flat_context(request, flat) -> dict:
    nights = selectors.flat_calendar(flat)
    typed = request.POST if request.method == "POST" else {}
    return {"flat": flat, "weeks": selectors.calendar_weeks(nights),
            "relations": Visitor.Relation.choices,
            "rows": [{"i": i, "name": typed.get(f"name_{i}", ""),
                      "relation": typed.get(f"relation_{i}", "")} for i in range(VISITOR_ROWS)]}


@staff_page(Role.WORKER)
def flat_detail(request, flat_id: int):
    """The flat, its calendar of taken nights, and the booking form."""
    flat = access_flat_by_id(request.user, flat_id)
    if request.method == "POST":
        p = request.POST
        try:
            booking = services.booking_create(
                worker=request.user, flat=flat,
                check_in=normalise_date(p.get("check_in", ""), field="check_in"),
                check_out=normalise_date(p.get("check_out", ""), field="check_out"),
                visitors=[{"name": p.get(f"name_{i}", ""), "relation": p.get(f"relation_{i}", "")}
                          for i in range(VISITOR_ROWS)],
                note=p.get("note", ""), request=request)
        except ApplicationError as exc:
            ctx = _flat_context(request, flat)  # the calendar shows the nights now taken
            ctx["taken"] = exc.extra.get("taken_nights", [])
            return refused(request, "housing/flat.html", ctx, exc, fields=BOOKING_FIELDS)
        messages.success(request, _("预订成功：%(a)s 入住，%(b)s 退房。") % {
            "a": booking.check_in.isoformat(), "b": booking.check_out.isoformat()})
        return redirect("housing:home")
    return render(request, "housing/flat.html", _flat_context(request, flat))


@require_POST
@staff_page(Role.WORKER, *MANAGERS)
def booking_cancel(request, booking_id: int):
    booking = access_booking_by_id(request.user, booking_id)
    try:
        services.booking_cancel(actor=request.user, booking=booking, request=request)
    except ApplicationError as exc:
        refused_message(request, exc)
    else:
        messages.success(request, _("已取消，这几晚已空出。"))
    return redirect("housing:desk" if booking.worker_id != request.user.pk else "housing:home")


@staff_page(*MANAGERS)
def desk(request):
    """The flats the user keeps or oversees, and their bookings still holding nights."""
    show_all = request.GET.get("all") == "1"
    bookings = page_list(request, selectors.desk_bookings(
        booking_list(request.user, managed=True), upcoming=not show_all), per_page=30)
    for b in bookings:
        b.who = mask_name(b.worker.real_name) or mask_mobile(b.worker.mobile)
    return render(request, "housing/desk.html", {
        "flats": flat_list(request.user, managed=True), "bookings": bookings, "page": bookings,
        "show_all": show_all})


def _desk_action(service, done):
    @require_POST
    @staff_page(*MANAGERS)
    def action(request, booking_id: int):
        booking = access_booking_by_id(request.user, booking_id, for_change=True)
        try:
            service(actor=request.user, booking=booking, request=request)
        except ApplicationError as exc:
            refused_message(request, exc)
        else:
            messages.success(request, done)
        return redirect("housing:desk")

    return action


booking_check_in = _desk_action(services.booking_check_in, _("已办理入住。"))
booking_check_out = _desk_action(services.booking_check_out, _("已退房，剩余的晚上已空出。"))


# --- the housing survey (摸排) -------------------------------------------------------------------

FIGURE_ROLES = (Role.HOUSING_OFFICE, Role.AREA_ADMIN, Role.DISTRICT_ADMIN)
SURVEY_FIELDS = ("area", "housing", "rent", "commute_minutes", "household", "needs", "note")


def _number(raw: str | None, field: str, *, lo: int, hi: int, blank: bool = False) -> int | None:
    text = (raw or "").strip()
    if not text and blank:
        return None
    try:
        return normalise_int(text, lo=lo, hi=hi, field=field)
    except ApplicationError:
        raise InvalidInput(_("请填写 %(lo)s 至 %(hi)s 之间的整数。"), params={"lo": lo, "hi": hi},
                           field=field) from None


@staff_page(Role.WORKER)
def survey(request):
    """The worker's housing survey: answered once, changed any time."""
    mine = Survey.objects.filter(worker=request.user).first()
    profile = getattr(request.user, "worker_profile", None)
    areas = list(profile.areas.all()) if profile else []
    areas += [a for a in Area.objects.filter(depth=1).order_by("path") if a not in areas]
    ctx = {"survey": mine, "areas": areas, "kinds": Survey.Housing.choices,
           "needs": [(n, NEED_LABELS[n]) for n in Survey.NEEDS],
           "has": {n for n in Survey.NEEDS if mine and getattr(mine, n)}}
    if request.method == "POST":
        p = request.POST
        try:
            area = access_area_by_code(request.user, p.get("area", ""))
            services.survey_save(
                worker=request.user, area=area, housing=p.get("housing", ""),
                rent=_number(p.get("rent"), "rent", lo=0, hi=100_000, blank=True),
                commute_minutes=_number(p.get("commute_minutes"), "commute_minutes", lo=0,
                                        hi=600) or 0,
                household=_number(p.get("household"), "household", lo=1, hi=50) or 1,
                needs=set(p.getlist("needs")), note=p.get("note", ""), request=request)
        except NotFound:
            return refused(request, "housing/survey.html", ctx,
                           InvalidInput(_("请选择所在区域。"), field="area"), fields=SURVEY_FIELDS)
        except ApplicationError as exc:
            ctx["has"] = set(p.getlist("needs"))
            return refused(request, "housing/survey.html", ctx, exc, fields=SURVEY_FIELDS)
        messages.success(request, _("谢谢！您的住房情况已登记。"))
        return redirect("housing:survey")
    return render(request, "housing/survey.html", ctx)


@staff_page(*FIGURE_ROLES)
def survey_figures(request):
    by = request.GET.get("by", "area")
    figures = selectors.survey_figures(survey_scope(request.user), by=by)
    return render(request, "housing/survey_figures.html", {
        "figures": figures, "kinds": Survey.Housing.choices,
        "needs": [(n, NEED_LABELS[n]) for n in Survey.NEEDS],
        "dimensions": [("area", _("街道/乡镇")), ("brand", _("企业品牌")),
                       ("job_type", _("工作类型"))],
        "is_office": request.user.has_role(Role.HOUSING_OFFICE)})


@staff_page(Role.HOUSING_OFFICE)
def survey_answers(request):
    answers = page_list(request, survey_list(request.user).order_by("-updated_at", "-id"),
                        per_page=30)
    for s in answers:
        s.who = mask_name(s.worker.real_name) or mask_mobile(s.worker.mobile)
    return render(request, "housing/survey_answers.html", {"answers": answers, "page": answers})


@staff_page(Role.WORKER, Role.HOUSING_OFFICE)
def survey_answer(request, survey_id: int):
    answer = access_survey_by_id(request.user, survey_id)
    audit_record("survey.read", actor=request.user, obj=answer, request=request)
    return render(request, "housing/survey_answer.html", {
        "s": answer, "needs": [NEED_LABELS[n] for n in Survey.NEEDS if getattr(answer, n)],
        "who": answer.worker.real_name if answer.worker_id == request.user.pk
        else mask_name(answer.worker.real_name)})


# --- housing resources and rental intentions -----------------------------------------------------

@staff_page(Role.WORKER)
def resources(request):
    kind = request.GET.get("kind", "")
    listed = resource_list(request.user)
    if kind in Resource.Kind.values:
        listed = listed.filter(kind=kind)
    rows = page_list(request, listed.order_by("area__path", "name", "id"), per_page=20)
    return render(request, "housing/resources.html", {
        "resources": rows, "page": rows, "kinds": Resource.Kind.choices, "kind": kind,
        "mine": rental_list(request.user).filter(worker=request.user)
        .order_by("-created_at", "-id")[:20]})


@require_POST
@staff_page(Role.WORKER)
def resource_apply(request, resource_id: int):
    resource = access_resource_by_id(request.user, resource_id)
    try:
        services.rental_apply(worker=request.user, resource=resource,
                              people=_number(request.POST.get("people"), "people", lo=1,
                                             hi=20) or 1,
                              note=request.POST.get("note", ""), request=request)
    except ApplicationError as exc:
        refused_message(request, exc)
    else:
        messages.success(request, _("租赁意向已提交，住建委会联系您。"))
    return redirect("housing:resources")


@staff_page(*FIGURE_ROLES)
def office(request):
    """The housing office's desk: rental applications of its area and the figures by area."""
    status = request.GET.get("status", "")
    applications = rental_list(request.user, office=True)
    if status in RentalApplication.Status.values:
        applications = applications.filter(status=status)
    rows = page_list(request, applications.order_by("-created_at", "-id"), per_page=30)
    for a in rows:
        a.who = mask_name(a.worker.real_name) or mask_mobile(a.worker.mobile)
    return render(request, "housing/office.html", {
        "applications": rows, "page": rows, "statuses": RentalApplication.Status.choices,
        "status": status, "is_office": request.user.has_role(Role.HOUSING_OFFICE),
        "figures": selectors.resource_figures(resource_list(request.user, managed=True),
                                              rental_list(request.user, office=True))})


@require_POST
@staff_page(Role.WORKER, Role.HOUSING_OFFICE)
def rental_step(request, rental_id: int):
    action = request.POST.get("action", "")
    mine = action == "withdraw"
    application = access_rental_by_id(request.user, rental_id, for_office=not mine)
    if mine and application.worker_id != request.user.pk:
        raise NotFound()
    try:
        services.rental_move(actor=request.user, application=application, action=action,
                             note=request.POST.get("note", ""), request=request)
    except ApplicationError as exc:
        refused_message(request, exc)
    else:
        messages.success(request, _("已更新。"))
    return redirect("housing:resources" if mine else "housing:office")
