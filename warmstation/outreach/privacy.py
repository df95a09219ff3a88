"""Messages sent to a person's number, for the copy and the erasure (core/privacy.py)."""

from __future__ import annotations

from django.db.models import Q

from warmstation.core import privacy
from warmstation.core.privacy import Person
from warmstation.outreach.models import OutboxMessage


def export(person: Person) -> dict:
    return {"messages": [
        {"created_at": m.created_at.isoformat(), "channel": m.channel, "purpose": m.purpose,
         "status": m.status, "body": "" if m.sensitive else m.body}
        for m in OutboxMessage.objects.filter(recipient=person.mobile).order_by("created_at", "id")
    ]}


def erase(person: Person) -> None:
    """The rows stay (delivery counts, dead letters); the number and the text go. Messages to
    others that name the person (a department told who raised a need) are starred out."""
    OutboxMessage.objects.filter(recipient=person.mobile).update(
        recipient="closed", body="（账户已注销 account closed）", last_error="")
    mentions = Q()
    for needle in person.needles():
        mentions |= Q(body__contains=needle)
    for message in OutboxMessage.objects.filter(mentions):
        OutboxMessage.objects.filter(pk=message.pk).update(body=person.redact(message.body))


privacy.register("outreach", export=export, erase=erase, covers=())
