from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema

from warmstation.core.schemas import Id, Line, Mobile, Moment, Text


class InboxItemOut(Schema):
    """One notice in a person's inbox."""

    id: int  # the notice's id
    kind: str
    kind_label: str
    title: str
    body: str
    area_code: str
    published_at: datetime | None
    read_at: datetime | None


class UnreadOut(Schema):
    unread: int


class ReadOut(Schema):
    id: int
    read_at: datetime | None


class GroupOut(Schema):
    id: int
    name: str
    patch: str
    area_code: str
    area_name: str


class JoinIn(Schema):
    token: Annotated[str, Line(32, min_length=1)]


# --- the admins' side: groups, members, channels, notices, deliveries -----------------------

class ManagedGroupIn(Schema):
    area_code: Annotated[str, Line(32, min_length=1)]
    name: Annotated[str, Line(64, min_length=1)]
    patch: Annotated[str, Line(64)] = ""


class ManagedGroupPatch(Schema):
    """Only the fields sent are changed."""

    name: Annotated[str, Line(64, min_length=1)] | None = None
    patch: Annotated[str, Line(64)] | None = None
    is_active: bool | None = None


class ChannelOut(Schema):
    """A channel as staff see it: the robot's key and secret are never shown again, only the
    last four characters of the address (`key_hint`) and whether a secret is set."""

    id: int
    group_id: int
    kind: str
    kind_label: str
    name: str
    key_hint: str
    has_secret: bool
    is_active: bool
    broken_at: datetime | None
    broken_reason: str


class ManagedGroupOut(Schema):
    id: int
    name: str
    patch: str
    area_code: str
    area_name: str
    is_active: bool
    member_count: int
    join_token: str
    created_at: datetime


class ManagedGroupDetailOut(ManagedGroupOut):
    channels: list[ChannelOut]


class MemberIn(Schema):
    mobile: Mobile


class MemberOut(Schema):
    """A member, masked as the desk shows them (张*, 138****0007)."""

    id: int
    group_id: int
    name: str
    mobile: str
    via: str
    joined_at: datetime


class ChannelIn(Schema):
    """A robot's webhook address (WeCom: …?key=…, DingTalk: …?access_token=…) and a DingTalk
    robot's signing secret are write-only. SMS needs neither."""

    kind: Literal["wecom", "dingtalk", "sms"]
    name: Annotated[str, Line(64)] = ""
    webhook_url: Annotated[str, Line(500)] = ""
    secret: Annotated[str, Line(200)] = ""


class ChannelPatch(Schema):
    """A new address or secret replaces the stored one (and clears a broken mark); empty or
    absent keeps it. `is_active` switches the channel off or on."""

    webhook_url: Annotated[str, Line(500)] = ""
    secret: Annotated[str, Line(200)] = ""
    is_active: bool | None = None


class NoticeIn(Schema):
    """To one group (`group_id`), an area (`area_code`) or everyone (district admins only).
    Without `publish_at`, or with a time now, it is published at once; a later time (at most
    90 days ahead) schedules it."""

    kind: Literal["tip", "service", "volunteer", "policy"]
    audience: Literal["group", "area", "all"]
    group_id: Id | None = None
    area_code: Annotated[str, Line(32)] | None = None
    title: Annotated[str, Line(80, min_length=1)]
    body: Annotated[str, Text(5000, min_length=1)]
    publish_at: Moment | None = None


class ChannelDeliveryOut(Schema):
    """One channel's messages for a notice, counted by status."""

    channel_id: int
    kind: str
    name: str
    group_id: int
    pending: int
    sending: int
    sent: int
    dead: int


class ManagedNoticeOut(Schema):
    id: int
    kind: str
    audience: str
    status: str
    title: str
    body: str
    area_code: str
    group_id: int | None
    publish_at: datetime
    published_at: datetime | None
    recipient_count: int


class ManagedNoticeDetailOut(ManagedNoticeOut):
    read: int
    unread: int
    channels: list[ChannelDeliveryOut]


class DeliveryOut(Schema):
    """One outbox message of a notice: an SMS to one person (mobile masked) or one post to a
    group robot (the channel's name)."""

    id: int
    notice_id: int | None
    channel_id: int | None
    channel: str
    recipient: str
    status: str
    attempts: int
    part: int
    parts: int
    last_error: str
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None


class ReceiptOut(Schema):
    """A recipient's inbox row: read or not (name masked)."""

    name: str
    read_at: datetime | None
