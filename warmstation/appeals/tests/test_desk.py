"""The department desk works for triage: open cases above answered and closed ones (overdue →
urgent → nearest deadline), a bulk action runs only with something ticked and an action chosen,
and a case offers its next expected step first."""

from datetime import timedelta

from django.utils import timezone

from tests.factories import signed_in
from warmstation.appeals import services
from warmstation.appeals.models import Appeal
from warmstation.appeals.selectors import ACTION_ORDER, appeal_list, available_actions
from warmstation.appeals.workflow import TRANSITIONS


def _case(s, title, *, dispatch=True):
    appeal = services.appeal_create(actor=s["worker"], category=s["cats"]["traffic_parking"],
                                    area=s["gc"], title=title, body="情况")
    if dispatch:
        services.appeal_transition(actor=s["gc_admin"], appeal_id=appeal.pk, action="dispatch")
    return Appeal.objects.get(pk=appeal.pk)


def test_open_cases_come_first_overdue_then_urgent_then_nearest_deadline(s):
    answered = _case(s, "已答复的")
    services.appeal_transition(actor=s["cgzx_staff"], appeal_id=answered.pk, action="accept")
    services.appeal_transition(actor=s["cgzx_staff"], appeal_id=answered.pk, action="answer",
                               note="已处理")
    later, sooner, urgent, overdue = (_case(s, t) for t in ("晚", "早", "急", "超期"))
    now = timezone.now()
    Appeal.objects.filter(pk=later.pk).update(current_due=now + timedelta(days=3))
    Appeal.objects.filter(pk=sooner.pk).update(current_due=now + timedelta(days=1))
    Appeal.objects.filter(pk=urgent.pk).update(current_due=now + timedelta(days=5), urgent=True)
    Appeal.objects.filter(pk=overdue.pk).update(current_due=now - timedelta(hours=1))
    Appeal.objects.filter(pk=answered.pk).update(current_due=now - timedelta(days=9))
    titles = [a.title for a in appeal_list(user=s["cgzx_staff"])]
    assert titles == ["超期", "急", "早", "晚", "已答复的"]


def test_bulk_with_nothing_ticked_or_no_action_runs_nothing(s):
    case = _case(s, "待签收")
    c = signed_in(s["cgzx_staff"], s["cgzx_staff"].auth_level)
    page = c.get("/appeals/inbox/").content.decode()
    assert '<option value="" selected>' in page  # no action preselected
    assert "js/inbox." in page and "data-needs-ticks" in page  # hashed: inbox.<hash>.js
    flash = c.post("/appeals/inbox/", {"action": "accept"}, follow=True).content.decode()
    assert "请先勾选要处理的诉求" in flash
    flash = c.post("/appeals/inbox/", {"ids": [case.pk], "action": ""}, follow=True)
    assert "请选择批量操作" in flash.content.decode()
    assert Appeal.objects.get(pk=case.pk).status == "dispatched"
    c.post("/appeals/inbox/", {"ids": [case.pk], "action": "accept"})
    assert Appeal.objects.get(pk=case.pk).status == "accepted"


def test_a_case_offers_the_next_expected_step_first(s):
    case = _case(s, "待签收")
    assert available_actions(case, s["cgzx_staff"])[0] == "accept"
    html = signed_in(s["cgzx_staff"], s["cgzx_staff"].auth_level).get(
        f"/appeals/{case.pk}/").content.decode()
    assert html.index("action-accept") < html.index("action-transfer")
    transfer = html[html.index("action-transfer"):]
    assert '<option value="">' in transfer[:transfer.index("</select>")]  # nothing preselected
    assert set(ACTION_ORDER) == set(TRANSITIONS)
