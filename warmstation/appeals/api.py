"""Needs and complaints (急难愁盼, 接诉即办): intake, the workflow, the board, the policy Q&A and
the district's rules. Every case is read through access_case_by_id / case_visible_q."""

from datetime import date, datetime
from typing import Annotated, Literal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Field, Header, Router, Schema, Status
from ninja.pagination import paginate

from warmstation.accounts.models import Brand, Role
from warmstation.accounts.selectors import worker_by_mobile
from warmstation.appeals import policy, rates, rules, selectors, services, workflow
from warmstation.appeals.models import (
    Appeal,
    AppealEvent,
    Category,
    Department,
    PolicyAnswer,
    RoutingRule,
)
from warmstation.appeals.permissions import (
    DISPATCHERS,
    access_case_by_id,
    access_category_by_code,
    access_policy_answer_by_id,
    own_department,
)
from warmstation.appeals.services import MeetingNeed
from warmstation.areas.scoping import access_area_by_code
from warmstation.core.errors import InvalidInput
from warmstation.core.pagination import Rows
from warmstation.core.permissions import require_roles
from warmstation.core.schemas import AUTH_ERRORS, Day, Id, Line, Mobile, ProblemOut, Text

router = Router(tags=["appeals"])
STAFF = (Role.DEPARTMENT, Role.AREA_ADMIN, Role.DISTRICT_ADMIN)
ERR = {404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS}


class CategoryOut(Schema):
    code: str
    name_zh: str
    name_en: str
    answer_hours: int
    resolve_days: int
    is_policy: bool


class CategoryPatch(Schema):
    name_zh: Annotated[str, Line(32, min_length=1)] | None = None
    answer_hours: int | None = Field(None, ge=1, le=2000)
    resolve_days: int | None = Field(None, ge=1, le=365)
    is_policy: bool | None = None
    is_active: bool | None = None


class RuleIn(Schema):
    category: Annotated[str, Line(32)]
    area_code: Annotated[str, Line(32)] | None = None
    department: Annotated[str, Line(48)]


class RuleOut(Schema):
    id: int
    category: str = Field(alias="category.code")
    area_code: str | None
    department: str = Field(alias="department.code")

    @staticmethod
    def resolve_area_code(obj):
        return obj.area.code if obj.area else None


class SettingsIn(Schema):
    dispatch_urgent_minutes: int | None = Field(None, ge=5, le=1440)
    dispatch_general_hours: int | None = Field(None, ge=1, le=240)
    respond_hours: int | None = Field(None, ge=1, le=240)
    complex_resolve_days: int | None = Field(None, ge=1, le=365)
    reopen_days: int | None = Field(None, ge=0, le=90)
    followup_days: int | None = Field(None, ge=1, le=90)
    fairly_satisfied_weight: float | None = Field(None, ge=0, le=1)


class AppealIn(Schema):
    category: Annotated[str, Line(32)]
    area_code: Annotated[str, Line(32)]
    title: Annotated[str, Line(100, min_length=1)]
    body: Annotated[str, Text(4000, min_length=1)]
    anonymous_public: bool = False
    hide_from_department: bool = False
    urgent: bool = False
    complex: bool = False
    worker_mobile: Mobile | None = Field(None, description="staff recording for a worker")


class NeedIn(Schema):
    category: Annotated[str, Line(32)]
    company: Annotated[str, Line(32)] | None = Field(None, description="brand code")
    title: Annotated[str, Line(100, min_length=1)]
    body: Annotated[str, Text(4000, min_length=1)]


class MeetingIn(Schema):
    title: Annotated[str, Line(128, min_length=1)]
    held_on: Day
    area_code: Annotated[str, Line(32)]
    needs: list[NeedIn] = Field(min_length=1, max_length=50)


class MeetingOut(Schema):
    id: int
    title: str
    appeal_ids: list[int]


class EventOut(Schema):
    at: datetime
    action: str
    from_status: str
    to_status: str
    department: str | None
    note: str
    actor: str


class AppealOut(Schema):
    id: int
    number: str
    title: str
    category: str
    area_code: str
    status: str
    urgent: bool
    department: str | None
    submitter_name: str
    submitter_mobile: str
    company: str | None
    created_at: datetime
    current_due: datetime | None
    is_overdue: bool
    resolved: bool | None
    satisfaction: str


class AppealDetailOut(AppealOut):
    body: str
    answer: str
    dispatch_due: datetime
    respond_due: datetime | None
    answer_due: datetime | None
    resolve_due: datetime
    followup_due: date | None
    merged_into_id: int | None
    actions: list[str]
    timeline: list[EventOut]


class ActionIn(Schema):
    action: Literal["dispatch", "transfer", "accept", "return", "start", "answer", "rate",
                    "followup", "close", "reopen", "merge", "urgent", "note"]
    note: Annotated[str, Text(4000)] = ""
    department: Annotated[str, Line(48)] | None = None
    resolved: bool | None = None
    satisfaction: Literal["satisfied", "fairly", "dissatisfied", ""] = ""
    into_id: Id | None = None
    policy_answer_id: Id | None = None
    urgent: bool = True


class BulkIn(Schema):
    ids: list[Id] = Field(min_length=1, max_length=200)
    action: Literal["dispatch", "transfer", "accept"]
    department: Annotated[str, Line(48)] | None = None
    note: Annotated[str, Text(4000)] = ""


class BulkFailure(Schema):
    id: int
    zh: str
    en: str


class BulkOut(Schema):
    done: list[int]
    failed: list[BulkFailure]


class PolicyOut(Schema):
    id: int
    topic: str
    question: str
    answer: str
    source: str


class PolicyIn(Schema):
    topic: Literal["employment", "legal", "social_insurance"]
    question: Annotated[str, Text(200, min_length=1)]
    answer: Annotated[str, Text(8000, min_length=1)]
    keywords: Annotated[str, Line(200)] = ""
    source: Annotated[str, Line(200)] = ""
    is_active: bool = True


class RatesOut(Schema):
    name: str | None = None
    rank: int | None = None
    cases: int
    dispatched: int
    rated: int
    response: float | None
    resolution: float | None
    satisfaction: float | None
    on_time: float | None
    score: float | None


class TrendOut(RatesOut):
    month: date


class BoardOut(Schema):
    month: date
    totals: RatesOut
    departments: list[RatesOut]
    streets: list[RatesOut]
    trend: list[TrendOut]
    overdue: int


def _out(appeal: Appeal, viewer, *, detail: bool = False,
         events: tuple[AppealEvent, ...] | None = None) -> dict:
    """The case as `viewer` sees it; `events`: its timeline when the caller has it in hand (a
    need just taken in), instead of reading it."""
    who = selectors.submitter_label(appeal, viewer)
    now = timezone.now()
    data = {
        "id": appeal.pk, "number": appeal.number, "title": appeal.title,
        "category": appeal.category.code, "area_code": appeal.area.code,
        "status": appeal.status, "urgent": appeal.urgent,
        "department": appeal.department.code if appeal.department else None,
        "submitter_name": who["name"], "submitter_mobile": who["mobile"],
        "company": appeal.company.code if appeal.company else None,
        "created_at": appeal.created_at, "current_due": appeal.current_due,
        "is_overdue": bool(appeal.current_due and appeal.current_due < now
                           and appeal.status in workflow.OPEN),
        "resolved": appeal.resolved, "satisfaction": appeal.satisfaction,
    }
    if detail:
        data.update({
            "body": appeal.body, "answer": appeal.answer, "dispatch_due": appeal.dispatch_due,
            "respond_due": appeal.respond_due, "answer_due": appeal.answer_due,
            "resolve_due": appeal.resolve_due, "followup_due": appeal.followup_due,
            "merged_into_id": appeal.merged_into_id,
            "actions": selectors.available_actions(appeal, viewer),
            "timeline": [{"at": e.at, "action": e.action, "from_status": e.from_status,
                          "to_status": e.to_status, "note": e.note,
                          "department": e.department.code if e.department else None,
                          "actor": _actor_label(e, appeal, viewer)}
                         for e in (selectors.appeal_timeline(appeal) if events is None
                                   else events)],
        })
    return data


def _actor_label(event, appeal: Appeal, viewer) -> str:
    if event.actor_id is None:
        return "系统"
    if event.actor_id == appeal.submitter_id:
        return selectors.submitter_label(appeal, viewer)["name"]
    return event.department.name_zh if event.department and event.action in (
        "accept", "return", "start", "answer") else "工作人员"


def _category(code: str) -> Category:
    category = Category.objects.filter(code=code, is_active=True).first() if "\x00" not in code \
        else None
    if category is None:
        raise InvalidInput(_("未知类别。"), field="category")
    return category


def _department(code: str | None) -> Department | None:
    if not code:
        return None
    dept = Department.objects.filter(code=code, is_active=True).first() \
        if "\x00" not in code else None
    if dept is None:
        raise InvalidInput(_("未知部门。"), field="department")
    return dept


@router.get("/categories", url_name="appeal_categories", operation_id="list_appeal_categories",
            summary="Categories of needs with their limits",
            response={200: list[CategoryOut], **AUTH_ERRORS})
@paginate
def list_appeal_categories(request):
    return Category.objects.filter(is_active=True).order_by("code", "pk")


@router.patch("/categories/{code}", url_name="appeal_category",
              operation_id="update_appeal_category", summary="Change a category's limits",
              response={200: CategoryOut, **ERR})
@require_roles(Role.DISTRICT_ADMIN)
def update_appeal_category(request, code: Annotated[str, Line(32)], payload: CategoryPatch):
    category = access_category_by_code(request.user, code, for_change=True)
    return rules.category_update(actor=request.user, category=category, request=request,
                                 **payload.model_dump(exclude_unset=True))


@router.get("/routing-rules", url_name="appeal_rules", operation_id="list_routing_rules",
            summary="Routing rules (category × area → department)",
            response={200: list[RuleOut], **AUTH_ERRORS})
@require_roles(*STAFF)
@paginate
def list_routing_rules(request):
    return RoutingRule.objects.select_related("category", "area", "department") \
        .order_by("category__code", "area__path", "pk")


@router.put("/routing-rules", url_name="appeal_rule_set", operation_id="set_routing_rule",
            summary="Set the department for a category in an area (no area: the default)",
            response={200: RuleOut, **ERR})
@require_roles(Role.DISTRICT_ADMIN)
def set_routing_rule(request, payload: RuleIn):
    area = access_area_by_code(request.user, payload.area_code) if payload.area_code else None
    department = _department(payload.department)
    if department is None:  # "" names none, and a rule must name one
        raise InvalidInput(_("未知部门。"), field="department")
    return rules.routing_rule_set(actor=request.user, category=_category(payload.category),
                                  area=area, department=department, request=request)


@router.patch("/settings", url_name="appeal_settings", operation_id="update_appeal_settings",
              summary="Change the deadline settings",
              response={200: SettingsIn, 409: ProblemOut, **AUTH_ERRORS})
@require_roles(Role.DISTRICT_ADMIN)
def update_appeal_settings(request, payload: SettingsIn):
    conf = rules.appeal_settings_update(actor=request.user, request=request,
                                        **payload.model_dump(exclude_unset=True))
    return {k: getattr(conf, k) for k in SettingsIn.model_fields}


@router.post("", url_name="appeals", operation_id="create_appeal",
             summary="Raise a need (a worker), or record one for a worker (steward, admin)",
             response={201: AppealDetailOut, 429: ProblemOut, **ERR})
@require_roles(Role.WORKER, Role.STEWARD, *DISPATCHERS)
def create_appeal(request, payload: AppealIn,
                  idempotency_key: str = Header("", alias="Idempotency-Key",
                                                pattern=r"^([!-~]{1,64})?$")):
    """The same Idempotency-Key from the same person (a retry, a double tap) answers the first
    need again, with the same 201, and creates nothing."""
    area = access_area_by_code(request.user, payload.area_code)
    submitter = worker_by_mobile(payload.worker_mobile) if payload.worker_mobile else None
    filed = services.appeal_file(
        actor=request.user, category=_category(payload.category), area=area,
        title=payload.title, body=payload.body, submitter=submitter,
        anonymous_public=payload.anonymous_public,
        hide_from_department=payload.hide_from_department, urgent=payload.urgent,
        complex=payload.complex, client_key=idempotency_key, request=request)
    appeal = filed.appeal
    # A worker's own need is theirs to see: answered from the rows in hand (just taken in: its
    # timeline too). One recorded for someone else is read back through the choke point (which
    # case a recorder sees is its rule).
    if appeal.submitter_id != request.user.pk:
        return Status(201, _out(access_case_by_id(request.user, appeal.pk), request.user,
                                detail=True))
    return Status(201, _out(appeal, request.user, detail=True,
                            events=filed.events if filed.created else None))


@router.post("/meetings", url_name="appeal_meetings", operation_id="record_meeting",
             summary="Record a meeting with companies (座谈会) and the needs raised there",
             response={201: MeetingOut, **ERR})
@require_roles(*DISPATCHERS)
def record_meeting(request, payload: MeetingIn):
    area = access_area_by_code(request.user, payload.area_code, for_change=True)
    needs: list[MeetingNeed] = []
    for n in payload.needs:
        company = Brand.objects.filter(code=n.company).first() if n.company else None
        needs.append({"category": _category(n.category), "title": n.title, "body": n.body,
                      "company": company})
    meeting = services.meeting_record(actor=request.user, title=payload.title,
                                      held_on=payload.held_on, area=area, needs=needs,
                                      request=request)
    return Status(201, {"id": meeting.pk, "title": meeting.title,
                        "appeal_ids": list(meeting.appeals.values_list("pk", flat=True))})


@router.get("", url_name="appeal_list", operation_id="list_appeals",
            summary="Cases I may see, overdue first", response={200: list[AppealOut],
                                                                **AUTH_ERRORS})
@paginate
def list_appeals(request, status: Annotated[str, Line(16)] | None = None, category: Annotated[str, Line(32)] | None = None,
                 overdue: bool | None = None, urgent: bool | None = None, mine: bool = False):
    qs = selectors.appeal_list(user=request.user, status=status, category=category,
                               overdue=overdue, urgent=urgent, mine=mine)
    # Each case is rendered for its viewer (what they may see of the submitter).
    return Rows(qs, lambda page: [_out(a, request.user) for a in page])


@router.get("/board", url_name="appeal_board", operation_id="get_appeal_board",
            summary="Response, resolution, satisfaction and on-time rates, ranked",
            response={200: BoardOut, **AUTH_ERRORS})
@require_roles(*STAFF)
def get_appeal_board(request, month: Day | None = None):
    month = (month or timezone.localdate()).replace(day=1)
    data = rates.board(user=request.user, month=month)
    data["overdue"] = selectors.appeal_list(user=request.user, overdue=True).count()
    return data


@router.post("/bulk", url_name="appeal_bulk", operation_id="bulk_appeals",
             summary="Dispatch, transfer or accept several cases",
             response={200: BulkOut, **ERR})
@require_roles(*STAFF)
def bulk_appeals(request, payload: BulkIn):
    return services.appeal_bulk(actor=request.user, ids=payload.ids, action=payload.action,
                                department=_department(payload.department), note=payload.note,
                                request=request)


@router.get("/policy", url_name="policy_search", operation_id="search_policy",
            summary="Search the policy Q&A (Chinese), best match first",
            response={200: list[PolicyOut], **AUTH_ERRORS})
@paginate
def search_policy(request, q: Annotated[str, Line(200)] = "",
                  topic: Literal["employment", "legal", "social_insurance"] | None = None):
    return policy.policy_ranked(q, topic=topic)


@router.post("/policy", url_name="policy_create", operation_id="create_policy_answer",
             summary="Add an answer to the policy Q&A",
             response={201: PolicyOut, 409: ProblemOut, **AUTH_ERRORS})
@require_roles(Role.DEPARTMENT, Role.DISTRICT_ADMIN)
def create_policy_answer(request, payload: PolicyIn):
    answer = policy.policy_answer_save(actor=request.user, request=request,
                                       entry=PolicyAnswer(department=own_department(request.user)),
                                       **payload.model_dump())
    return Status(201, answer)


@router.put("/policy/{answer_id}", url_name="policy_update", operation_id="update_policy_answer",
            summary="Change an answer in the policy Q&A", response={200: PolicyOut, **ERR})
@require_roles(Role.DEPARTMENT, Role.DISTRICT_ADMIN)
def update_policy_answer(request, answer_id: Id, payload: PolicyIn):
    answer = access_policy_answer_by_id(request.user, answer_id, for_change=True)
    return policy.policy_answer_save(actor=request.user, entry=answer, request=request,
                                     **payload.model_dump())


@router.get("/{appeal_id}", url_name="appeal", operation_id="get_appeal",
            summary="One case with its timeline and the actions I may take",
            response={200: AppealDetailOut, 404: ProblemOut, **AUTH_ERRORS})
def get_appeal(request, appeal_id: Id):
    return _out(access_case_by_id(request.user, appeal_id), request.user, detail=True)


@router.post("/{appeal_id}/actions", url_name="appeal_action", operation_id="act_on_appeal",
             summary="Move a case one step (dispatch, accept, return, answer, rate …)",
             response={200: AppealDetailOut, **ERR})
def act_on_appeal(request, appeal_id: Id, payload: ActionIn):
    answer = access_policy_answer_by_id(request.user, payload.policy_answer_id) \
        if payload.policy_answer_id else None
    services.appeal_transition(
        actor=request.user, appeal_id=appeal_id, action=payload.action, note=payload.note,
        department=_department(payload.department), resolved=payload.resolved,
        satisfaction=payload.satisfaction, into_id=payload.into_id, policy_answer=answer,
        urgent=payload.urgent, request=request)
    return _out(access_case_by_id(request.user, appeal_id), request.user, detail=True)
