"""Every write about needs: intake, the workflow's transitions, ratings, merges, reminders.

Each transition locks the case row (access_case_by_id(for_update=True)), checks the state
machine and the actor's capacity, writes the timeline line and the audit line, queues the SMS to
the submitter in the same transaction, and refreshes the month's roll-up after commit.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from warmstation.accounts.models import Role
from warmstation.appeals import deadlines
from warmstation.appeals.models import (
    Appeal,
    AppealAttachment,
    AppealEvent,
    AppealSettings,
    Category,
    Department,
    Meeting,
    PolicyAnswer,
    RoutingRule,
)
from warmstation.appeals.permissions import DISPATCHERS, access_case_by_id, capacities
from warmstation.appeals.workflow import (
    ACTION_LABELS,
    NOTE_REQUIRED,
    OPEN,
    TRANSITIONS,
    transition_check,
)
from warmstation.areas.models import Area
from warmstation.areas.scoping import area_in_scope
from warmstation.core.audit import audit_event, audit_record
from warmstation.core.errors import (
    ApplicationError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from warmstation.core.inputs import check_date, clean_text
from warmstation.core.models import AuditEvent
from warmstation.core.ratelimit import rate_limit
from warmstation.core.sqlrows import insert_rows, reserve_ids, row_sql, saved
from warmstation.core.taskrows import Queued, queue_with_statement
from warmstation.outreach.models import OutboxMessage
from warmstation.outreach.services import (
    outbox_deliveries,
    outbox_enqueue,
    outbox_message,
    outbox_record,
)

if TYPE_CHECKING:
    from warmstation.accounts.models import Brand, User

S = Appeal.Status

# A roll-up bucket of a case: (month, department id, street id).
Bucket = tuple[date, int | None, int]


class MeetingNeed(TypedDict):
    """One need raised at a meeting (`meeting_record`)."""

    category: Category
    title: str
    body: str
    company: NotRequired[Brand | None]
    area: NotRequired[Area | None]


class BulkFailure(TypedDict):
    id: int
    zh: str
    en: str


class BulkResult(TypedDict):
    done: list[int]
    failed: list[BulkFailure]


def appeal_settings() -> AppealSettings:
    return AppealSettings.objects.get_or_create(pk=1)[0]


def appeal_route(*, category: Category, area: Area) -> Department | None:
    """The department the deepest routing rule for (category, area) names; None if no rule."""
    codes = [c for c in area.path.strip("/").split("/") if c]
    rules = RoutingRule.objects.filter(category=category).select_related("area", "department")
    best, best_depth = None, -1
    for rule in rules:
        if not rule.department.is_active:
            continue
        if rule.area is None and best_depth < 0:
            best, best_depth = rule.department, 0
        elif rule.area is not None and rule.area.code in codes and rule.area.depth + 1 > best_depth:
            best, best_depth = rule.department, rule.area.depth + 1
    return best


def _street_of(area: Area) -> Area:
    if area.depth <= 1:
        return area
    code = area.path.strip("/").split("/")[1]
    return Area.objects.get(code=code)


def _notify(appeal: Appeal, text: str) -> None:
    """SMS to the submitter, in the caller's transaction (the outbox sends after commit)."""
    for message in _sms(appeal, text):
        outbox_record(message)


def _sms(appeal: Appeal, text: str) -> list[OutboxMessage]:
    """The SMS `_notify` records (none without a submitter's mobile), not yet written."""
    if appeal.submitter is None or not appeal.submitter.mobile:
        return []
    return [outbox_message(
        channel=OutboxMessage.Channel.SMS, recipient=appeal.submitter.mobile, purpose="appeal",
        body=f"【37°C+暖心驿站】您的诉求{appeal.number}“{appeal.title[:20]}”{text}")]


def _refresh_after_commit(*buckets: Bucket) -> None:
    from warmstation.appeals.tasks import refresh_rollup

    for month, dept_id, street_id in _rollup_calls(*buckets):
        transaction.on_commit(functools.partial(refresh_rollup.enqueue, month, dept_id,
                                                street_id))


def _refreshes(connection: BaseDatabaseWrapper, *buckets: Bucket) -> Queued:
    """`_refresh_after_commit`'s tasks as rows of the caller's one statement (core/taskrows)."""
    from warmstation.appeals.tasks import refresh_rollup

    return queue_with_statement(connection, refresh_rollup, *_rollup_calls(*buckets))


def _rollup_calls(*buckets: Bucket) -> list[tuple[str, int | None, int]]:
    return list({(b[0].isoformat(), b[1], b[2]) for b in buckets})


def _bucket(appeal: Appeal) -> Bucket:
    return (appeal.month, appeal.department_id, appeal.street_id)


def _event(appeal: Appeal, *, actor: User, action: str, from_status: str, note: str = "",
           department: Department | None = None, files: Iterable[UploadedFile[bytes]] = (),
           request: HttpRequest | None = None,
           detail: dict[str, Any] | None = None) -> AppealEvent:
    event, audit = _event_rows(appeal, actor=actor, action=action, from_status=from_status,
                               note=note, department=department, request=request,
                               detail=detail)
    event.save(force_insert=True)
    for upload in files:
        _attach(event, upload)
    audit.save(force_insert=True)
    return event


def _event_rows(appeal: Appeal, *, actor: User, action: str, from_status: str, note: str = "",
                department: Department | None = None, request: HttpRequest | None = None,
                detail: dict[str, Any] | None = None) -> tuple[AppealEvent, AuditEvent]:
    """A step on the case's timeline and its audit line, not yet written."""
    event = AppealEvent(
        appeal=appeal, actor=actor if actor.is_authenticated else None,
        action=action, from_status=from_status, to_status=appeal.status, note=note,
        department=department or appeal.department)
    audit = audit_event(f"appeal.{action}", actor=actor, obj=appeal, request=request,
                        detail={"from": from_status, "to": appeal.status,
                                "department": appeal.department_id, **(detail or {})})
    return event, audit


def _attach(event: AppealEvent, upload: UploadedFile[bytes]) -> None:
    from django.core.files.base import ContentFile

    from warmstation.core.images import reencode_image

    image = reencode_image(upload.read())
    AppealAttachment.objects.create(
        event=event, name=(getattr(upload, "name", "") or "photo")[:100],
        file=ContentFile(image.full, name="photo.jpg"))


# --- intake -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filed:
    """What taking in a need gives back: the case; whether this call created it (False: the
    same client key answered with the first one); and, when it did, its timeline as written
    (the one "create" event), so that the answer need not read it back."""

    appeal: Appeal
    created: bool
    events: tuple[AppealEvent, ...] = ()


def appeal_create(**kwargs: Any) -> Appeal:
    """`appeal_file`'s case."""
    return appeal_file(**kwargs).appeal


def appeal_file(*, actor: User, category: Category, area: Area, title: str, body: str,
                submitter: User | None = None, company: Brand | None = None,
                meeting: Meeting | None = None, anonymous_public: bool = False,
                hide_from_department: bool = False, urgent: bool = False,
                complex: bool = False, files: Iterable[UploadedFile[bytes]] = (),
                client_key: str = "", request: HttpRequest | None = None) -> Filed:
    """Take in a need. A worker raises their own; a steward or an admin records one for a
    worker (`submitter`); a meeting's needs have no submitter and carry the company.

    The same `client_key` from the same person (the form's one-time key, the API's
    Idempotency-Key) is the same need: a double tap or a retry answers the first one again and
    creates nothing (a unique constraint settles two that arrive together)."""
    if client_key:
        if len(client_key) > 64 or not all("!" <= c <= "~" for c in client_key):
            raise InvalidInput(_("客户端标识无效。"), field="client_key")
        existing = Appeal.objects.filter(recorded_by=actor, client_key=client_key).first()
        if existing is not None:
            return Filed(existing, created=False)
    if meeting is None:  # a meeting is one record of many needs: not a client's burst
        # After the replay check: a resent need is answered, not counted.
        rate_limit(request, "need")
    title, body = (title or "").strip(), (body or "").strip()
    if not title or not body or len(title) > 100 or len(body) > 4000:
        raise InvalidInput(_("请填写标题（100字以内）和具体内容（4000字以内）。"),
                           field="body" if title and len(title) <= 100 else "title")
    if not category.is_active:
        raise InvalidInput(_("该类别已停用。"), field="category")
    if meeting is not None:
        channel = Appeal.Channel.MEETING
        if not actor.has_role(*DISPATCHERS) or not area_in_scope(actor, area, DISPATCHERS):
            raise PermissionDenied()
    elif submitter is not None and submitter.pk != actor.pk:
        channel = Appeal.Channel.ON_BEHALF
        if actor.has_role(*DISPATCHERS):
            if not area_in_scope(actor, area, DISPATCHERS):
                raise NotFound()
        elif not actor.has_role(Role.STEWARD):
            raise PermissionDenied()
    else:
        if not actor.has_role(Role.WORKER):
            raise PermissionDenied()
        channel, submitter = Appeal.Channel.WORKER, actor
    now = timezone.now()
    conf = appeal_settings()
    cal = deadlines.Calendar(timezone.localdate(now))
    dispatch_due = deadlines.add_clock(now, minutes=conf.dispatch_urgent_minutes) if urgent \
        else deadlines.add_working_day_hours(now, conf.dispatch_general_hours, cal)
    days = conf.complex_resolve_days if complex else category.resolve_days
    # In UTC, as a case read back from the database has them: the answer to a need just taken
    # in is the same as reading it (the deadlines are reckoned in local working hours).
    dispatch_due = dispatch_due.astimezone(UTC)
    resolve_due = deadlines.add_working_days(now, days, cal).astimezone(UTC)
    appeal = Appeal(
        submitter=submitter, recorded_by=actor, channel=channel, company=company,
        meeting=meeting, category=category, area=area, street=_street_of(area),
        title=title, body=body, anonymous_public=anonymous_public,
        hide_from_department=hide_from_department, urgent=urgent, complex=complex,
        month=timezone.localdate(now).replace(day=1), dispatch_due=dispatch_due,
        current_due=dispatch_due,
        resolve_due=resolve_due, client_key=client_key)
    files = list(files)
    connection = connections[router.db_for_write(Appeal)]
    try:
        if connection.vendor == "postgresql" and ONE_STATEMENT and not files:
            return _file_in_one_statement(appeal, actor=actor, connection=connection,
                                          request=request)
        with transaction.atomic(using=connection.alias):
            appeal.save(force_insert=True)
            event = _event(appeal, actor=actor, action="create", from_status="", files=files,
                           request=request, detail={"channel": channel})
            _notify(appeal, RECEIVED)
            _refresh_after_commit(_bucket(appeal))
    except IntegrityError:
        # The same key, committed meanwhile by a request that arrived together with this one.
        existing = Appeal.objects.filter(recorded_by=actor, client_key=client_key).first() \
            if client_key else None
        if existing is None:
            raise
        return Filed(existing, created=False)
    return Filed(appeal, created=True, events=(event,))


RECEIVED = "已受理，我们会尽快派给相关部门办理。"
# A need without attachments on PostgreSQL as one statement (ADR 0019); False: through the ORM,
# as on SQLite (the tests compare the two).
ONE_STATEMENT = True


def _file_in_one_statement(appeal: Appeal, *, actor: User, connection: BaseDatabaseWrapper,
                           request: HttpRequest | None) -> Filed:
    """`appeal_file`'s rows — the case, its create event, the audit line and the SMS — as one
    statement (core/sqlrows.py), in the same transaction the ORM path opens."""
    # One message id for the submitter's SMS (unused when there is none).
    appeal.pk, event_id, *message_ids = reserve_ids(connection, Appeal, AppealEvent,
                                                    OutboxMessage)
    # The case's row first: its created_at (auto_now_add) is set there, and its number, which
    # the SMS quotes, is made of it.
    head = row_sql(appeal, connection, with_pk=True)
    event, audit = _event_rows(appeal, actor=actor, action="create", from_status="",
                               request=request, detail={"channel": appeal.channel})
    event.pk = event_id
    messages = _sms(appeal, RECEIVED)
    assert len(messages) <= len(message_ids)
    for message, message_id in zip(messages, message_ids, strict=False):
        message.pk = message_id
    # The SMS's delivery and the figures' refresh commit with the case (core/taskrows.py).
    tasks = [outbox_deliveries(connection, messages), _refreshes(connection, _bucket(appeal))]
    with transaction.atomic(using=connection.alias):
        insert_rows(connection, [head, row_sql(event, connection, with_pk=True),
                                 row_sql(audit, connection),
                                 *(row_sql(m, connection, with_pk=True) for m in messages),
                                 *(row for queued in tasks for row in queued.rows)])
        for queued in tasks:
            queued.written()
    for obj in (appeal, event, audit, *messages):
        saved(obj, connection)
    return Filed(appeal, created=True, events=(event,))


def meeting_record(*, actor: User, title: str, held_on: date, area: Area,
                   needs: list[MeetingNeed],
                   request: HttpRequest | None = None) -> Meeting:
    """A 座谈会 with the companies: several needs at once, each attributed to its company.
    `needs`: [{"category", "title", "body", "company", "area"?}]."""
    if not needs:
        raise InvalidInput(_("请至少填写一条诉求。"), field="needs")
    if not actor.has_role(*DISPATCHERS) or not area_in_scope(actor, area, DISPATCHERS):
        raise NotFound()
    title = clean_text(title, max_length=128, field="title")
    check_date(held_on, field="held_on")
    with transaction.atomic():
        meeting = Meeting.objects.create(title=title or "座谈会", held_on=held_on,
                                         area=area, recorded_by=actor)
        for need in needs:
            appeal_create(actor=actor, category=need["category"], area=need.get("area") or area,
                          title=need["title"], body=need["body"], company=need.get("company"),
                          meeting=meeting, request=request)
        audit_record("appeal.meeting", actor=actor, obj=meeting, request=request,
                     detail={"needs": len(needs)})
    return meeting


# --- the workflow -----------------------------------------------------------------------------

def _check(appeal: Appeal, action: str, caps: set[str]) -> None:
    transition_check(TRANSITIONS, ACTION_LABELS, status=appeal.status,
                     status_label=appeal.get_status_display(), action=action, caps=caps)


def _start_step(appeal: Appeal, department: Department, now: datetime,
                conf: AppealSettings) -> None:
    cal = deadlines.Calendar(timezone.localdate(now))
    appeal.department = department
    appeal.dispatched_at = now
    appeal.respond_due = deadlines.add_office_hours(now, conf.respond_hours, cal)
    appeal.answer_due = deadlines.add_office_hours(now, appeal.category.answer_hours, cal)
    appeal.responded_at = None
    appeal.current_due = appeal.respond_due


def appeal_transition(*, actor: User, appeal_id: int, action: str, note: str = "",
                      department: Department | None = None, resolved: bool | None = None,
                      satisfaction: str = "", into_id: int | None = None,
                      policy_answer: PolicyAnswer | None = None, urgent: bool = True,
                      files: Iterable[UploadedFile[bytes]] = (),
                      request: HttpRequest | None = None) -> Appeal:
    """Move a case one step. Illegal steps raise a 409 naming the state; a step the actor's
    capacity does not allow raises 403; a case out of scope raises 404."""
    if action not in TRANSITIONS:
        raise InvalidInput(_("未知操作。"), field="action")
    note = (note or "").strip()
    if action in NOTE_REQUIRED and not note:
        raise InvalidInput(_("请填写说明。"), code="note_required", field="note")
    with transaction.atomic():
        appeal = access_case_by_id(actor, appeal_id, for_update=True)
        _check(appeal, action, capacities(actor, appeal))
        now, conf, before = timezone.now(), appeal_settings(), _bucket(appeal)
        from_status = appeal.status
        text = ""
        if action in ("dispatch", "transfer"):
            department = department or (appeal_route(category=appeal.category, area=appeal.area)
                                        if action == "dispatch" else None)
            if department is None or not department.is_active:
                raise InvalidInput(_("请选择承办部门（没有适用的派单规则）。"),
                                   code="department_required", field="department")
            if action == "transfer" and department.pk == appeal.department_id:
                raise Conflict(_("不能转派给本部门。"), code="same_department",
                               field="department")
            _start_step(appeal, department, now, conf)
            appeal.status = S.DISPATCHED
            text = f"已派至{department.name_zh}办理。"
        elif action == "accept":
            appeal.status, appeal.responded_at = S.ACCEPTED, now
            appeal.current_due = appeal.answer_due
            assert appeal.department is not None  # a dispatched case has its department
            text = f"已由{appeal.department.name_zh}签收。"
        elif action == "return":
            appeal.status = S.RETURNED
            appeal.current_due = deadlines.add_working_day_hours(
                now, conf.dispatch_general_hours)
            text = "已退回，正在重新派单。"
        elif action == "start":
            appeal.status = S.IN_PROGRESS
        elif action == "answer":
            appeal.status, appeal.answered_at, appeal.answer = S.ANSWERED, now, note
            appeal.current_due = None
            if policy_answer is not None:
                appeal.policy_answer = policy_answer
            if policy_answer is not None or appeal.category.is_policy:
                appeal.followup_due = timezone.localdate(now) + timedelta(days=conf.followup_days)
            text = "已答复，请查看并评价。"
        elif action in ("rate", "followup"):
            if action == "rate" or resolved is not None:
                _rate(appeal, resolved, satisfaction, now)
            if action == "rate":
                appeal.status = S.RESOLVED if resolved else S.UNRESOLVED
                text = "的评价已收到，谢谢。"
            else:
                if appeal.resolved is None:
                    raise InvalidInput(_("回访时请记录是否解决和满意程度。"),
                                       code="rating_required", field="resolved")
                appeal.status, appeal.followed_up_at = S.FOLLOWED_UP, now
                text = "已回访。"
        elif action == "close":
            appeal.status, appeal.closed_at, appeal.current_due = S.CLOSED, now, None
            text = "已办结。"
        elif action == "reopen":
            if appeal.closed_at and now - appeal.closed_at > timedelta(days=conf.reopen_days):
                raise Conflict(_("办结超过%(days)s天，不能再重新办理，请提交新的诉求。"),
                               params={"days": conf.reopen_days}, code="reopen_expired")
            assert appeal.department is not None  # a closed case was dispatched
            _start_step(appeal, appeal.department, now, conf)
            appeal.status, appeal.closed_at = S.DISPATCHED, None
            appeal.resolved, appeal.satisfaction, appeal.rated_at = None, "", None
            appeal.followed_up_at, appeal.answered_at = None, None
            appeal.reopen_count += 1
            text = "已重新交办。"
        elif action == "merge":
            target = _merge_target(actor, appeal, into_id)
            appeal.status, appeal.merged_into, appeal.current_due = S.MERGED, target, None
            note = note or f"与{target.number}重复"
            text = f"与{target.number}为同一问题，已合并办理。"
        elif action == "urgent":
            appeal.urgent = bool(urgent)
            if appeal.status in (S.RECEIVED, S.RETURNED) and appeal.urgent:
                appeal.dispatch_due = min(appeal.dispatch_due, deadlines.add_clock(
                    now, minutes=conf.dispatch_urgent_minutes))
                appeal.current_due = appeal.dispatch_due
        appeal.reminded_at = None
        appeal.save()
        _event(appeal, actor=actor, action=action, from_status=from_status, note=note,
               files=files, request=request,
               detail={"resolved": appeal.resolved, "satisfaction": appeal.satisfaction}
               if action in ("rate", "followup") else None)
        if text:
            _notify(appeal, text)
        _refresh_after_commit(before, _bucket(appeal))
    return appeal


def _rate(appeal: Appeal, resolved: bool | None, satisfaction: str, now: datetime) -> None:
    if resolved is None or satisfaction not in Appeal.Satisfaction.values:
        raise InvalidInput(_("请选择是否解决和满意程度。"), code="rating_required",
                           field="resolved" if resolved is None else "satisfaction")
    appeal.resolved, appeal.satisfaction, appeal.rated_at = bool(resolved), satisfaction, now


def _merge_target(actor: User, appeal: Appeal, into_id: int | None) -> Appeal:
    if not into_id or int(into_id) == appeal.pk:
        raise InvalidInput(_("请指定要合并到的另一条诉求。"), field="into_id")
    target = access_case_by_id(actor, into_id)
    while target.merged_into is not None:
        target = target.merged_into
    if target.pk == appeal.pk or target.status not in OPEN | {S.CLOSED}:
        raise Conflict(_("不能合并到该诉求。"), code="merge_refused", field="into_id")
    return target


def appeal_bulk(*, actor: User, ids: list[int], action: str, department: Department | None = None,
                note: str = "", request: HttpRequest | None = None) -> BulkResult:
    """The same step for several cases (bulk dispatch, transfer, accept). Each case is its own
    transaction: one refusal does not undo the others; the result says which failed and why."""
    if action not in ("dispatch", "transfer", "accept") or len(ids) > 200:
        raise InvalidInput(_("批量操作仅限派单、转派、签收，每次最多200条。"))
    done: list[int] = []
    failed: list[BulkFailure] = []
    for appeal_id in ids:
        try:
            appeal_transition(actor=actor, appeal_id=appeal_id, action=action,
                              department=department, note=note or "批量操作",
                              request=request)
            done.append(appeal_id)
        except ApplicationError as exc:
            failed.append({"id": appeal_id, "zh": exc.message_zh, "en": exc.message_en})
    return {"done": done, "failed": failed}


def appeal_remind_due(*, now: datetime | None = None) -> int:
    """Flag cases whose current step is due within the reminder window or overdue: one timeline
    line and, for a department's cases, an SMS to its phone — once per step (reminded_at is
    cleared by every transition). Idempotent; run by `manage.py appeals_tick`."""
    now = now or timezone.now()
    conf = appeal_settings()
    due = Appeal.objects.filter(status__in=OPEN, current_due__lte=now + timedelta(
        hours=conf.remind_before_hours), reminded_at=None).select_related("department")
    count = 0
    for appeal in due[:500]:
        with transaction.atomic():
            updated = Appeal.objects.filter(pk=appeal.pk, reminded_at=None).update(reminded_at=now)
            if not updated:
                continue
            overdue = appeal.current_due is not None and appeal.current_due <= now
            note = "已超期，请尽快办理。" if overdue else "即将到期，请及时办理。"
            AppealEvent.objects.create(appeal=appeal, action="remind", note=note,
                                       from_status=appeal.status, to_status=appeal.status,
                                       department=appeal.department)
            audit_record("appeal.remind", obj=appeal, detail={"overdue": overdue})
            if appeal.department and appeal.department.phone.startswith("1") and \
                    len(appeal.department.phone) == 11:
                outbox_enqueue(channel=OutboxMessage.Channel.SMS,
                               recipient=appeal.department.phone, purpose="appeal_remind",
                               body=f"【37°C+暖心驿站】诉求{appeal.number}{note}")
            count += 1
    return count
