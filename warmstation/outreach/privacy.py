"""Messages sent to a person's number, their group memberships and their inbox, for the copy
and the erasure (core/privacy.py)."""

from __future__ import annotations

from django.db.models import Q

from warmstation.core import privacy
from warmstation.core.privacy import Person
from warmstation.outreach.models import (
    DeliveryChannel,
    Group,
    GroupMember,
    Notice,
    NoticeReceipt,
    OutboxMessage,
)


def export(person: Person) -> dict:
    user = person.user
    return {
        "messages": [
            {"created_at": m.created_at.isoformat(), "channel": m.channel, "purpose": m.purpose,
             "status": m.status, "body": "" if m.sensitive else m.body}
            for m in OutboxMessage.objects.filter(recipient=person.mobile)
            .order_by("created_at", "id")],
        "groups": [
            {"group": m.group.name, "area": m.group.area.code, "via": m.via,
             "joined_at": m.joined_at.isoformat()}
            for m in GroupMember.objects.filter(user=user).select_related("group", "group__area")
            .order_by("joined_at", "id")],
        "notices_received": [
            {"title": r.notice.title, "published_at": r.notice.published_at.isoformat()
             if r.notice.published_at else None,
             "read_at": r.read_at.isoformat() if r.read_at else None}
            for r in NoticeReceipt.objects.filter(user=user).select_related("notice")
            .order_by("notice__publish_at", "id")],
        "notices_written": [
            {"title": n.title, "publish_at": n.publish_at.isoformat()}
            for n in Notice.objects.filter(author=user).order_by("publish_at", "id")],
    }


def erase(person: Person) -> None:
    """The rows stay (delivery counts, dead letters); the number and the text go. Messages to
    others that name the person (a department told who raised a need) are starred out. The
    person leaves every group and their inbox goes; notices and groups they made stay, no
    longer linked to them."""
    user = person.user
    OutboxMessage.objects.filter(recipient=person.mobile).update(
        recipient="closed", body="（账户已注销 account closed）", last_error="")
    mentions = Q()
    for needle in person.needles():
        mentions |= Q(body__contains=needle)
    for message in OutboxMessage.objects.filter(mentions):
        OutboxMessage.objects.filter(pk=message.pk).update(body=person.redact(message.body))
    GroupMember.objects.filter(user=user).delete()
    GroupMember.objects.filter(added_by=user).update(added_by=None)
    NoticeReceipt.objects.filter(user=user).delete()
    Notice.objects.filter(author=user).update(author=None)
    Group.objects.filter(created_by=user).update(created_by=None)
    DeliveryChannel.objects.filter(created_by=user).update(created_by=None)


privacy.register("outreach", export=export, erase=erase,
                 covers=("outreach.groupmember", "outreach.noticereceipt", "outreach.notice",
                         "outreach.group", "outreach.deliverychannel"))
