"""The demo street reports load once, in every state, around 拱辰, with a command-centre account."""

from warmstation.accounts.models import Role
from warmstation.demo.seed import seed_demo
from warmstation.reports.models import Follower, Problem


def test_demo_reports_load_idempotently_in_every_state(db):
    seed_demo(workers=20)
    count = Problem.objects.count()
    seed_demo(workers=20)
    assert Problem.objects.count() == count == 14
    assert set(Problem.objects.values_list("status", flat=True)) == {
        "submitted", "accepted", "dispatched", "resolved", "closed", "rejected", "merged"}
    assert Problem.objects.filter(reject_reason="split").exists()
    assert Follower.objects.filter(kind="confirmer").exists()
    assert Problem.objects.filter(area__code="110111011000").count() == count
    from warmstation.accounts.models import User

    centre = User.objects.get(mobile="13800000008")
    assert centre.grants.filter(role=Role.COMMAND_CENTRE).exists()
