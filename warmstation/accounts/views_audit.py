"""The audit-log page (审计日志): district admins search the audit trail. The trail itself is
core plumbing (core/audit.py); the page is gated by role, which accounts owns."""

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import render

from warmstation.accounts.models import Role, User
from warmstation.accounts.pages import staff_page
from warmstation.core.audit import audit_record, audit_subject_ids, search_term_digest
from warmstation.core.errors import InvalidInput
from warmstation.core.inputs import normalise_date
from warmstation.core.models import AuditEvent
from warmstation.core.pagination import page_list


@staff_page(Role.DISTRICT_ADMIN)
def audit_search(request):
    """District admins search the audit trail by action, person, object, result and date."""
    qs = AuditEvent.objects.select_related("actor", "subject")
    f = {k: (request.GET.get(k) or "").strip() for k in
         ("action", "actor", "object_type", "object_id", "result", "since", "until")}
    if f["action"]:
        qs = qs.filter(action__startswith=f["action"])
    if f["actor"]:
        # People are found through the user rows and the erasable subjects, never through the
        # audit rows themselves (which hold no name or number).
        term = f["actor"]
        people = User.objects.filter(Q(real_name__contains=term) | Q(mobile__contains=term))
        qs = qs.filter(Q(actor__in=people) | Q(subject__label__contains=term)
                       | Q(subject__in=audit_subject_ids(term)))
    if f["object_type"]:
        qs = qs.filter(object_type=f["object_type"])
    if f["object_id"]:
        qs = qs.filter(object_id=f["object_id"])
    if f["result"] in AuditEvent.Result.values:
        qs = qs.filter(result=f["result"])
    for key, lookup in (("since", "at__date__gte"), ("until", "at__date__lte")):
        if f[key]:
            try:
                qs = qs.filter(**{lookup: normalise_date(f[key], field=key)})
            except InvalidInput as exc:  # 2024-02-30, 0001-01-01: say so, leave the filter off
                messages.error(request, exc.message(request.LANGUAGE_CODE))
    page = page_list(request, qs.order_by("-at", "-id"))
    # The search itself is audited, but a person searched for is not written down verbatim in
    # the append-only trail: only the term's length and a keyed hash (core.audit).
    searched = {k: v for k, v in f.items() if v}
    if "actor" in searched:
        searched["actor"] = search_term_digest(searched["actor"])
    audit_record("audit.search", actor=request.user, request=request, detail=searched)
    template = "core/audit.html#rows" if request.htmx else "core/audit.html"
    return render(request, template, {"page": page, "f": f, "results": AuditEvent.Result.choices,
                                      "actions": _known_actions()})


def _known_actions() -> list[str]:
    return list(AuditEvent.objects.order_by().values_list("action", flat=True).distinct()[:100])
