"""Every transition, legal and illegal; notifications, timeline and audit for each step."""

from datetime import timedelta

import pytest
from django.utils import timezone

from warmstation.appeals import services, workflow
from warmstation.appeals.models import Appeal, AppealEvent
from warmstation.core.errors import ApplicationError, NotFound, PermissionDenied
from warmstation.core.models import AuditEvent
from warmstation.outreach.models import OutboxMessage

S = Appeal.Status


def raise_need(s, category="social_insurance", **kw):
    return services.appeal_create(actor=s["worker"], category=s["cats"][category],
                                  area=s["ylj"], title="社保断缴怎么补", body="换站点后断缴三个月",
                                  **kw)


def step(actor, appeal, action, **kw):
    kw.setdefault("note", "说明" if action in workflow.NOTE_REQUIRED else "")
    return services.appeal_transition(actor=actor, appeal_id=appeal.pk, action=action, **kw)


def walk_to(s, appeal, target):
    path = ["dispatch", "accept", "start", "answer", "rate", "followup", "close"]
    actors = {"dispatch": "district", "accept": "rsj_staff", "start": "rsj_staff",
              "answer": "rsj_staff", "rate": "worker", "followup": "district",
              "close": "district"}
    order = [S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS, S.ANSWERED, S.RESOLVED, S.FOLLOWED_UP,
             S.CLOSED]
    for action, status in zip(path, order, strict=True):
        if appeal.status == target:
            break
        if appeal.status in order and order.index(appeal.status) >= order.index(status):
            continue
        kw = {"resolved": True, "satisfaction": "satisfied"} if action == "rate" else {}
        appeal = step(s[actors[action]], appeal, action, **kw)
        assert appeal.status == status
    return appeal


def test_the_whole_path_writes_timeline_audit_and_sms(s):
    appeal = raise_need(s)
    assert appeal.status == S.RECEIVED and appeal.channel == "worker"
    appeal = walk_to(s, appeal, S.CLOSED)
    actions = list(AppealEvent.objects.filter(appeal=appeal).values_list("action", flat=True))
    assert actions == ["create", "dispatch", "accept", "start", "answer", "rate", "followup",
                       "close"]
    audited = set(AuditEvent.objects.filter(object_type="appeals.appeal",
                                            object_id=str(appeal.pk))
                  .values_list("action", flat=True))
    assert {f"appeal.{a}" for a in actions} <= audited
    sms = OutboxMessage.objects.filter(recipient=s["worker"].mobile, purpose="appeal")
    # Every step but "start" tells the submitter.
    assert sms.count() == 7
    assert appeal.department == s["rsj"]  # routed by the district default rule
    assert appeal.responded_at and appeal.answered_at and appeal.closed_at
    # A consultation answered gets a follow-up date (后续跟踪服务).
    assert appeal.followup_due == timezone.localdate(appeal.answered_at) + timedelta(days=7)


# (status the case is in, action, actor) that the state machine refuses with 409.
ILLEGAL = [
    (S.RECEIVED, "rate", "worker"), (S.RECEIVED, "followup", "district"),
    (S.RECEIVED, "close", "district"), (S.DISPATCHED, "answer", "rsj_staff"),
    (S.DISPATCHED, "dispatch", "district"), (S.ACCEPTED, "accept", "rsj_staff"),
    (S.ANSWERED, "accept", "rsj_staff"), (S.ANSWERED, "close", "district"),
    (S.RESOLVED, "rate", "worker"), (S.FOLLOWED_UP, "answer", "rsj_staff"),
    (S.CLOSED, "close", "district"), (S.CLOSED, "followup", "district"),
    (S.IN_PROGRESS, "reopen", "worker"),
]


@pytest.mark.parametrize("status, action, who", ILLEGAL)
def test_illegal_transitions_are_refused_with_a_clear_message(s, status, action, who):
    appeal = walk_to(s, raise_need(s), status)
    events = AppealEvent.objects.count()
    kw = {"resolved": True, "satisfaction": "fairly"} if action in ("rate", "followup") else {}
    with pytest.raises(ApplicationError) as err:
        step(s[who], appeal, action, **kw)
    assert err.value.status == 409 and err.value.code == "invalid_transition"
    assert "不能" in err.value.message_zh and "cannot" in err.value.message_en
    appeal.refresh_from_db()
    assert appeal.status == status and AppealEvent.objects.count() == events


@pytest.mark.parametrize("action, who, expected", [
    ("dispatch", "worker", PermissionDenied),      # the submitter does not dispatch
    ("dispatch", "rsj_staff", NotFound),           # a department does not see it before routing
    ("dispatch", "xl_admin", NotFound),            # 西潞's dispatcher cannot see 伊林郡's case
    ("accept", "other_worker", NotFound),
])
def test_wrong_actor_is_refused(s, action, who, expected):
    appeal = raise_need(s)
    if action == "accept":
        appeal = step(s["district"], appeal, "dispatch")
    with pytest.raises(expected):
        step(s[who], appeal, action)


def test_department_must_give_a_reason_to_return_and_is_redispatched(s):
    appeal = step(s["district"], raise_need(s), "dispatch")
    with pytest.raises(ApplicationError) as err:
        services.appeal_transition(actor=s["rsj_staff"], appeal_id=appeal.pk, action="return")
    assert err.value.code == "note_required"
    appeal = step(s["rsj_staff"], appeal, "return", note="不属于本部门")
    assert appeal.status == S.RETURNED
    appeal = step(s["gc_admin"], appeal, "dispatch", department=s["cgzx"])
    assert appeal.status == S.DISPATCHED and appeal.department == s["cgzx"]
    # 区人力社保局 no longer sees it; 拱辰's centre does.
    with pytest.raises(NotFound):
        step(s["rsj_staff"], appeal, "accept")
    assert step(s["cgzx_staff"], appeal, "accept").status == S.ACCEPTED


def test_transfer_moves_the_case_and_restarts_the_clock(s):
    appeal = step(s["rsj_staff"], step(s["district"], raise_need(s), "dispatch"), "accept")
    moved = step(s["rsj_staff"], appeal, "transfer", department=s["cgzx"], note="属地处理")
    assert moved.status == S.DISPATCHED and moved.department == s["cgzx"]
    assert moved.responded_at is None and moved.dispatched_at > appeal.dispatched_at
    with pytest.raises(ApplicationError):
        step(s["cgzx_staff"], moved, "transfer", department=s["cgzx"], note="x")


def test_routing_prefers_the_deepest_rule(s):
    parking = s["cats"]["traffic_parking"]
    assert services.appeal_route(category=parking, area=s["ylj"]) == s["cgzx"]
    assert services.appeal_route(category=parking, area=s["sz"]) == s["rsj"]


def test_unresolved_rating_then_followup_and_close(s):
    appeal = walk_to(s, raise_need(s), S.ANSWERED)
    appeal = step(s["worker"], appeal, "rate", resolved=False, satisfaction="dissatisfied")
    assert appeal.status == S.UNRESOLVED
    with pytest.raises(ApplicationError) as err:
        step(s["worker"], appeal, "rate", resolved=True, satisfaction="satisfied")
    assert err.value.status == 409
    appeal = step(s["district"], appeal, "followup", note="回访：仍未解决")
    assert appeal.status == S.FOLLOWED_UP and appeal.resolved is False


def test_followup_call_records_the_rating_for_a_meeting_case(s):
    meeting = services.meeting_record(
        actor=s["district"], title="座谈会", held_on=timezone.localdate(), area=s["root"],
        needs=[{"category": s["cats"]["housing"], "title": "网点用房", "body": "找不到用房"},
               {"category": s["cats"]["traffic_parking"], "title": "卸货车位", "body": "被贴条"}])
    first, second = meeting.appeals.order_by("pk")
    assert first.channel == second.channel == "meeting" and first.submitter is None
    appeal = walk_to(s, first, S.ANSWERED)
    with pytest.raises(ApplicationError) as err:
        step(s["district"], appeal, "followup", note="回访")
    assert err.value.code == "rating_required"
    appeal = step(s["district"], appeal, "followup", note="回访企业", resolved=True,
                  satisfaction="fairly")
    assert appeal.status == S.FOLLOWED_UP and appeal.satisfaction == "fairly"


def test_reopen_within_the_window_only(s):
    appeal = walk_to(s, raise_need(s), S.CLOSED)
    reopened = step(s["worker"], appeal, "reopen", note="又断缴了")
    assert reopened.status == S.DISPATCHED and reopened.resolved is None
    assert reopened.reopen_count == 1 and reopened.department == s["rsj"]
    closed = walk_to(s, reopened, S.CLOSED)
    Appeal.objects.filter(pk=closed.pk).update(closed_at=timezone.now() - timedelta(days=8))
    with pytest.raises(ApplicationError) as err:
        step(s["worker"], closed, "reopen", note="再次")
    assert err.value.code == "reopen_expired"


def test_merge_duplicates_and_urgent_flag(s):
    first, dup = raise_need(s), raise_need(s)
    merged = step(s["district"], dup, "merge", into_id=first.pk)
    assert merged.status == S.MERGED and merged.merged_into == first
    with pytest.raises(ApplicationError):
        step(s["district"], first, "merge", into_id=first.pk)
    before = first.dispatch_due
    urgent = step(s["district"], first, "urgent")
    assert urgent.urgent and urgent.dispatch_due <= before
    assert urgent.dispatch_due <= timezone.now() + timedelta(minutes=61)


def test_anonymous_to_department_hides_the_person(s):
    from warmstation.appeals.selectors import submitter_label

    appeal = step(s["district"], raise_need(s, hide_from_department=True), "dispatch")
    assert submitter_label(appeal, s["rsj_staff"]) == {"name": "匿名", "mobile": "",
                                                       "hidden": True}
    assert submitter_label(appeal, s["district"])["mobile"] == s["worker"].mobile
    plain = step(s["district"], raise_need(s), "dispatch")
    seen = submitter_label(plain, s["rsj_staff"])
    assert seen["name"].startswith(s["worker"].real_name[0]) and "*" in seen["name"]


def test_on_behalf_intake_by_steward_and_area_admin(s):
    cat, area = s["cats"]["housing"], s["ylj"]
    by_steward = services.appeal_create(actor=s["steward"], submitter=s["worker"],
                                        category=cat, area=area, title="住宿", body="想租宿舍")
    assert by_steward.channel == "on_behalf" and by_steward.submitter == s["worker"]
    with pytest.raises(NotFound):  # 西潞's admin cannot record for a 拱辰 area
        services.appeal_create(actor=s["xl_admin"], submitter=s["worker"], category=cat,
                               area=area, title="住宿", body="想租宿舍")
    with pytest.raises(PermissionDenied):  # department staff do not take in needs
        services.appeal_create(actor=s["rsj_staff"], category=cat, area=area, title="t",
                               body="b")


def test_reminders_once_per_step(s):
    appeal = step(s["district"], raise_need(s), "dispatch")
    later = appeal.respond_due + timedelta(minutes=1)
    assert services.appeal_remind_due(now=later) == 1
    assert services.appeal_remind_due(now=later) == 0
    assert AppealEvent.objects.filter(appeal=appeal, action="remind").count() == 1
    step(s["rsj_staff"], appeal, "accept")
    assert services.appeal_remind_due(now=appeal.answer_due + timedelta(hours=1)) == 1
