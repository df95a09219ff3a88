"""The steward's console (驿站管理台): keep a station's status, hours, amenities and stock true,
lend and take back shared items, record services. Every form is a plain POST that calls one
service; with htmx the console is swapped in place, without JS the page reloads."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

import segno
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from warmstation.accounts.models import Role, User
from warmstation.accounts.pages import staff_page
from warmstation.accounts.selectors import worker_by_mobile
from warmstation.core.errors import ApplicationError, InvalidInput
from warmstation.core.inputs import CLOCK_RE, check_date, nfkc, normalise_date, normalise_int
from warmstation.core.masking import mask_mobile
from warmstation.core.pagination import page_list
from warmstation.core.refusals import refused
from warmstation.stations import selectors, services
from warmstation.stations.models import (
    STOCK_DELTA_MAX,
    Amenity,
    GoodsItem,
    ServiceItem,
    StockMovement,
)
from warmstation.stations.permissions import (
    access_exception_by_id,
    access_loan_by_id,
    access_open_loan_by_borrower,
    access_station_by_id,
    hours_exception_list,
    loan_list,
    service_record_list,
    station_managed_list,
    stock_movement_list,
)
from warmstation.stations.views import (
    WEEKDAY_LABELS,
    desk_rows,
    month_served,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

CONSOLE_ROLES = (Role.STEWARD, Role.AREA_ADMIN, Role.DISTRICT_ADMIN)
SPANS_PER_DAY = 2
# The fields console.html shows a refusal beside (core/_field_error.html); a refusal naming any
# other field is shown at the top of its form.
FIELDS = {
    "lend": ("item", "mobile"), "record": ("service", "mobile", "name", "at", "note"),
    "stock": ("item", "quantity", "note"), "exception": ("date", "opens", "closes", "note"),
}
DONE = {  # what a form says when its service accepted it
    "status": gettext_lazy("状态已更新。"), "hours": gettext_lazy("营业时间已保存。"),
    "exception": gettext_lazy("特殊日期已更新。"), "amenities": gettext_lazy("设施已保存。"),
    "stock": gettext_lazy("库存已更新。"), "lend": gettext_lazy("已借出。"),
    "loans": gettext_lazy("已归还。"), "record": gettext_lazy("服务已记录。"),
}


def _time(raw: str) -> time | None:
    raw = nfkc(raw)
    if not raw:
        return None
    try:
        if not re.fullmatch(CLOCK_RE, raw):  # as the API's ClockTime: no zone, no fraction
            raise ValueError(raw)
        return time.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(gettext_lazy("时间格式不对：%(raw)s"), params={"raw": raw[:20]}) \
            from None


def _quantity(raw: str) -> int:
    """A quantity typed in the stock form: 1..STOCK_DELTA_MAX, as the API's delta (full-width
    digits are read as digits, then bounded: 1380000000７ is not a quantity)."""
    try:
        return normalise_int(raw, lo=1, hi=STOCK_DELTA_MAX, field="quantity")
    except InvalidInput:
        raise InvalidInput(gettext_lazy("数量须为 1 至 %(max)s 之间的整数。"),
                           params={"max": STOCK_DELTA_MAX}, code="invalid_number",
                           field="quantity") from None


def _hours_grid(station) -> list[dict]:
    spans: dict[int, list] = {}
    for h in station.hours.all():
        spans.setdefault(h.weekday, []).append(h)
    rows = []
    for d in range(7):
        existing = spans.get(d, [])
        rows.append({"weekday": d, "label": WEEKDAY_LABELS[d], "spans": [
            {"i": i, "opens": existing[i].opens if i < len(existing) else None,
             "closes": existing[i].closes if i < len(existing) else None}
            for i in range(max(SPANS_PER_DAY, len(existing)))]})
    return rows


def _hours_grid_typed(post) -> list[dict]:
    """The weekly grid as the steward typed it (a refused form), each cell's raw text."""
    rows = []
    for d in range(7):
        count = max(SPANS_PER_DAY, *(i + 1 for i in range(6)
                                     if post.get(f"o{d}_{i}") or post.get(f"c{d}_{i}")), 0)
        rows.append({"weekday": d, "label": WEEKDAY_LABELS[d], "spans": [
            {"i": i, "opens": post.get(f"o{d}_{i}", ""), "closes": post.get(f"c{d}_{i}", ""),
             "typed": True} for i in range(count)]})
    return rows


def _console_context(request, station) -> dict:
    now = timezone.now()
    # Rows decorated for the template (overdue, who).
    loans: list[Any] = sorted(loan_list(request.user, station=station).filter(returned_at=None),
                   key=lambda loan: (loan.due_at >= now, loan.due_at))
    for loan in loans:
        loan.overdue = loan.due_at < now
        loan.who = loan.worker.real_name or mask_mobile(loan.worker.mobile)
    records = page_list(request, service_record_list(request.user, station=station)
                        .order_by("-at", "-pk"), per_page=15, param="records")
    for r in records:
        r.who = (r.worker.real_name or mask_mobile(r.worker.mobile)) if r.worker else \
            (r.worker_label or _("未留名"))
    checkin_url = request.build_absolute_uri(
        reverse("stations:check_in", args=[station.pk, station.checkin_token]))
    people, count = month_served([station]).get(station.pk, (0, 0))
    stock = list(station.stock.select_related("item"))
    return {
        "station": station, "schedule_open": selectors.schedule_of(station).is_open(now),
        "hours_grid": _hours_grid(station),
        "exceptions": page_list(request, hours_exception_list(request.user, station=station)
                                .filter(date__gte=timezone.localdate()).order_by("date", "pk"),
                                per_page=10, param="exceptions"),
        "amenities": Amenity.objects.all(), "has": set(station.amenities.values_list("code",
                                                                                  flat=True)),
        "stock": stock, "goods": GoodsItem.objects.all(),
        "lendable": GoodsItem.objects.filter(lendable=True),
        "loans": loans, "service_items": station.services.all() or ServiceItem.objects.all(),
        "movements": page_list(request, stock_movement_list(request.user, station=station)
                               .order_by("-at", "-pk"), per_page=15, param="movements"),
        "records": records, "served_people": people, "served_records": count,
        "checkin_url": checkin_url,
        "qr": segno.make(checkin_url, error="m").svg_inline(scale=4),
        "today": timezone.localdate().isoformat(),
    }


def _render_console(request, station, *, form: str = "", saved: StrOrPromise = ""):
    ctx = _console_context(request, station)
    ctx.update({"form": form, "saved": saved})
    return render(request, "stations/console.html", ctx)


@staff_page(*CONSOLE_ROLES)
def console_list(request):
    page = page_list(request, station_managed_list(request.user).order_by("name", "pk"))
    if page.count == 1 and request.user.has_role(Role.STEWARD) and \
            not request.user.has_role(Role.AREA_ADMIN, Role.DISTRICT_ADMIN):
        return redirect("steward:console", station_id=page.items[0].pk)
    return render(request, "stations/console_list.html",
                  {"rows": desk_rows(request.user, page.items), "page": page})


@staff_page(*CONSOLE_ROLES)
def console(request, station_id: int):
    station = access_station_by_id(request.user, station_id, for_change=True)
    done = request.GET.get("done", "")
    return _render_console(request, station, form=done, saved=DONE.get(done, ""))


def _action(form: str, run):
    """A console form: authorize the station, parse and call one service (`run`), then show the
    console again (htmx: in place; otherwise redirect after POST). A refusal changes nothing and
    comes back with its status (422, 409) and the console again: that form's input kept, the
    message beside the field or at the top of that form (core/refusals.py)."""

    @require_POST
    @staff_page(*CONSOLE_ROLES)
    def view(request, station_id: int, **kwargs):
        station = access_station_by_id(request.user, station_id, for_change=True)
        try:
            run(request, station, **kwargs)
        except ApplicationError as exc:
            ctx = {**_console_context(request, station), "form": form}
            # The refused form shows what was typed, not what is stored (the others stay).
            if form == "status":
                ctx["typed"] = True
            elif form == "hours":
                ctx["hours_grid"] = _hours_grid_typed(request.POST)
            elif form == "amenities":
                ctx["has"] = set(request.POST.getlist("amenity"))
            return refused(request, "stations/console.html", ctx, exc,
                           fields=FIELDS.get(form, ()))
        if request.htmx:
            return _render_console(request, station, form=form, saved=DONE[form])
        return redirect(f"{reverse('steward:console', args=[station.pk])}?done={form}#{form}")

    view.__name__ = f"console_{form}"
    return view


def _status(request, station):
    services.station_set_status(
        actor=request.user, station=station, request=request,
        temporarily_closed=request.POST.get("temporarily_closed") == "on",
        note=request.POST.get("closed_note", ""), is_24h=request.POST.get("is_24h") == "on")


def _hours(request, station):
    spans = []
    for d in range(7):
        # The grid shows at least SPANS_PER_DAY spans, more when a day already has more (API):
        # read them all so saving the form never drops one silently.
        for i in range(max(SPANS_PER_DAY, 6)):
            opens = _time(request.POST.get(f"o{d}_{i}", ""))
            closes = _time(request.POST.get(f"c{d}_{i}", ""))
            if opens is None and closes is None:
                continue
            if opens is None or closes is None:
                raise InvalidInput(gettext_lazy("%(day)s：请同时填写开门和关门时间。"),
                                   params={"day": WEEKDAY_LABELS[d]}, field=f"o{d}_{i}")
            spans.append((d, opens, closes))
    services.station_set_hours(actor=request.user, station=station, spans=spans,
                               request=request)


def _exception(request, station):
    if not nfkc(request.POST.get("date", "")):
        raise InvalidInput(gettext_lazy("请选择日期。"), field="date")
    day = normalise_date(request.POST["date"], field="date")
    closed = request.POST.get("closed") == "on"
    services.station_set_exception(
        actor=request.user, station=station, date=day, closed=closed,
        opens=None if closed else _time(request.POST.get("opens", "")),
        closes=None if closed else _time(request.POST.get("closes", "")),
        note=request.POST.get("note", ""), request=request)


def _exception_delete(request, station, exception_id: int):
    exception = access_exception_by_id(request.user, exception_id, station=station)
    services.station_delete_exception(actor=request.user, station=station, exception=exception,
                                      request=request)


def _amenities(request, station):
    services.station_set_amenities(actor=request.user, station=station,
                                   codes=request.POST.getlist("amenity"), request=request)


def _stock(request, station):
    reason = request.POST.get("reason", "")
    quantity = _quantity(request.POST.get("quantity", ""))
    if reason not in (StockMovement.Reason.IN, StockMovement.Reason.OUT):
        raise InvalidInput(gettext_lazy("请选择入库或发放。"), field="reason")
    services.stock_change(actor=request.user, station=station,
                          item_code=request.POST.get("item", ""), request=request,
                          delta=quantity if reason == StockMovement.Reason.IN else -quantity,
                          reason=reason, note=request.POST.get("note", ""))


def _borrower(request) -> User:
    if not request.POST.get("mobile", "").strip():
        raise InvalidInput(gettext_lazy("请输入借用人的手机号。"), field="mobile")
    return worker_by_mobile(request.POST["mobile"])


def _lend(request, station):
    worker = _borrower(request)
    services.loan_create(actor=request.user, station=station, worker=worker, request=request,
                         item_code=request.POST.get("item", ""))


def _return(request, station, loan_id: int):
    loan = access_loan_by_id(request.user, loan_id, station=station)
    services.loan_return(actor=request.user, loan=loan, station=station, request=request)


def _return_any(request, station):
    """An item lent at any station comes back here: found by the worker's mobile and the item,
    as the API's return_item_by_borrower does."""
    loan = access_open_loan_by_borrower(request.user, station=station, worker=_borrower(request),
                                        item_code=request.POST.get("item", ""))
    services.loan_return(actor=request.user, loan=loan, station=station, request=request)


def _record(request, station):
    mobile = request.POST.get("mobile", "")
    worker = worker_by_mobile(mobile) if mobile.strip() else None
    services.service_record_create(
        actor=request.user, station=station, service_code=request.POST.get("service", ""),
        worker=worker, worker_label="" if worker else request.POST.get("name", ""),
        note=request.POST.get("note", ""), request=request,
        at=_at(request.POST.get("at", "")))


def _at(raw: str) -> datetime | None:
    raw = nfkc(raw)
    if not raw:
        return None
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(gettext_lazy("服务时间格式不对。"), field="at") from None
    check_date(at.date(), field="at")
    return timezone.make_aware(at) if timezone.is_naive(at) else at


console_status = _action("status", _status)
console_hours = _action("hours", _hours)
console_exception = _action("exception", _exception)
console_exception_delete = _action("exception", _exception_delete)
console_amenities = _action("amenities", _amenities)
console_stock = _action("stock", _stock)
console_lend = _action("lend", _lend)
console_return = _action("loans", _return)
console_return_any = _action("loans", _return_any)
console_record = _action("record", _record)
