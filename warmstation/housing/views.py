"""Pages of the family short-stay flat: the worker's flats, calendar and booking form, their
bookings; the desk where the steward (and the housing office) check families in and out."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from warmstation.accounts.models import Role
from warmstation.accounts.pages import staff_page
from warmstation.core.errors import ApplicationError
from warmstation.core.inputs import normalise_date
from warmstation.core.masking import mask_mobile, mask_name
from warmstation.core.pagination import page_list
from warmstation.core.refusals import refused, refused_message
from warmstation.housing import selectors, services
from warmstation.housing.models import Visitor
from warmstation.housing.permissions import (
    access_booking_by_id,
    access_flat_by_id,
    booking_list,
    flat_list,
)

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
