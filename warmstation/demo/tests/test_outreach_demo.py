"""The demo groups and notices load once: groups with members, one channel of each kind that
points nowhere outside the machine, notices sent and scheduled."""

from warmstation.demo.seed import seed_demo
from warmstation.outreach.models import DeliveryChannel, Group, Notice


def test_demo_groups_and_notices(db):
    """(A second run adds nothing: tests/test_demo.py counts these models too.)"""
    seed_demo(workers=20)
    assert (
        Group.objects.count() >= 4 and Group.objects.filter(name="“行走的哨兵”志愿服务队").exists()
    )
    assert all(g.members.exists() for g in Group.objects.all())
    assert set(DeliveryChannel.objects.values_list("kind", flat=True)) == {
        "wecom",
        "dingtalk",
        "sms",
    }
    for channel in DeliveryChannel.objects.exclude(kind="sms"):
        assert channel.webhook_url.startswith("http://127.0.0.1:9/")  # nowhere, locally
    statuses = set(Notice.objects.values_list("status", flat=True))
    assert statuses == {"published", "scheduled"}
    sent = Notice.objects.get(title="随手拍：看到问题拍下来")
    assert sent.recipient_count >= 1 and sent.messages.filter(channel="wecom").exists()
