"""Volunteering pages. Worker (mobile first): tasks in my areas and near me, a task's shifts and
the sign-up, my shifts and hours, the page the place's QR code opens (check in / out).
Organiser: my tasks and a new one, a task's shifts and its QR poster, a shift's roster with the
check-in desk, no-shows and the confirmation of hours. Each form calls one service."""

from __future__ import annotations

import math
import re
from datetime import datetime, time, timedelta

import segno
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from warmstation.accounts.models import Role
from warmstation.accounts.pages import staff_page
from warmstation.areas.scoping import managed_area_list
from warmstation.core.errors import ApplicationError, InvalidInput, NotFound
from warmstation.core.inputs import CLOCK_RE, nfkc, normalise_date, normalise_int
from warmstation.core.pagination import page_list
from warmstation.core.refusals import refused, refused_message
from warmstation.core.time import LOCAL
from warmstation.volunteering import selectors, services
from warmstation.volunteering.models import Activity, Signup, VolunteerTask
from warmstation.volunteering.permissions import (
    ORGANISERS,
    access_shift_by_id,
    access_signup_by_id,
    access_task_by_id,
    activity_list,
    organises,
    own_signup,
    roster_list,
    task_list,
)

# --- small parsers for page forms (the API's schemas do the same for bodies) ----------------


def parse_clock(raw: str, *, field: str) -> time:
    raw = nfkc(raw)
    if not re.fullmatch(CLOCK_RE, raw):
        raise InvalidInput(_("请按 时:分 填写时间（如 07:30）。"), code="invalid_time",
                           field=field)
    return time.fromisoformat(raw)


def parse_float(raw: str, *, lo: float, hi: float, field: str) -> float:
    try:
        value = float(nfkc(raw))
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not lo <= value <= hi:
        raise InvalidInput(_("请输入有效的数字。"), code="invalid_number", field=field)
    return value


def optional_position(post) -> tuple[float | None, float | None]:
    """The phone's position sent with a scan, if it gave one (a bad value counts as none:
    the QR code alone still proves the place)."""
    try:
        return (parse_float(post.get("lat", ""), lo=-90, hi=90, field="lat"),
                parse_float(post.get("lng", ""), lo=-180, hi=180, field="lng"))
    except InvalidInput:
        return None, None


def local_span(day_raw: str, start_raw: str, end_raw: str) -> tuple[datetime, datetime]:
    """A shift typed as a day and two times of day in Shanghai: an end not after the start
    is the next morning (an overnight shift)."""
    day = normalise_date(day_raw, field="date")
    start = parse_clock(start_raw, field="starts")
    end = parse_clock(end_raw, field="ends")
    starts_at = datetime.combine(day, start, tzinfo=LOCAL)
    ends_at = datetime.combine(day, end, tzinfo=LOCAL)
    if ends_at <= starts_at:
        ends_at += timedelta(days=1)
    return starts_at, ends_at


# --- worker pages ---------------------------------------------------------------------------

def _worker_paths(user) -> list[str]:
    profile = getattr(user, "worker_profile", None)
    return [a.path for a in profile.areas.all()] if profile else []


@staff_page(Role.WORKER)
def tasks(request):
    """Tasks in my areas, or near me when the phone gave a position (?lat=&lng=)."""
    g = request.GET
    near = None
    try:
        if g.get("lat") and g.get("lng"):
            near = (parse_float(g["lat"], lo=-90, hi=90, field="lat"),
                    parse_float(g["lng"], lo=-180, hi=180, field="lng"))
    except InvalidInput:
        near = None
    if near:
        rows = selectors.task_nearby(user=request.user, lat=near[0], lng=near[1], radius_m=10_000)
        page = page_list(request, rows, per_page=20)
    else:
        page = page_list(request, selectors.task_browse(user=request.user,
                                                        area_paths=_worker_paths(request.user)),
                         per_page=20)
    mine = set(Signup.objects.filter(
        worker=request.user, shift__task__in=[t.pk for t in page],
        status__in=[Signup.Status.PLACED, Signup.Status.WAITLIST])
        .values_list("shift__task_id", flat=True))
    return render(request, "volunteering/tasks.html",
                  {"tasks": page, "page": page, "near": near, "mine": mine})


@staff_page(Role.WORKER, *ORGANISERS)
def task(request, task_id: int):
    t = access_task_by_id(request.user, task_id)
    now = timezone.now()
    shifts = list(t.shifts.filter(ends_at__gt=now).order_by("starts_at", "id")[:50])
    mine = {s.shift_id: s for s in Signup.objects.filter(worker=request.user, shift__in=shifts)}
    for s in shifts:
        s.mine = mine.get(s.pk)  # type: ignore[attr-defined]
    return render(request, "volunteering/task.html", {
        "t": t, "shifts": shifts, "now": now, "is_worker": request.user.has_role(Role.WORKER),
        "can_manage": organises(request.user, t.area)})


@require_POST
@staff_page(Role.WORKER)
def signup(request, shift_id: int):
    shift = access_shift_by_id(request.user, shift_id)
    try:
        s = services.shift_signup(worker=request.user, shift_id=shift.pk, request=request)
    except ApplicationError as exc:
        refused_message(request, exc)
    else:
        messages.success(request, _("报名成功。") if s.status == Signup.Status.PLACED
                         else _("名额已满，您已进入候补，有空位时会短信通知您。"))
    return redirect("volunteering:task", task_id=shift.task_id)


@require_POST
@staff_page(Role.WORKER)
def cancel(request, signup_id: int):
    s = own_signup(request.user, signup_id)
    try:
        services.signup_cancel(actor=request.user, signup_id=s.pk, request=request)
    except ApplicationError as exc:
        refused_message(request, exc)
    else:
        messages.success(request, _("已取消报名。"))
    return redirect("volunteering:mine")


@staff_page(Role.WORKER)
def mine(request):
    page = page_list(request, selectors.my_signups(request.user), per_page=20)
    return render(request, "volunteering/mine.html", {
        "signups": page, "page": page, "hours": selectors.my_hours(request.user),
        "now": timezone.now()})


@require_http_methods(["GET", "POST"])
@staff_page(Role.WORKER)
def check(request, token: str):
    """The page the place's QR code opens. GET shows the shift and asks (a link preview must
    not check anyone in); POST checks in or out, with the phone's position when it gave one."""
    t = next((x for x in VolunteerTask.objects.filter(checkin_token=token[:32])
              if x.checkin_token == token), None)
    if t is None:
        raise NotFound()
    now = timezone.now()
    current = (Signup.objects.filter(worker=request.user, shift__task=t, shift__closed_at=None,
                                     checked_out_at=None,
                                     status__in=[Signup.Status.PLACED, Signup.Status.NO_SHOW],
                                     shift__ends_at__gte=now - services.CLOSE_GRACE)
               .select_related("shift").order_by("shift__starts_at").first())
    ctx = {"t": t, "token": token, "current": current}
    if request.method == "POST":
        lat, lng = optional_position(request.POST)
        try:
            ctx["done"] = services.attendance_scan(worker=request.user, token=token, lat=lat,
                                                   lng=lng, request=request)
        except ApplicationError as exc:
            return refused(request, "volunteering/check.html", ctx, exc)
    return render(request, "volunteering/check.html", ctx)


# --- organiser pages ------------------------------------------------------------------------

TASK_FIELDS = ("area", "kind", "title", "description", "place_name", "lat", "lng",
               "checkin_radius_m")


def _organise_ctx(request) -> dict:
    return {"tasks": page_list(request, task_list(request.user, managed=True)
                               .order_by("-created_at", "-id"), per_page=20),
            "areas": list(managed_area_list(request.user, roles=ORGANISERS).order_by("path")),
            "kinds": VolunteerTask.Kind.choices}


@require_http_methods(["GET", "POST"])
@staff_page(*ORGANISERS)
def organise(request):
    ctx = _organise_ctx(request)
    ctx["page"] = ctx["tasks"]
    if request.method == "POST":
        p = request.POST
        try:
            area = next((a for a in ctx["areas"] if a.code == p.get("area", "")), None)
            if area is None:
                raise InvalidInput(_("区域无效。"), field="area")
            t = services.task_save(
                actor=request.user, task=VolunteerTask(), area=area, kind=p.get("kind", ""),
                title=p.get("title", ""), description=p.get("description", ""),
                place_name=p.get("place_name", ""),
                lat=parse_float(p.get("lat", ""), lo=-90, hi=90, field="lat"),
                lng=parse_float(p.get("lng", ""), lo=-180, hi=180, field="lng"),
                checkin_radius_m=normalise_int(p.get("checkin_radius_m") or "200", lo=20,
                                               hi=5000, field="checkin_radius_m"),
                request=request)
        except ApplicationError as exc:
            return refused(request, "volunteering/organise.html", ctx, exc, fields=TASK_FIELDS)
        messages.success(request, _("任务已创建，请添加班次。"))
        return redirect("volunteering:manage", task_id=t.pk)
    return render(request, "volunteering/organise.html", ctx)


SHIFT_FIELDS = ("date", "starts", "ends", "capacity", "cancel_hours", "note")


def _manage_ctx(request, t: VolunteerTask) -> dict:
    check_url = request.build_absolute_uri(reverse("volunteering:check", args=[t.checkin_token]))
    return {"t": t, "check_url": check_url,
            "qr": segno.make_qr(check_url, error="m").svg_inline(scale=4),
            "shifts": page_list(request, t.shifts.order_by("-starts_at", "-id"), per_page=20),
            "today": timezone.localdate().isoformat()}


@require_http_methods(["GET", "POST"])
@staff_page(*ORGANISERS)
def manage(request, task_id: int):
    """A task for its organiser: the QR poster of its place, its shifts, a new shift."""
    t = access_task_by_id(request.user, task_id, for_change=True)
    ctx = _manage_ctx(request, t)
    ctx["page"] = ctx["shifts"]
    if request.method == "POST":
        p = request.POST
        try:
            starts_at, ends_at = local_span(p.get("date", ""), p.get("starts", ""),
                                            p.get("ends", ""))
            hours = normalise_int(p.get("cancel_hours") or "2", lo=0, hi=240,
                                  field="cancel_hours")
            services.shift_create(
                actor=request.user, task=t, starts_at=starts_at, ends_at=ends_at,
                capacity=normalise_int(p.get("capacity", ""), lo=1, hi=services.CAPACITY_MAX,
                                       field="capacity"),
                cancel_deadline=starts_at - timedelta(hours=hours), note=p.get("note", ""),
                request=request)
        except ApplicationError as exc:
            return refused(request, "volunteering/manage.html", ctx, exc, fields=SHIFT_FIELDS)
        messages.success(request, _("班次已添加。"))
        return redirect("volunteering:manage", task_id=t.pk)
    return render(request, "volunteering/manage.html", ctx)


@staff_page(*ORGANISERS)
def roster(request, shift_id: int):
    """A shift's roster and check-in desk: places and waitlist, who came, hours, no-shows,
    confirmation."""
    shift = access_shift_by_id(request.user, shift_id, for_change=True)
    page = page_list(request, roster_list(request.user, shift), per_page=50)
    return render(request, "volunteering/roster.html", {
        "shift": shift, "t": shift.task, "signups": page, "page": page,
        "now": timezone.now()})


DONE = {"check_in": _("已签到。"), "check_out": _("已签退。"), "no_show": _("已记为未到岗。"),
        "confirm": _("工时已确认，积分已发放。")}


@require_POST
@staff_page(*ORGANISERS)
def desk(request, signup_id: int):
    s = access_signup_by_id(request.user, signup_id, for_change=True)
    action = request.POST.get("action", "")
    try:
        if action == "confirm":
            services.attendance_confirm(actor=request.user, signup=s, request=request)
        else:
            services.attendance_mark(actor=request.user, signup=s, action=action,
                                     request=request)
    except ApplicationError as exc:
        refused_message(request, exc)
    else:
        messages.success(request, DONE[action])
    return redirect("volunteering:roster", shift_id=s.shift_id)


# --- the 四个一 activities ---------------------------------------------------------------------

ACTIVITY_FIELDS = ("area", "kind", "title", "held_on", "people_reached", "note", "station",
                   "participants")


def _activities_ctx(request) -> dict:
    from warmstation.stations.models import GoodsItem, Station

    areas = list(managed_area_list(request.user, roles=ORGANISERS).order_by("path"))
    acts = activity_list(request.user)
    page = page_list(request, acts.order_by("-held_on", "-id"), per_page=20)
    figures = selectors.four_ones_figures(activities=acts)
    return {"activities": page, "page": page, "areas": areas, "figures": figures,
            "reached": sum(f["reached"] for f in figures),
            "kinds": Activity.Kind.choices,
            "stations": list(Station.objects.filter(
                area__in=[a.pk for a in areas], is_active=True).order_by("name")[:200]),
            "goods": list(GoodsItem.objects.filter(lendable=False).order_by("code")),
            "today": timezone.localdate().isoformat()}


@require_http_methods(["GET", "POST"])
@staff_page(*ORGANISERS)
def activities(request):
    """The 四个一 activities of my areas, their figures, and a new one."""
    from warmstation.accounts.selectors import worker_by_mobile
    from warmstation.core.inputs import parse_id
    from warmstation.volunteering.activities import activity_record

    ctx = _activities_ctx(request)
    if request.method == "POST":
        p = request.POST
        try:
            area = next((a for a in ctx["areas"] if a.code == p.get("area", "")), None)
            if area is None:
                raise InvalidInput(_("区域无效。"), field="area")
            station_id = parse_id(p.get("station", ""))
            station = next((s for s in ctx["stations"] if s.pk == station_id), None)
            if p.get("station") and station is None:
                raise InvalidInput(_("驿站无效。"), field="station")
            goods = [(g.code, normalise_int(p.get(f"qty_{g.code}"), lo=0, hi=1000,
                                            field="station"))
                     for g in ctx["goods"] if p.get(f"qty_{g.code}", "").strip()]
            mobiles = [m for m in re.split(r"[\s,，、]+", p.get("participants", "")) if m]
            people = [worker_by_mobile(m) for m in mobiles[:60]]
            activity_record(
                actor=request.user, area=area, kind=p.get("kind", ""), title=p.get("title", ""),
                held_on=normalise_date(p.get("held_on", ""), field="held_on"),
                people_reached=normalise_int(p.get("people_reached", ""), lo=1, hi=100_000,
                                             field="people_reached"),
                note=p.get("note", ""), station=station, goods=goods, participants=people,
                request=request)
        except ApplicationError as exc:
            if exc.field == "mobile":
                exc.field = "participants"
            return refused(request, "volunteering/activities.html", ctx, exc,
                           fields=ACTIVITY_FIELDS)
        messages.success(request, _("活动已登记。"))
        return redirect("volunteering:activities")
    return render(request, "volunteering/activities.html", ctx)
