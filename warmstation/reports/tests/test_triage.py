"""The command centre's workflow and the acceptance points: once per problem per person,
whatever the retries; reasons, dispatch, resolve with an after-photo, "not fixed" within 7
days, merges, bulk steps, SMS through the outbox."""

from datetime import timedelta

import pytest
from django.utils import timezone

from warmstation.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from warmstation.outreach.models import OutboxMessage
from warmstation.points.models import LedgerTransaction
from warmstation.points.selectors import wallet_of
from warmstation.reports import services
from warmstation.reports.models import Follower, Problem
from warmstation.reports.tests.factories import YLJ, file_report, jpeg

pytestmark = pytest.mark.django_db
S = Problem.Status


def _balance(user) -> int:
    return sum(LedgerTransaction.objects.filter(user=user).values_list("points", flat=True))


def _act(w, problem, action, who="cc", **kw):
    return services.problem_transition(actor=w[who], problem_id=problem.pk, action=action, **kw)


def test_acceptance_pays_the_first_reporter_full_and_confirmers_less_once(w):
    problem = file_report(w)
    services.report_follow(actor=w["worker2"], problem_id=problem.pk, lat=YLJ[0], lng=YLJ[1])
    assert _balance(w["worker"]) == 0  # nothing before acceptance
    _act(w, problem, "accept")
    assert _balance(w["worker"]) == 5 and _balance(w["worker2"]) == 2
    # retries of the award itself (same key) pay nothing more
    services._pay(problem, [Follower(problem=problem, user=w["worker"], kind="reporter")],
                  actor=w["cc"], request=None)
    assert _balance(w["worker"]) == 5
    with pytest.raises(Conflict):
        _act(w, problem, "accept")
    assert _balance(w["worker"]) == 5
    # a late confirmer of a filed problem is paid on confirming, once
    services.report_follow(actor=w["worker3"], problem_id=problem.pk, lat=YLJ[0], lng=YLJ[1])
    services.report_follow(actor=w["worker3"], problem_id=problem.pk, lat=YLJ[0], lng=YLJ[1])
    assert _balance(w["worker3"]) == 2


def test_a_rejected_report_earns_nothing_and_needs_a_standard_reason(w):
    problem = file_report(w)
    with pytest.raises(InvalidInput):
        _act(w, problem, "reject", reason="because")
    _act(w, problem, "reject", reason="split")
    problem.refresh_from_db()
    assert problem.status == S.REJECTED and problem.reject_reason == "split"
    assert _balance(w["worker"]) == 0


def test_the_monthly_cap_holds_and_does_not_block_acceptance(w):
    from warmstation.points.models import EarningRule

    EarningRule.objects.filter(action="street_report_valid").update(monthly_cap=10)
    problems = [file_report(w, at=(YLJ[0] - i * 0.002, YLJ[1]), color=(i * 40, 0, 0))
                for i in range(3)]
    for p in problems:
        _act(w, p, "accept")
    assert _balance(w["worker"]) == 10
    assert all(Problem.objects.get(pk=p.pk).status == S.ACCEPTED for p in problems)
    assert problems[2].events.filter(action="points", public=False).exists()


def test_dispatch_resolve_with_an_after_photo_close(w):
    problem = file_report(w)
    _act(w, problem, "accept")
    _act(w, problem, "dispatch", department=w["sanitation"])
    problem.refresh_from_db()
    assert problem.status == S.DISPATCHED and problem.resolve_due is not None
    with pytest.raises(InvalidInput):
        _act(w, problem, "resolve", who="hw_staff")
    after = services.photo_upload(actor=w["hw_staff"], data=jpeg(color="green"))
    _act(w, problem, "resolve", who="hw_staff", photo_ids=[after.pk])
    assert problem.photos.filter(kind="after").count() == 1
    _act(w, problem, "close")
    problem.refresh_from_db()
    assert problem.status == S.CLOSED
    texts = list(OutboxMessage.objects.filter(recipient=w["worker"].mobile)
                 .values_list("body", flat=True))
    assert any("已立案" in t for t in texts) and any("已处置" in t for t in texts)
    assert sum("已收到" in t for t in texts) == 1  # the reporter, told once it was filed


def test_not_fixed_within_seven_days_reopens_and_after_is_refused(w):
    problem = file_report(w)
    _act(w, problem, "accept", department=w["sanitation"])
    after = services.photo_upload(actor=w["hw_staff"], data=jpeg(color="green"))
    _act(w, problem, "resolve", who="hw_staff", photo_ids=[after.pk])
    with pytest.raises(InvalidInput):
        _act(w, problem, "not_fixed", who="worker")  # a note is needed
    _act(w, problem, "not_fixed", who="worker", note="垃圾还在")
    problem.refresh_from_db()
    assert problem.status == S.DISPATCHED and problem.reopen_count == 1
    after = services.photo_upload(actor=w["hw_staff"], data=jpeg(color="cyan"))
    _act(w, problem, "resolve", who="hw_staff", photo_ids=[after.pk])
    Problem.objects.filter(pk=problem.pk).update(resolved_at=timezone.now() - timedelta(days=8))
    with pytest.raises(Conflict):
        _act(w, problem, "not_fixed", who="worker", note="还在")


def test_capacities_and_scope(w):
    problem = file_report(w)
    with pytest.raises(NotFound):
        _act(w, problem, "accept", who="cc_other")  # the other street's centre
    with pytest.raises(PermissionDenied):
        _act(w, problem, "accept", who="worker")   # the reporter sees it, may not accept
    with pytest.raises(NotFound):
        _act(w, problem, "note", who="hw_staff", note="x")  # not dispatched to them yet


def test_merge_moves_followers_links_both_and_never_pays_twice(w):
    original = file_report(w)
    duplicate = file_report(w, "worker2", color="blue")
    _act(w, original, "accept")
    _act(w, duplicate, "merge", into_id=original.pk)
    duplicate.refresh_from_db()
    assert duplicate.status == S.MERGED and duplicate.merged_into_id == original.pk
    assert list(original.duplicates.all()) == [duplicate]
    kinds = dict(Follower.objects.filter(problem=original).values_list("user_id", "kind"))
    assert kinds == {w["worker"].pk: "reporter", w["worker2"].pk: "confirmer"}
    assert _balance(w["worker"]) == 5 and _balance(w["worker2"]) == 2
    assert original.events.filter(action="merged_in").exists()
    with pytest.raises(Conflict):
        _act(w, original, "merge", into_id=duplicate.pk)


def test_bulk_accept_reports_each_refusal(w):
    a, b = file_report(w), file_report(w, "worker2", color="blue")
    _act(w, b, "reject", reason="unclear")
    result = services.problem_bulk(actor=w["cc"], ids=[a.pk, b.pk, 987654], action="accept")
    assert result["done"] == [a.pk] and [f["id"] for f in result["failed"]] == [b.pk, 987654]


def test_wallet_shows_the_award(w):
    problem = file_report(w)
    _act(w, problem, "accept")
    assert wallet_of(w["worker"])["balance"] == 5
