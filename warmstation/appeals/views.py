"""Pages for needs: a worker's own needs and the form (with policy suggestions while typing),
a case with its timeline and the steps the viewer may take, the department inbox, the district
board, meeting intake, the policy Q&A, and the spreadsheet export of any list one can see."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from warmstation.accounts.models import Brand, Role
from warmstation.accounts.pages import staff_page
from warmstation.accounts.selectors import worker_by_mobile
from warmstation.appeals import policy, rates, selectors, services, workflow
from warmstation.appeals.models import Appeal, Category, Department
from warmstation.appeals.permissions import (
    DISPATCHERS,
    access_attachment_by_id,
    access_case_by_id,
    access_policy_answer_by_id,
)
from warmstation.areas.models import Area
from warmstation.areas.scoping import access_area_by_code, managed_area_list
from warmstation.core.errors import ApplicationError, InvalidInput, NotFound, PermissionDenied
from warmstation.core.exports import export_response
from warmstation.core.inputs import normalise_date, normalise_month, parse_id
from warmstation.core.pagination import page_list
from warmstation.core.refusals import refused, refused_message

STAFF = (Role.DEPARTMENT, *DISPATCHERS)
RAISERS = (Role.WORKER, Role.STEWARD, *DISPATCHERS)
EVERYONE = (Role.WORKER, Role.STEWARD, Role.DEPARTMENT, *DISPATCHERS, Role.RESIDENT,
            Role.MERCHANT)


def _filters(request) -> dict:
    g = request.GET
    overdue = {"1": True, "0": False}.get(g.get("overdue", ""))
    dept = g.get("department", "")
    return {"status": g.get("status") or None, "category": g.get("category") or None,
            "overdue": overdue, "urgent": True if g.get("urgent") == "1" else None,
            "department_id": parse_id(dept),
            "q": g.get("q", "")[:50] or None}


@staff_page(Role.WORKER)
def mine(request):
    page = page_list(request, selectors.appeal_list(user=request.user, mine=True), per_page=20)
    return render(request, "appeals/mine.html", {"cases": page, "page": page})


def _area_choices(user):
    if user.has_role(*DISPATCHERS):
        return list(managed_area_list(user, roles=DISPATCHERS).order_by("path"))
    profile = getattr(user, "worker_profile", None)
    own = list(profile.areas.all()) if profile else []
    return own + [a for a in Area.objects.filter(depth=1).order_by("path") if a not in own]


NEW_FIELDS = ("worker_mobile", "category", "area", "title", "body")


def _chosen_area(user, code: str, **kwargs) -> Area:
    """An area picked in a form: one the user may not use is a wrong choice (422 beside the
    field), not a missing page."""
    try:
        return access_area_by_code(user, code, **kwargs)
    except NotFound:
        raise InvalidInput(_("区域无效。"), field="area") from None


@staff_page(*RAISERS)
def new(request):
    user = request.user
    on_behalf = user.has_role(Role.STEWARD, *DISPATCHERS)
    ctx = {"categories": Category.objects.filter(is_active=True), "areas": _area_choices(user),
           "on_behalf": on_behalf, "form": request.POST or {}, "client_key": uuid.uuid4().hex}
    if request.method == "POST":
        p = request.POST
        try:
            category = Category.objects.filter(code=p.get("category", ""), is_active=True).first()
            area = _chosen_area(user, p.get("area", ""))
            if category is None:
                raise InvalidInput(_("请选择类别。"), field="category")
            submitter = worker_by_mobile(p["worker_mobile"]) \
                if on_behalf and p.get("worker_mobile", "").strip() else None
            appeal = services.appeal_create(
                actor=user, category=category, area=area, title=p.get("title", ""),
                body=p.get("body", ""), submitter=submitter,
                anonymous_public=bool(p.get("anonymous_public")),
                hide_from_department=bool(p.get("hide_from_department")),
                urgent=bool(p.get("urgent")) and on_behalf,
                files=request.FILES.getlist("photos")[:3],
                client_key=p.get("client_key", "").strip(), request=request)
        except ApplicationError as exc:
            return refused(request, "appeals/new.html", ctx, exc, fields=NEW_FIELDS)
        messages.success(request, _("诉求已提交。"))
        return redirect("appeals:detail", appeal_id=appeal.pk)
    return render(request, "appeals/new.html", ctx)


@staff_page(*EVERYONE)
def suggest(request):
    """Policy answers matching what the worker is typing (an htmx partial)."""
    text = f"{request.GET.get('title', '')} {request.GET.get('body', '')}"
    return render(request, "appeals/partials/_suggestions.html",
                  {"answers": policy.policy_search(text, limit=3)})


# The fields of a case's action forms a refusal can be shown beside (core/_field_error.html).
ACT_FIELDS = ("note", "department", "into_id", "resolved", "satisfaction")


def _detail_context(request, appeal: Appeal) -> dict:
    actions = selectors.available_actions(appeal, request.user)
    departments = Department.objects.filter(is_active=True)
    return {"a": appeal, "who": selectors.submitter_label(appeal, request.user),
            "timeline": selectors.appeal_timeline(appeal), "actions": actions,
            "labels": workflow.ACTION_NAMES, "now": timezone.now(),
            "departments": departments,
            # a case is never transferred to the department that holds it (the service refuses)
            "transfer_departments": departments.exclude(pk=appeal.department_id)
            if appeal.department_id else departments,
            "suggested": services.appeal_route(category=appeal.category, area=appeal.area)
            if "dispatch" in actions else None,
            "policy_answers": policy.policy_search(f"{appeal.title} {appeal.body}", limit=5)
            if "answer" in actions else [],
            "satisfactions": Appeal.Satisfaction.choices}


@staff_page(*EVERYONE)
def detail(request, appeal_id: int):
    appeal = access_case_by_id(request.user, appeal_id)
    return render(request, "appeals/detail.html", _detail_context(request, appeal))


@require_POST
@staff_page(*EVERYONE)
def act(request, appeal_id: int):
    p = request.POST
    resolved = {"yes": True, "no": False}.get(p.get("resolved", ""))
    dept = Department.objects.filter(code=p.get("department", "")).first() \
        if p.get("department") else None
    answer_id = parse_id(p.get("policy_answer"))
    answer = access_policy_answer_by_id(request.user, answer_id) if answer_id else None
    into = p.get("into", "").strip().upper().removeprefix("SQ")[-6:]
    try:
        services.appeal_transition(
            actor=request.user, appeal_id=appeal_id, action=p.get("action", ""),
            note=p.get("note", ""), department=dept, resolved=resolved,
            satisfaction=p.get("satisfaction", ""), into_id=parse_id(into),
            policy_answer=answer, urgent=p.get("urgent", "1") == "1",
            files=request.FILES.getlist("photos")[:3], request=request)
    except PermissionDenied as exc:  # a step not offered to this user: no form to fill again
        refused_message(request, exc)
        return redirect("appeals:detail", appeal_id=appeal_id)
    except ApplicationError as exc:
        # The case page again with this form's input kept and the message beside its field
        # (NotFound: the case is not the user's to see, the 404 page).
        appeal = access_case_by_id(request.user, appeal_id)
        return refused(request, "appeals/detail.html",
                       {**_detail_context(request, appeal), "form": p.get("action", "")},
                       exc, fields=ACT_FIELDS)
    messages.success(request, _("已提交。"))
    try:  # a transfer or a return can take the case out of the actor's scope
        access_case_by_id(request.user, appeal_id)
    except NotFound:
        return redirect("appeals:inbox" if request.user.has_role(*STAFF) else "appeals:mine")
    return redirect("appeals:detail", appeal_id=appeal_id)


@staff_page(*EVERYONE)
def attachment(request, attachment_id: int):
    """A photo on a case's timeline, only for whoever may see the case."""
    item = access_attachment_by_id(request.user, attachment_id)  # NotFound: the 404 page
    try:
        handle = item.file.open("rb")
    except OSError:
        raise NotFound() from None
    response = FileResponse(handle, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@staff_page(*STAFF)
def inbox(request):
    f = _filters(request)
    qs = selectors.appeal_list(user=request.user, **f)
    if request.method == "POST":
        ids = [i for i in map(parse_id, request.POST.getlist("ids")) if i]
        dept = Department.objects.filter(code=request.POST.get("department", "")).first()
        try:
            # Nothing ticked or no action chosen runs nothing: said, not "完成 0 条".
            if not ids:
                raise InvalidInput(_("请先勾选要处理的诉求。"), code="nothing_ticked", field="ids")
            if not request.POST.get("action"):
                raise InvalidInput(_("请选择批量操作。"), code="no_action", field="action")
            result = services.appeal_bulk(actor=request.user, ids=ids,
                                          action=request.POST.get("action", ""),
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
    page = page_list(request, qs)
    ctx = {"cases": page, "page": page, "f": f, "now": timezone.now(),
           "statuses": Appeal.Status.choices, "categories": Category.objects.all(),
           "departments": Department.objects.filter(is_active=True),
           "is_dispatcher": request.user.has_role(*DISPATCHERS),
           "query": request.GET.urlencode()}
    if request.htmx:
        return render(request, "appeals/inbox.html#rows", ctx)
    return render(request, "appeals/inbox.html", ctx)


@staff_page(*STAFF)
def board(request):
    month = timezone.localdate().replace(day=1)
    if request.GET.get("month"):
        try:
            month = normalise_month(request.GET["month"])
        except InvalidInput as exc:  # out of 2000..2100 or not a month: say so, show this month
            messages.error(request, exc.message(request.LANGUAGE_CODE))
    data = rates.board(user=request.user, month=month)
    overdue = selectors.appeal_list(user=request.user, overdue=True)
    return render(request, "appeals/board.html", {
        "b": data, "overdue_count": overdue.count(),
        "overdue": page_list(request, overdue, per_page=20),
        "month_value": f"{month:%Y-%m}", "now": timezone.now()})


@staff_page(*DISPATCHERS)
def meeting_new(request):
    areas = list(managed_area_list(request.user, roles=DISPATCHERS).order_by("path"))
    ctx = {"areas": areas, "categories": Category.objects.filter(is_active=True),
           "brands": Brand.objects.exclude(code="other"),
           # each row as typed, so a refused form comes back filled in
           "rows": [{key: request.POST.get(f"{key}_{i}", "") for key in
                     ("company", "category", "title", "body")} | {"i": i} for i in range(5)]}
    if request.method == "POST":
        p = request.POST
        needs = []
        for i in range(5):
            title, body = p.get(f"title_{i}", "").strip(), p.get(f"body_{i}", "").strip()
            if not title:
                continue
            needs.append({"category": Category.objects.filter(code=p.get(f"category_{i}")).first(),
                          "title": title, "body": body or title,
                          "company": Brand.objects.filter(code=p.get(f"company_{i}", "")).first()})
        try:
            area = _chosen_area(request.user, p.get("area", ""), for_change=True)
            if any(n["category"] is None for n in needs):
                raise InvalidInput(_("请为每条诉求选择类别。"))
            held_on = normalise_date(p.get("held_on") or timezone.localdate(), field="held_on")
            meeting = services.meeting_record(
                actor=request.user, title=p.get("title", ""), area=area, needs=needs,
                held_on=held_on, request=request)
        except ApplicationError as exc:
            return refused(request, "appeals/meeting.html", ctx, exc, fields=("area", "held_on"))
        messages.success(request, _("已登记 %(n)s 条诉求。") % {"n": meeting.appeals.count()})
        return redirect("appeals:inbox")
    return render(request, "appeals/meeting.html", ctx)


@staff_page(*EVERYONE)
def policy_list(request):
    q = request.GET.get("q", "")[:100]
    page = page_list(request, policy.policy_ranked(q), per_page=20)
    return render(request, "appeals/policy.html", {"answers": page, "page": page, "q": q})


EXPORT_HEADER = ["编号", "标题", "类别", "区域", "状态", "紧急", "承办部门", "提交人", "手机号",
                 "企业", "受理时间", "当前时限", "超期", "是否解决", "满意度"]
# An export is the whole list the user is looking at, never a silent part of it: above this
# many rows it is refused with a message to narrow the filters.
EXPORT_MAX_ROWS = 50_000


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


@staff_page(*EVERYONE)
def export(request, fmt: str = "xlsx"):
    """The list the user is looking at (same filters, same scope) as a spreadsheet."""
    f = _filters(request)
    mine_only = request.GET.get("mine") == "1" or not request.user.has_role(*STAFF)
    qs = selectors.appeal_list(user=request.user, mine=mine_only, **f)
    if qs.count() > EXPORT_MAX_ROWS:
        messages.error(request, _("符合条件的诉求超过 %(n)s 条，请缩小筛选范围后再导出。")
                       % {"n": EXPORT_MAX_ROWS})
        return redirect("appeals:mine" if mine_only else "appeals:inbox")

    def rows():
        for a in qs.iterator(chunk_size=2000):
            who = selectors.submitter_label(a, request.user)
            yield [a.number, a.title, a.category.name_zh, a.area.name_zh,
                   a.get_status_display(), "是" if a.urgent else "",
                   a.department.name_zh if a.department else "", who["name"], who["mobile"],
                   a.company.name_zh if a.company else "", _local(a.created_at),
                   _local(a.current_due), "是" if a.is_overdue else "",
                   {True: "已解决", False: "未解决"}.get(a.resolved, ""),
                   a.get_satisfaction_display()]

    return export_response(
        request, fmt=fmt, filename=f"诉求-{timezone.localdate():%Y%m%d}", sheet_title="诉求",
        header=EXPORT_HEADER, rows=rows(), object_type="appeals.appeal",
        audit_detail={"filters": {k: str(v) for k, v in f.items() if v}})
