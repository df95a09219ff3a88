"""The worker's side of notices: the inbox with unread counts and read receipts, and the groups
they belong to (joined by the group's QR code). Staff compose and follow notices on the desk
pages."""

from ninja import Router
from ninja.pagination import paginate

from warmstation.core.errors import NotFound
from warmstation.core.pagination import Rows
from warmstation.core.schemas import AUTH_ERRORS, Id, ProblemOut
from warmstation.outreach import selectors, services
from warmstation.outreach.models import Group, NoticeReceipt
from warmstation.outreach.permissions import access_group_by_token, my_group_list
from warmstation.outreach.schemas import GroupOut, InboxItemOut, JoinIn, ReadOut, UnreadOut

router = Router(tags=["notices"])


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
