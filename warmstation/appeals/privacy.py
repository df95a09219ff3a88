"""A person's needs and complaints, for the copy and the erasure (core/privacy.py)."""

from __future__ import annotations

from django.db.models import Q

from warmstation.appeals.models import Appeal, AppealEvent
from warmstation.core import privacy
from warmstation.core.privacy import Person


def export(person: Person) -> dict:
    """Each case the person raised with its timeline as their case page shows it (steps, the
    department concerned, notes and answers), without naming the staff who took each step."""
    cases = (Appeal.objects.filter(submitter=person.user)
             .select_related("category", "area", "department")
             .prefetch_related("events__department").order_by("created_at", "id"))
    return {"needs": [
        {"id": a.pk, "created_at": a.created_at.isoformat(), "category": a.category.name_zh,
         "area": a.area.name_zh, "title": a.title, "body": a.body, "status": a.status,
         "department": a.department.name_zh if a.department else None, "answer": a.answer,
         "resolved": a.resolved, "satisfaction": a.satisfaction,
         "timeline": [
             {"at": e.at.isoformat(), "action": e.action, "from_status": e.from_status,
              "to_status": e.to_status,
              "department": e.department.name_zh if e.department else None,
              "by_me": e.actor_id == person.user.pk, "note": e.note}
             for e in a.events.all()]}
        for a in cases]}


def erase(person: Person) -> None:
    """Cases stay (the board's counts and rates do not move) and keep pointing at the closed
    account; the person's name and number are starred out of the cases' text, and out of every
    timeline line they wrote or that belongs to their cases."""
    for appeal in Appeal.objects.filter(submitter=person.user):
        fields = {f: person.redact(getattr(appeal, f)) for f in ("title", "body", "answer")}
        if any(fields[f] != getattr(appeal, f) for f in fields):
            Appeal.objects.filter(pk=appeal.pk).update(**fields)
    for event in AppealEvent.objects.filter(
            Q(appeal__submitter=person.user) | Q(actor=person.user)).exclude(note=""):
        if person.mentioned_in(event.note):
            AppealEvent.objects.filter(pk=event.pk).update(note=person.redact(event.note))


privacy.register("appeals", export=export, erase=erase,
                 covers=("appeals.meeting", "appeals.appeal", "appeals.appealevent"))
