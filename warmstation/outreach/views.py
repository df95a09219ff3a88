"""Pages of the contact network. Workers: the inbox (a notice opened is a read receipt), my
groups, and a group's join page (where its QR code leads). Area and district admins: the desk
(notices, alerts of broken channels, dead letters), composing and scheduling a notice, its
delivery status per channel and recipient, groups with members and channels."""

from __future__ import annotations

import io
from datetime import datetime

import segno
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from warmstation.accounts.models import Role
from warmstation.accounts.pages import staff_page
from warmstation.accounts.selectors import worker_by_mobile
from warmstation.areas.scoping import access_area_by_code, managed_area_list
from warmstation.core.errors import ApplicationError, InvalidInput, NotFound
from warmstation.core.masking import mask_mobile, mask_name
from warmstation.core.pagination import page_list
from warmstation.core.refusals import refused, refused_message
from warmstation.core.time import LOCAL
from warmstation.outreach import selectors, services
from warmstation.outreach.models import DeliveryChannel, Notice, NoticeReceipt, OutboxMessage
from warmstation.outreach.permissions import (
    ADMINS,
    access_channel_by_id,
    access_group_by_id,
    access_group_by_token,
    access_managed_notice_by_id,
    access_member_by_id,
    access_message_by_id,
    access_notice_by_id,
    dead_letter_list,
    group_list,
    managed_notice_list,
    my_group_list,
)

EVERYONE = tuple(Role.values)


# --- everyone's inbox ----------------------------------------------------------------------

@staff_page(*EVERYONE)
def inbox(request):
    if request.method == "POST":
        services.notice_mark_all_read(user=request.user)
        return redirect("notices:inbox")
    page = page_list(request, selectors.inbox_list(request.user), per_page=20)
    return render(request, "outreach/inbox.html",
                  {"page": page, "unread": selectors.unread_count(request.user)})


@staff_page(*EVERYONE)
def read(request, notice_id: int):
    notice = access_notice_by_id(request.user, notice_id)
    receipt = services.notice_mark_read(user=request.user, notice=notice)
    return render(request, "outreach/read.html", {"notice": notice, "receipt": receipt})


@staff_page(*EVERYONE)
def my_groups(request):
    page = page_list(request, my_group_list(request.user).order_by("area__path", "name", "pk"))
    return render(request, "outreach/my_groups.html", {"page": page})


@staff_page(*EVERYONE)
def join(request, join_token: str):
    group = access_group_by_token(request.user, join_token)
    member = group.members.filter(user=request.user).first()
    if request.method == "POST":
        try:
            services.group_join(user=request.user, group=group, request=request)
        except ApplicationError as exc:
            refused_message(request, exc)
            return redirect("notices:join", join_token=join_token)
        messages.success(request, _("已加入群组。"))
        return redirect("notices:my_groups")
    return render(request, "outreach/join.html", {"group": group, "member": member})


# --- the admins' desk ------------------------------------------------------------------------

@staff_page(*ADMINS)
def desk(request):
    groups = group_list(request.user)
    page = page_list(request, managed_notice_list(request.user).order_by("-publish_at", "-pk"),
                     per_page=20)
    return render(request, "outreach/desk.html", {
        "page": page, "broken": list(selectors.broken_channels(groups)[:20]),
        "dead": dead_letter_list(request.user).count()})


def _parse_when(raw: str) -> datetime | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(_("请填写正确的发送时间。"), field="publish_at") from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, LOCAL)
    return moment


COMPOSE_FIELDS = ("kind", "audience", "group", "area", "title", "body", "publish_at")


@staff_page(*ADMINS)
def compose(request):
    user = request.user
    groups = list(group_list(user).filter(is_active=True).order_by("area__path", "name")[:500])
    ctx = {"kinds": Notice.Kind.choices, "audiences": Notice.Audience.choices,
           "groups": groups, "areas": list(managed_area_list(user).order_by("path")[:500]),
           "form": request.POST or {"group": request.GET.get("group", "")}}
    if request.method == "POST":
        p = request.POST
        try:
            audience = p.get("audience", "")
            group = area = None
            if audience == Notice.Audience.GROUP:
                try:
                    group = access_group_by_id(user, p.get("group", ""))
                except NotFound:
                    raise InvalidInput(_("请选择群组。"), field="group") from None
            elif audience == Notice.Audience.AREA:
                try:
                    area = access_area_by_code(user, p.get("area", ""), for_change=True)
                except NotFound:
                    raise InvalidInput(_("区域无效。"), field="area") from None
            notice = services.notice_create(
                actor=user, kind=p.get("kind", ""), audience=audience, group=group, area=area,
                title=p.get("title", ""), body=p.get("body", ""),
                publish_at=_parse_when(p.get("publish_at", "")), request=request)
        except ApplicationError as exc:
            return refused(request, "outreach/compose.html", ctx, exc, fields=COMPOSE_FIELDS)
        messages.success(request, _("通知已发布。") if notice.status == Notice.Status.PUBLISHED
                         else _("通知已定时。"))
        return redirect("notices:status", notice_id=notice.pk)
    return render(request, "outreach/compose.html", ctx)


def _receipt_rows(rows: list[NoticeReceipt]) -> list[dict]:
    return [{"name": mask_name(r.user.real_name) or mask_mobile(r.user.mobile),
             "read_at": r.read_at} for r in rows]


@staff_page(*ADMINS)
def status(request, notice_id: int):
    notice = access_managed_notice_by_id(request.user, notice_id)
    receipts = page_list(request, NoticeReceipt.objects.filter(notice=notice)
                         .select_related("user").order_by("read_at", "pk"),
                         per_page=50, param="rpage")
    receipts.items = _receipt_rows(receipts.items)
    outbox = page_list(request, OutboxMessage.objects.filter(notice=notice)
                       .select_related("delivery_channel").order_by("status", "pk"),
                       per_page=50, param="mpage")
    for m in outbox.items:
        m.shown_recipient = mask_mobile(m.recipient) if m.channel == "sms" else \
            (m.delivery_channel.name if m.delivery_channel else m.recipient)
    return render(request, "outreach/status.html", {
        "notice": notice, "summary": selectors.delivery_summary(notice),
        "receipts": receipts, "outbox": outbox})


@require_POST
@staff_page(*ADMINS)
def cancel(request, notice_id: int):
    notice = access_managed_notice_by_id(request.user, notice_id)
    try:
        services.notice_cancel(actor=request.user, notice=notice, request=request)
    except ApplicationError as exc:
        refused_message(request, exc)
    else:
        messages.success(request, _("定时通知已撤销。"))
    return redirect("notices:status", notice_id=notice.pk)


GROUP_FIELDS = ("area", "name", "patch")


@staff_page(*ADMINS)
def groups(request):
    user = request.user
    page = page_list(request, group_list(user).order_by("area__path", "name", "pk"))
    ctx = {"page": page, "areas": list(managed_area_list(user).order_by("path")[:500]),
           "form": request.POST or {}}
    if request.method == "POST":
        try:
            try:
                area = access_area_by_code(user, request.POST.get("area", ""), for_change=True)
            except NotFound:
                raise InvalidInput(_("区域无效。"), field="area") from None
            group = services.group_create(actor=user, area=area,
                                          name=request.POST.get("name", ""),
                                          patch=request.POST.get("patch", ""), request=request)
        except ApplicationError as exc:
            return refused(request, "outreach/groups.html", ctx, exc, fields=GROUP_FIELDS)
        messages.success(request, _("群组已建立。"))
        return redirect("notices:group", group_id=group.pk)
    return render(request, "outreach/groups.html", ctx)


def _group_context(request, group) -> dict:
    members = page_list(request, group.members.select_related("user").order_by("-joined_at",
                                                                              "-pk"))
    for m in members.items:
        m.shown_name = mask_name(m.user.real_name)
        m.shown_mobile = mask_mobile(m.user.mobile)
    return {"group": group, "members": members, "channels": list(group.channels.all()),
            "kinds": DeliveryChannel.Kind.choices,
            "join_url": request.build_absolute_uri(f"/notices/join/{group.join_token}/"),
            "form": request.POST or {}}


@staff_page(*ADMINS)
def group(request, group_id: int):
    group = access_group_by_id(request.user, group_id)
    if request.method == "POST":
        try:
            worker = worker_by_mobile(request.POST.get("mobile", ""))
            services.member_add(actor=request.user, group=group, user=worker, request=request)
        except ApplicationError as exc:
            return refused(request, "outreach/group.html", _group_context(request, group), exc,
                           fields=("mobile",))
        messages.success(request, _("已添加成员。"))
        return redirect("notices:group", group_id=group.pk)
    return render(request, "outreach/group.html", _group_context(request, group))


@staff_page(*ADMINS)
def group_qr(request, group_id: int):
    group = access_group_by_id(request.user, group_id)
    buf = io.BytesIO()
    segno.make_qr(request.build_absolute_uri(f"/notices/join/{group.join_token}/"),
                  error="m").save(buf, kind="svg", scale=6, border=4)
    return HttpResponse(buf.getvalue(), content_type="image/svg+xml")


CHANNEL_FIELDS = ("kind", "name", "webhook_url", "secret")


@require_POST
@staff_page(*ADMINS)
def channel_add(request, group_id: int):
    group = access_group_by_id(request.user, group_id)
    p = request.POST
    try:
        services.channel_create(actor=request.user, group=group, kind=p.get("kind", ""),
                                name=p.get("name", ""), webhook_url=p.get("webhook_url", ""),
                                secret=p.get("secret", ""), request=request)
    except ApplicationError as exc:
        ctx = _group_context(request, group)
        # The key typed is never echoed back into the page.
        data = p.copy()
        data["webhook_url"], data["secret"] = "", ""
        return refused(request, "outreach/group.html", {**ctx, "form": data}, exc,
                       fields=CHANNEL_FIELDS, data=data)
    messages.success(request, _("渠道已添加。"))
    return redirect("notices:group", group_id=group.pk)


@require_POST
@staff_page(*ADMINS)
def channel_edit(request, channel_id: int):
    channel = access_channel_by_id(request.user, channel_id)
    p = request.POST
    active = {"on": True, "off": False}.get(p.get("active", ""))
    try:
        services.channel_update(actor=request.user, channel=channel,
                                webhook_url=p.get("webhook_url", ""), secret=p.get("secret", ""),
                                is_active=active, request=request)
    except ApplicationError as exc:
        refused_message(request, exc)
    else:
        messages.success(request, _("渠道已更新。"))
    return redirect("notices:group", group_id=channel.group_id)


@require_POST
@staff_page(*ADMINS)
def member_remove(request, member_id: int):
    member = access_member_by_id(request.user, member_id)
    group_id = member.group_id
    services.member_remove(actor=request.user, member=member, request=request)
    messages.success(request, _("已移出群组。"))
    return redirect("notices:group", group_id=group_id)


@staff_page(*ADMINS)
def dead(request):
    page = page_list(request, dead_letter_list(request.user).order_by("-created_at", "-pk"))
    for m in page.items:
        m.shown_recipient = mask_mobile(m.recipient) if m.channel == "sms" else \
            (m.delivery_channel.name if m.delivery_channel else m.recipient)
    return render(request, "outreach/dead.html", {"page": page})


@require_POST
@staff_page(*ADMINS)
def retry(request, message_id: int):
    message = access_message_by_id(request.user, message_id)
    try:
        services.outbox_retry_dead(actor=request.user, message=message, request=request)
    except ApplicationError as exc:
        refused_message(request, exc)
    else:
        messages.success(request, _("已重新发送。"))
    return redirect(request.POST.get("next") if request.POST.get("next", "").startswith(
        "/notices/") else "notices:dead")
