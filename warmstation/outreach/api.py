"""Notices in the JSON API.

The worker's side: the inbox with unread counts and read receipts, and the groups they belong
to (joined by the group's QR code). The admins' side (`/manage/…`, area and district admins,
what the desk pages do): groups, their members and channels, composing and scheduling a
notice, its delivery per channel and recipient, and the retry of a dead letter. Every object is
read through its `access_…_by_id` (outreach/permissions.py); every write is a service call,
which records the audit event. A robot's webhook address and secret are write-only."""

from typing import Annotated, Literal

from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from ninja import Router, Status
from ninja.pagination import paginate

from warmstation.accounts.selectors import worker_by_mobile
from warmstation.areas.scoping import access_area_by_code
from warmstation.core.errors import InvalidInput, NotFound
from warmstation.core.masking import mask_mobile, mask_name
from warmstation.core.pagination import Rows
from warmstation.core.permissions import require_roles
from warmstation.core.schemas import AUTH_ERRORS, Id, Line, ProblemOut
from warmstation.outreach import selectors, services
from warmstation.outreach.models import (
    DeliveryChannel,
    Group,
    GroupMember,
    Notice,
    NoticeReceipt,
    OutboxMessage,
)
from warmstation.outreach.permissions import (
    ADMINS,
    access_channel_by_id,
    access_group_by_id,
    access_group_by_token,
    access_managed_notice_by_id,
    access_member_by_id,
    access_message_by_id,
    dead_letter_list,
    group_list,
    managed_notice_list,
    my_group_list,
)
from warmstation.outreach.schemas import (
    ChannelDeliveryOut,
    ChannelIn,
    ChannelOut,
    ChannelPatch,
    DeliveryOut,
    GroupOut,
    InboxItemOut,
    JoinIn,
    ManagedGroupDetailOut,
    ManagedGroupIn,
    ManagedGroupOut,
    ManagedGroupPatch,
    ManagedNoticeDetailOut,
    ManagedNoticeOut,
    MemberIn,
    MemberOut,
    NoticeIn,
    ReadOut,
    ReceiptOut,
    UnreadOut,
)

router = Router(tags=["notices"])
ERR = {404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS}


def _item(receipt: NoticeReceipt) -> InboxItemOut:
    n = receipt.notice
    return InboxItemOut(id=n.pk, kind=n.kind, kind_label=n.get_kind_display(), title=n.title,
                        body=n.body, area_code=n.area.code, published_at=n.published_at,
                        read_at=receipt.read_at)


def _group(group: Group) -> GroupOut:
    return GroupOut(id=group.pk, name=group.name, patch=group.patch, area_code=group.area.code,
                    area_name=group.area.name_zh)


@router.get("/inbox", url_name="notices_inbox", operation_id="list_my_notices",
            summary="My notices, newest first (read_at null: unread)",
            response={200: list[InboxItemOut], **AUTH_ERRORS})
@paginate
def list_my_notices(request, unread: bool = False):
    receipts = selectors.inbox_list(request.user)
    if unread:
        receipts = receipts.filter(read_at=None)
    return Rows(receipts, lambda rows: [_item(r) for r in rows])


@router.get("/inbox/unread", url_name="notices_unread", operation_id="get_my_unread_count",
            summary="How many of my notices are unread", response={200: UnreadOut, **AUTH_ERRORS})
def get_my_unread_count(request):
    return UnreadOut(unread=selectors.unread_count(request.user))


@router.post("/inbox/{notice_id}/read", url_name="notices_read",
             operation_id="mark_notice_read", summary="Mark one of my notices read (a receipt)",
             response={200: ReadOut, 404: ProblemOut, **AUTH_ERRORS})
def mark_notice_read(request, notice_id: Id):
    receipt = selectors.inbox_list(request.user).filter(notice_id=notice_id).first()
    if receipt is None:
        raise NotFound()
    receipt = services.notice_mark_read(user=request.user, notice=receipt.notice)
    return ReadOut(id=notice_id, read_at=receipt.read_at if receipt else None)


@router.get("/groups", url_name="notices_my_groups", operation_id="list_my_groups",
            summary="The groups I belong to", response={200: list[GroupOut], **AUTH_ERRORS})
@paginate
def list_my_groups(request):
    return Rows(my_group_list(request.user).order_by("area__path", "name", "pk"),
                lambda rows: [_group(g) for g in rows])


@router.post("/groups/join", url_name="notices_join", operation_id="join_group",
             summary="Join a group by the token of its QR code",
             response={200: GroupOut, 404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS})
def join_group(request, payload: JoinIn):
    group = access_group_by_token(request.user, payload.token)
    services.group_join(user=request.user, group=group, request=request)
    return _group(group)


# --- the admins' side ----------------------------------------------------------------------

def _managed_group(group: Group, member_count: int | None = None) -> ManagedGroupOut:
    count = member_count if member_count is not None else \
        getattr(group, "member_count", None)
    if count is None:
        count = group.members.count()
    return ManagedGroupOut(id=group.pk, name=group.name, patch=group.patch,
                           area_code=group.area.code, area_name=group.area.name_zh,
                           is_active=group.is_active, member_count=count,
                           join_token=group.join_token, created_at=group.created_at)


def _channel(channel: DeliveryChannel) -> ChannelOut:
    # Never webhook_url or secret: they are write-only.
    return ChannelOut(id=channel.pk, group_id=channel.group_id, kind=channel.kind,
                      kind_label=str(channel.get_kind_display()), name=channel.name,
                      key_hint=channel.key_hint, has_secret=bool(channel.secret),
                      is_active=channel.is_active, broken_at=channel.broken_at,
                      broken_reason=channel.broken_reason)


def _group_detail(group: Group) -> ManagedGroupDetailOut:
    base = _managed_group(group)
    return ManagedGroupDetailOut(**base.dict(),
                                 channels=[_channel(c) for c in group.channels.order_by("pk")])


def _member(member: GroupMember) -> MemberOut:
    return MemberOut(id=member.pk, group_id=member.group_id,
                     name=mask_name(member.user.real_name), mobile=mask_mobile(member.user.mobile),
                     via=member.via, joined_at=member.joined_at)


def _notice(notice: Notice) -> ManagedNoticeOut:
    return ManagedNoticeOut(id=notice.pk, kind=notice.kind, audience=notice.audience,
                            status=notice.status, title=notice.title, body=notice.body,
                            area_code=notice.area.code, group_id=notice.group_id,
                            publish_at=notice.publish_at, published_at=notice.published_at,
                            recipient_count=notice.recipient_count)


def _notice_detail(notice: Notice) -> ManagedNoticeDetailOut:
    summary = selectors.delivery_summary(notice)
    channels = [ChannelDeliveryOut(channel_id=c.pk, kind=c.kind, name=c.name, group_id=c.group_id,
                                   **{s: counts.get(s, 0) for s in OutboxMessage.Status.values})
                for c, counts in summary["channels"]]
    return ManagedNoticeDetailOut(**_notice(notice).dict(), read=summary["read"],
                                  unread=summary["unread"], channels=channels)


def _delivery(message: OutboxMessage) -> DeliveryOut:
    if message.channel == OutboxMessage.Channel.SMS:
        shown = mask_mobile(message.recipient)
    else:
        shown = message.delivery_channel.name if message.delivery_channel else message.channel
    return DeliveryOut(id=message.pk, notice_id=message.notice_id,
                       channel_id=message.delivery_channel_id, channel=message.channel,
                       recipient=shown, status=message.status, attempts=message.attempts,
                       part=message.part, parts=message.parts,
                       last_error=message.last_error[:500], created_at=message.created_at,
                       sent_at=message.sent_at, next_attempt_at=message.next_attempt_at)


def _area_for_change(request, code: str | None, field: str = "area_code"):
    """An area named in a body: unknown or out of the admin's scope is the input being wrong
    (422), as on the desk's forms."""
    try:
        return access_area_by_code(request.user, code or "", for_change=True)
    except NotFound:
        raise InvalidInput(_("区域无效。"), field=field) from None


@router.get("/manage/groups", url_name="notices_manage_groups",
            operation_id="list_notice_groups",
            summary="Groups in my areas (area and district admins)",
            response={200: list[ManagedGroupOut], **AUTH_ERRORS})
@require_roles(*ADMINS)
@paginate
def list_notice_groups(request, area_code: Annotated[str, Line(32)] | None = None,
                       active: bool | None = None):
    groups = group_list(request.user).annotate(member_count=Count("members"))
    if area_code:
        groups = groups.filter(area__code=area_code)
    if active is not None:
        groups = groups.filter(is_active=active)
    return Rows(groups.order_by("area__path", "name", "pk"),
                lambda rows: [_managed_group(g) for g in rows])


@router.post("/manage/groups", url_name="notices_manage_groups_create",
             operation_id="create_notice_group", summary="Set up a group in one of my areas",
             response={201: ManagedGroupDetailOut, **ERR})
@require_roles(*ADMINS)
def create_notice_group(request, payload: ManagedGroupIn):
    area = _area_for_change(request, payload.area_code)
    group = services.group_create(actor=request.user, area=area, name=payload.name,
                                  patch=payload.patch, request=request)
    return Status(201, _group_detail(group))


@router.get("/manage/groups/{group_id}", url_name="notices_manage_group",
            operation_id="get_notice_group",
            summary="One group with its channels (keys shown as their last four characters)",
            response={200: ManagedGroupDetailOut, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(*ADMINS)
def get_notice_group(request, group_id: Id):
    return _group_detail(access_group_by_id(request.user, group_id))


@router.patch("/manage/groups/{group_id}", url_name="notices_manage_group_update",
              operation_id="update_notice_group",
              summary="Rename a group, change its patch, switch it off or on",
              response={200: ManagedGroupDetailOut, **ERR})
@require_roles(*ADMINS)
def update_notice_group(request, group_id: Id, payload: ManagedGroupPatch):
    group = access_group_by_id(request.user, group_id)
    group = services.group_update(actor=request.user, group=group, name=payload.name,
                                  patch=payload.patch, is_active=payload.is_active,
                                  request=request)
    return _group_detail(group)


@router.get("/manage/groups/{group_id}/members", url_name="notices_manage_members",
            operation_id="list_group_members", summary="A group's members, newest first (masked)",
            response={200: list[MemberOut], 404: ProblemOut, **AUTH_ERRORS})
@require_roles(*ADMINS)
@paginate
def list_group_members(request, group_id: Id):
    group = access_group_by_id(request.user, group_id)
    return Rows(group.members.select_related("user").order_by("-joined_at", "-pk"),
                lambda rows: [_member(m) for m in rows])


@router.post("/manage/groups/{group_id}/members", url_name="notices_manage_members_add",
             operation_id="add_group_member", summary="Add a worker to a group by their mobile",
             response={201: MemberOut, **ERR})
@require_roles(*ADMINS)
def add_group_member(request, group_id: Id, payload: MemberIn):
    group = access_group_by_id(request.user, group_id)
    worker = worker_by_mobile(payload.mobile)
    member = services.member_add(actor=request.user, group=group, user=worker, request=request)
    return Status(201, _member(GroupMember.objects.select_related("user").get(pk=member.pk)))


@router.delete("/manage/members/{member_id}", url_name="notices_manage_member",
               operation_id="remove_group_member", summary="Take a member out of their group",
               response={204: None, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(*ADMINS)
def remove_group_member(request, member_id: Id):
    member = access_member_by_id(request.user, member_id)
    services.member_remove(actor=request.user, member=member, request=request)
    return Status(204, None)


@router.post("/manage/groups/{group_id}/channels", url_name="notices_manage_channels",
             operation_id="create_group_channel",
             summary="Add a channel to a group: a WeCom or DingTalk robot, or SMS",
             response={201: ChannelOut, **ERR})
@require_roles(*ADMINS)
def create_group_channel(request, group_id: Id, payload: ChannelIn):
    group = access_group_by_id(request.user, group_id)
    channel = services.channel_create(actor=request.user, group=group, kind=payload.kind,
                                      name=payload.name, webhook_url=payload.webhook_url,
                                      secret=payload.secret, request=request)
    return Status(201, _channel(channel))


@router.patch("/manage/channels/{channel_id}", url_name="notices_manage_channel",
              operation_id="update_group_channel",
              summary="Replace a robot's address or secret, or switch a channel off or on",
              response={200: ChannelOut, **ERR})
@require_roles(*ADMINS)
def update_group_channel(request, channel_id: Id, payload: ChannelPatch):
    channel = access_channel_by_id(request.user, channel_id)
    channel = services.channel_update(actor=request.user, channel=channel,
                                      webhook_url=payload.webhook_url, secret=payload.secret,
                                      is_active=payload.is_active, request=request)
    return _channel(channel)


@router.get("/manage/notices", url_name="notices_manage_notices",
            operation_id="list_managed_notices",
            summary="Notices of my areas, newest first (scheduled, published, cancelled)",
            response={200: list[ManagedNoticeOut], **AUTH_ERRORS})
@require_roles(*ADMINS)
@paginate
def list_managed_notices(request,
                         status: Literal["scheduled", "published", "cancelled"] | None = None):
    notices = managed_notice_list(request.user)
    if status:
        notices = notices.filter(status=status)
    return Rows(notices.order_by("-publish_at", "-pk"), lambda rows: [_notice(n) for n in rows])


@router.post("/manage/notices", url_name="notices_manage_notices_create",
             operation_id="create_notice",
             summary="Compose a notice: published now, or scheduled for `publish_at`",
             response={201: ManagedNoticeDetailOut, **ERR})
@require_roles(*ADMINS)
def create_notice(request, payload: NoticeIn):
    group = area = None
    if payload.audience == Notice.Audience.GROUP:
        try:
            group = access_group_by_id(request.user, payload.group_id or 0)
        except NotFound:
            raise InvalidInput(_("请选择群组。"), field="group_id") from None
    elif payload.audience == Notice.Audience.AREA:
        area = _area_for_change(request, payload.area_code)
    notice = services.notice_create(actor=request.user, kind=payload.kind,
                                    audience=payload.audience, group=group, area=area,
                                    title=payload.title, body=payload.body,
                                    publish_at=payload.publish_at, request=request)
    return Status(201, _notice_detail(access_managed_notice_by_id(request.user, notice.pk)))


@router.get("/manage/notices/{notice_id}", url_name="notices_manage_notice",
            operation_id="get_managed_notice",
            summary="A notice with its delivery: inbox rows read and unread, and per channel "
                    "its messages by status",
            response={200: ManagedNoticeDetailOut, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(*ADMINS)
def get_managed_notice(request, notice_id: Id):
    return _notice_detail(access_managed_notice_by_id(request.user, notice_id))


@router.post("/manage/notices/{notice_id}/cancel", url_name="notices_manage_cancel",
             operation_id="cancel_notice", summary="Cancel a scheduled notice before it goes",
             response={200: ManagedNoticeDetailOut, **ERR})
@require_roles(*ADMINS)
def cancel_notice(request, notice_id: Id):
    notice = access_managed_notice_by_id(request.user, notice_id)
    services.notice_cancel(actor=request.user, notice=notice, request=request)
    return _notice_detail(access_managed_notice_by_id(request.user, notice_id))


@router.get("/manage/notices/{notice_id}/deliveries", url_name="notices_manage_deliveries",
            operation_id="list_notice_deliveries",
            summary="A notice's outbox messages, per channel and recipient (mobiles masked)",
            response={200: list[DeliveryOut], 404: ProblemOut, **AUTH_ERRORS})
@require_roles(*ADMINS)
@paginate
def list_notice_deliveries(request, notice_id: Id,
                           status: Literal["pending", "sending", "sent", "dead"] | None = None,
                           channel_id: Id | None = None):
    notice = access_managed_notice_by_id(request.user, notice_id)
    messages = OutboxMessage.objects.filter(notice=notice).select_related("delivery_channel")
    if status:
        messages = messages.filter(status=status)
    if channel_id:
        messages = messages.filter(delivery_channel_id=channel_id)
    return Rows(messages.order_by("status", "pk"), lambda rows: [_delivery(m) for m in rows])


@router.get("/manage/notices/{notice_id}/receipts", url_name="notices_manage_receipts",
            operation_id="list_notice_receipts",
            summary="A notice's recipients in the app, unread first (names masked)",
            response={200: list[ReceiptOut], 404: ProblemOut, **AUTH_ERRORS})
@require_roles(*ADMINS)
@paginate
def list_notice_receipts(request, notice_id: Id, read: bool | None = None):
    notice = access_managed_notice_by_id(request.user, notice_id)
    receipts = NoticeReceipt.objects.filter(notice=notice).select_related("user")
    if read is not None:
        receipts = receipts.filter(read_at__isnull=not read)
    return Rows(receipts.order_by("read_at", "pk"), lambda rows: [
        ReceiptOut(name=mask_name(r.user.real_name) or mask_mobile(r.user.mobile),
                   read_at=r.read_at) for r in rows])


@router.get("/manage/dead-letters", url_name="notices_manage_dead",
            operation_id="list_dead_letters",
            summary="Messages of my groups' channels that failed for good, newest first",
            response={200: list[DeliveryOut], **AUTH_ERRORS})
@require_roles(*ADMINS)
@paginate
def list_dead_letters(request):
    return Rows(dead_letter_list(request.user).order_by("-created_at", "-pk"),
                lambda rows: [_delivery(m) for m in rows])


@router.post("/manage/messages/{message_id}/retry", url_name="notices_manage_retry",
             operation_id="retry_dead_letter",
             summary="Send a dead letter again (after its channel was fixed)",
             response={200: DeliveryOut, **ERR})
@require_roles(*ADMINS)
def retry_dead_letter(request, message_id: Id):
    message = access_message_by_id(request.user, message_id)
    message = services.outbox_retry_dead(actor=request.user, message=message, request=request)
    return _delivery(OutboxMessage.objects.select_related("delivery_channel").get(pk=message.pk))
