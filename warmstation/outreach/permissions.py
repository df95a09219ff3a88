"""Who may see and change groups, channels, notices and outbox messages. One choke point per
thing; out of scope and missing look the same (404).

- area and district admins manage the groups, channels and notices of their areas and below
  (areas.scoping);
- a worker sees the groups they belong to, and a notice that is in their inbox;
- anyone signed in may open a group's join page by its QR token (that is what the code is for).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from warmstation.accounts.models import Role
from warmstation.areas.scoping import scope_q
from warmstation.core.errors import NotFound
from warmstation.core.inputs import id_or_404
from warmstation.outreach.models import (
    DeliveryChannel,
    Group,
    GroupMember,
    Notice,
    NoticeReceipt,
    OutboxMessage,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from warmstation.accounts.models import User

ADMINS = (Role.AREA_ADMIN, Role.DISTRICT_ADMIN)


def _signed_in(user: User | AnonymousUser | None) -> bool:
    return user is not None and user.is_authenticated


def group_list(user: User | AnonymousUser | None) -> QuerySet[Group]:
    """The groups an admin manages."""
    if not _signed_in(user) or not user.has_role(*ADMINS):  # type: ignore[union-attr]
        return Group.objects.none()
    return Group.objects.filter(scope_q(user, roles=ADMINS)).select_related("area")


def my_group_list(user: User | AnonymousUser | None) -> QuerySet[Group]:
    if user is None or not user.is_authenticated:
        return Group.objects.none()
    return Group.objects.filter(members__user_id=int(user.pk), is_active=True).select_related("area")


def access_group_by_id(user: User | AnonymousUser | None, group_id: int | str) -> Group:
    group = group_list(user).filter(pk=id_or_404(group_id)).first()
    if group is None:
        raise NotFound()
    return group


def access_group_by_token(user: User | AnonymousUser | None, token: str) -> Group:
    if not _signed_in(user) or not token or len(token) > 32 or "\x00" in token:
        raise NotFound()
    group = Group.objects.select_related("area").filter(join_token=token, is_active=True).first()
    if group is None:
        raise NotFound()
    return group


def access_member_by_id(user: User | AnonymousUser | None, member_id: int | str) -> GroupMember:
    member = GroupMember.objects.select_related("group", "user") \
        .filter(pk=id_or_404(member_id), group__in=group_list(user)).first()
    if member is None:
        raise NotFound()
    return member


def access_channel_by_id(user: User | AnonymousUser | None,
                         channel_id: int | str) -> DeliveryChannel:
    channel = DeliveryChannel.objects.select_related("group", "group__area") \
        .filter(pk=id_or_404(channel_id), group__in=group_list(user)).first()
    if channel is None:
        raise NotFound()
    return channel


def managed_notice_list(user: User | AnonymousUser | None) -> QuerySet[Notice]:
    if not _signed_in(user) or not user.has_role(*ADMINS):  # type: ignore[union-attr]
        return Notice.objects.none()
    return Notice.objects.filter(scope_q(user, roles=ADMINS)).select_related("area", "group")


def access_managed_notice_by_id(user: User | AnonymousUser | None,
                                notice_id: int | str) -> Notice:
    notice = managed_notice_list(user).filter(pk=id_or_404(notice_id)).first()
    if notice is None:
        raise NotFound()
    return notice


def access_notice_by_id(user: User | AnonymousUser | None, notice_id: int | str) -> Notice:
    """A published notice in the person's inbox, or one they manage."""
    pk = id_or_404(notice_id)
    if user is None or not user.is_authenticated:
        raise NotFound()
    notice = Notice.objects.select_related("area", "group").filter(
        pk=pk, status=Notice.Status.PUBLISHED,
        pk__in=NoticeReceipt.objects.filter(user_id=int(user.pk)).values("notice_id")).first()
    if notice is None:
        notice = managed_notice_list(user).filter(pk=pk).first()
    if notice is None:
        raise NotFound()
    return notice


def access_message_by_id(user: User | AnonymousUser | None,
                         message_id: int | str) -> OutboxMessage:
    """An outbox message of a notice or a channel the admin manages (for the retry of a dead
    letter); other messages (sign-in codes, case SMS) are not theirs to see."""
    pk = id_or_404(message_id)
    message = OutboxMessage.objects.select_related("delivery_channel", "notice").filter(
        pk=pk, delivery_channel__group__in=group_list(user)).first()
    if message is None:
        raise NotFound()
    return message


def dead_letter_list(user: User | AnonymousUser | None) -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(
        status=OutboxMessage.Status.DEAD, delivery_channel__group__in=group_list(user)) \
        .select_related("delivery_channel", "delivery_channel__group", "notice")
