"""Demo contact groups and notices, after the source document: "以社区或片区为单位，建立快递小哥微信
群 … 方便进行工作提示、公布服务信息", 拱辰街道's "行走的哨兵" volunteer team (trained at the street's
city-management command centre to 随手拍), 西潞街道's 爱心套餐 and the 区人力社保局's policy talk.

A few groups with members (the workers of each community), one channel of each kind — a WeCom
robot and a DingTalk robot whose webhooks point at 127.0.0.1:9, where nothing listens, and SMS
through the demo's console backend — so nothing ever leaves the machine; the robots' messages
fail, are retried and end as dead letters on the desk, as a wrong address would. Two notices
already sent, two scheduled. Idempotent: a second run adds nothing."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from warmstation.accounts.models import User, WorkerProfile
from warmstation.areas.models import Area
from warmstation.areas.scoping import area_in_scope
from warmstation.outreach import services
from warmstation.outreach.models import DeliveryChannel, Group, GroupMember, Notice

GONGCHEN, XILU = "110111011000", "110111012000"
AREA_ADMIN, DISTRICT_ADMIN = "13800000005", "13800000006"
# Where the demo's robots post: a local port nothing listens on (the discard port, closed).
NOWHERE = "http://127.0.0.1:9"
MEMBERS_PER_GROUP = 40

# (area code, group name, patch, member areas: the workers of these areas join)
GROUPS = [
    ("110111-YLJ", "伊林郡社区小哥群", "", ["110111-YLJ"]),
    ("110111011901", "行宫园社区小哥群", "", ["110111011901"]),
    (GONGCHEN, "“行走的哨兵”志愿服务队", "", ["110111-YLJ", "110111011901", "110111011902"]),
    ("110111012901", "苏庄三里社区小哥群", "东片", ["110111012901"]),
    ("110111105901", "长阳半岛社区小哥群", "", ["110111105901"]),
]
# (group name, kind, name, webhook, secret)
CHANNELS = [
    (
        "伊林郡社区小哥群",
        "wecom",
        "伊林郡小哥企业微信群",
        f"{NOWHERE}/cgi-bin/webhook/send?key=demo-wecom-ylj-0001",
        "",
    ),
    ("伊林郡社区小哥群", "sms", "短信", "", ""),
    (
        "“行走的哨兵”志愿服务队",
        "dingtalk",
        "行走的哨兵钉钉群",
        f"{NOWHERE}/robot/send?access_token=demo-dingtalk-gc-0002",
        "SECdemo-signing-secret-0002",
    ),
]
# (title, kind, audience, group name or area code, days from now (< 0: sent that long ago), body)
NOTICES = [
    (
        "随手拍：看到问题拍下来",
        "tip",
        "group",
        "伊林郡社区小哥群",
        -3,
        "送件路上看到环境脏乱、垃圾暴露、堆物堆料，请打开“随手拍”拍照上传，写清位置。街道城市管理"
        "指挥中心受理后会派给责任部门，处理结果在“我的上报”里能看到。",
    ),
    (
        "“行走的哨兵”培训通知",
        "volunteer",
        "group",
        "“行走的哨兵”志愿服务队",
        -1,
        "拱辰街道组建“行走的哨兵”志愿服务队，请报名的小哥到街道城市管理指挥中心参加培训，工作人员"
        "手把手指导安装智慧执法App、拍照上传发现的问题。",
    ),
    (
        "西潞街道爱心套餐服务点",
        "service",
        "area",
        XILU,
        2,
        "西潞街道与辖区7家餐饮企业合作，为快递员、外卖员、网约车司机提供优惠套餐。服务点位置、联系人"
        "和联系方式见《西潞街道爱心港湾服务手册》。",
    ),
    (
        "就业和社保政策专题座谈会",
        "policy",
        "group",
        "长阳半岛社区小哥群",
        5,
        "区人力社保局将召开专题座谈会，讲解市、区现行就业服务、法律法规、社会保险政策，现场解答小哥"
        "的问题，会后跟踪服务。",
    ),
]


def _author(actor: User, area: Area) -> User:
    """拱辰's area admin for 拱辰's groups and notices, the district admin for the others."""
    if area_in_scope(actor, area):
        return actor
    return User.objects.get(mobile=DISTRICT_ADMIN)


def _groups(actor: User) -> dict[str, Group]:
    areas = {
        a.code: a for a in Area.objects.filter(code__in={c for g in GROUPS for c in (g[0], *g[3])})
    }
    groups = {}
    for area_code, name, patch, member_areas in GROUPS:
        area = areas[area_code]
        group = Group.objects.filter(area=area, name=name).first() or services.group_create(
            actor=_author(actor, area), area=area, name=name, patch=patch
        )
        groups[name] = group
        # Members in one insert (the seed must stay fast): the workers of those areas, as if
        # they had scanned the group's QR code.
        users = list(
            WorkerProfile.objects.filter(areas__code__in=member_areas)
            .order_by("user_id")
            .values_list("user_id", flat=True)
            .distinct()[:MEMBERS_PER_GROUP]
        )
        GroupMember.objects.bulk_create(
            [GroupMember(group=group, user_id=u, via=GroupMember.Via.QR) for u in users],
            ignore_conflicts=True,
        )
    return groups


def _channels(actor: User, groups: dict[str, Group]) -> None:
    for group_name, kind, name, webhook, secret in CHANNELS:
        group = groups[group_name]
        if not group.channels.filter(kind=kind).exists():
            services.channel_create(
                actor=_author(actor, group.area),
                group=group,
                kind=kind,
                name=name,
                webhook_url=webhook,
                secret=secret,
            )


def _notices(actor: User, groups: dict[str, Group]) -> int:
    now = timezone.now()
    made = 0
    for title, kind, audience, target, days, body in NOTICES:
        if Notice.objects.filter(title=title).exists():
            continue
        group = groups[target] if audience == "group" else None
        area = Area.objects.get(code=target) if audience == "area" else None
        where = group.area if group is not None else area
        assert where is not None
        notice = services.notice_create(
            actor=_author(actor, where),
            kind=kind,
            audience=audience,
            group=group,
            area=area,
            title=title,
            body=body,
            publish_at=now + timedelta(days=days) if days > 0 else None,
        )
        if days < 0:  # sent some days ago: its history, not today's
            then = now + timedelta(days=days)
            Notice.objects.filter(pk=notice.pk).update(publish_at=then, published_at=then)
        made += 1
    return made


@transaction.atomic
def seed_outreach() -> dict:
    actor = User.objects.get(mobile=AREA_ADMIN)
    groups = _groups(actor)
    _channels(actor, groups)
    made = _notices(actor, groups)
    return {
        "groups": len(groups),
        "notices": made,
        "channels": DeliveryChannel.objects.filter(group__in=groups.values()).count(),
    }
