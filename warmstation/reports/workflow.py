"""The workflow of street reports (随手拍案件流程), in the shape of needs' (appeals/workflow.py,
whose `transition_check` enforces both): which action moves a problem from which states to
which, and in which capacity (follower, triager = the command centre and the admins covering
the area, department = the handling department) it may be taken."""

from __future__ import annotations

from django.utils.translation import gettext_noop as N_

from warmstation.appeals.workflow import Transitions, transition_check
from warmstation.reports.models import Problem

S = Problem.Status
OPEN: set[str] = {S.SUBMITTED, S.ACCEPTED, S.DISPATCHED, S.RESOLVED}
# Shown on the public map: filed problems not yet closed (a report still waiting for triage is
# not public: it may be untrue, or show what it should not).
PUBLIC: set[str] = {S.ACCEPTED, S.DISPATCHED, S.RESOLVED, S.CLOSED}

TRANSITIONS: Transitions = {
    "accept": ({S.SUBMITTED}, S.ACCEPTED, {"triager"}),
    "reject": ({S.SUBMITTED}, S.REJECTED, {"triager"}),
    "dispatch": ({S.ACCEPTED, S.DISPATCHED}, S.DISPATCHED, {"triager"}),
    "resolve": ({S.ACCEPTED, S.DISPATCHED}, S.RESOLVED, {"triager", "department"}),
    "close": ({S.RESOLVED}, S.CLOSED, {"triager"}),
    "not_fixed": ({S.RESOLVED, S.CLOSED}, S.DISPATCHED, {"follower"}),
    "merge": ({S.SUBMITTED, S.ACCEPTED, S.DISPATCHED}, S.MERGED, {"triager"}),
    "note": (OPEN | {S.CLOSED}, None, {"triager", "department"}),
}
# Chinese, as the timeline and refusals say them; gettext_noop marks them for the catalogue
# (pages show them through {% translate %}).
ACTION_LABELS = {
    "create": N_("上报"), "follow": N_("我也遇到"), "accept": N_("立案"), "reject": N_("不予立案"),
    "dispatch": N_("派遣"), "resolve": N_("处置"), "close": N_("结案"), "not_fixed": N_("未解决，重新办理"),
    "merge": N_("合并"), "merged_in": N_("并入"), "note": N_("备注"), "points": N_("积分"),
    "open311_update": N_("对接系统更新"),
}
NOTE_REQUIRED = {"not_fixed"}
BULK_ACTIONS = ("accept", "reject", "dispatch")


def check(problem: Problem, action: str, caps: set[str]) -> None:
    transition_check(TRANSITIONS, ACTION_LABELS, status=problem.status,
                     status_label=problem.get_status_display(), action=action, caps=caps)
