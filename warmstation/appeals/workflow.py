"""The workflow of needs (诉求办理流程): which action may move a case from which states to which,
and who (in which capacity: submitter, dispatcher, department) may take it. Plain data, read by
the services that enforce it and by the pages that offer only the actions a viewer may take
(docs/appeals-rates.md)."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _

from warmstation.appeals.models import Appeal
from warmstation.core.errors import Conflict, PermissionDenied

S = Appeal.Status
OPEN: set[str] = {S.RECEIVED, S.RETURNED, S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS, S.ANSWERED,
        S.RESOLVED, S.UNRESOLVED, S.FOLLOWED_UP}
# Still waiting for staff to act on it (not yet answered): what the desk lists first.
PENDING: set[str] = {S.RECEIVED, S.RETURNED, S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS}

# action: (allowed from, to (None = stays / decided by the action), capacities that may do it)
TRANSITIONS: dict[str, tuple[set[str], str | None, set[str]]] = {
    "dispatch": ({S.RECEIVED, S.RETURNED}, S.DISPATCHED, {"dispatcher"}),
    "transfer": ({S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS}, S.DISPATCHED,
                 {"dispatcher", "department"}),
    "accept": ({S.DISPATCHED}, S.ACCEPTED, {"department"}),
    "return": ({S.DISPATCHED, S.ACCEPTED}, S.RETURNED, {"department"}),
    "start": ({S.ACCEPTED}, S.IN_PROGRESS, {"department"}),
    "answer": ({S.ACCEPTED, S.IN_PROGRESS}, S.ANSWERED, {"department"}),
    "rate": ({S.ANSWERED}, None, {"submitter"}),
    "followup": ({S.ANSWERED, S.RESOLVED, S.UNRESOLVED}, S.FOLLOWED_UP, {"dispatcher"}),
    "close": ({S.FOLLOWED_UP}, S.CLOSED, {"dispatcher"}),
    "reopen": ({S.CLOSED}, S.DISPATCHED, {"submitter"}),
    "merge": (OPEN - {S.FOLLOWED_UP}, S.MERGED, {"dispatcher"}),
    "urgent": (OPEN, None, {"dispatcher"}),
    "note": (OPEN | {S.CLOSED}, None, {"dispatcher", "department"}),
}
ACTION_LABELS = {
    "create": "提交诉求", "dispatch": "派单", "transfer": "转派", "accept": "签收",
    "return": "退回", "start": "开始办理", "answer": "答复", "rate": "评价", "followup": "回访",
    "close": "办结", "reopen": "重新办理", "merge": "合并", "urgent": "标记紧急", "note": "备注",
    "remind": "催办",
}
# The same names for pages, in the page's language (ACTION_LABELS stays Chinese for the Chinese
# half of a refusal's message).
ACTION_NAMES = {
    "create": _("提交诉求"), "dispatch": _("派单"), "transfer": _("转派"), "accept": _("签收"),
    "return": _("退回"), "start": _("开始办理"), "answer": _("答复"), "rate": _("评价"),
    "followup": _("回访"), "close": _("办结"), "reopen": _("重新办理"), "merge": _("合并"),
    "urgent": _("标记紧急"), "note": _("备注"), "remind": _("催办"),
}
NOTE_REQUIRED = {"return", "answer", "transfer", "followup", "reopen"}


Transitions = Mapping[str, tuple[set[str], str | None, set[str]]]


def transition_check(transitions: Transitions, labels: Mapping[str, str], *, status: str,
                     status_label: str, action: str, caps: set[str]) -> None:
    """Refuse a step the table does not allow: 403 when none of the actor's capacities may take
    it, 409 naming the state when the case is not in a state it starts from. Shared by every
    workflow of this shape (needs here, street reports in reports/workflow.py)."""
    allowed_from, _to, who = transitions[action]
    if not caps & who:
        raise PermissionDenied()
    if status not in allowed_from:
        raise Conflict(f"当前状态为“{status_label}”，不能{labels[action]}。",
                       f"A case that is {status} cannot be given '{action}'.",
                       code="invalid_transition")
