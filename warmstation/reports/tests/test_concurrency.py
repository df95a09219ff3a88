"""Real concurrency on PostgreSQL: 20 acceptances of the same problem at once pay each follower
exactly once; 20 confirmations by the same worker make one follower; the same offline key sent
20 times makes one report."""

import pytest
from django.db import connection

from warmstation.points.models import LedgerTransaction
from warmstation.points.selectors import ledger_breaches
from warmstation.points.tests.test_concurrency import run_concurrently
from warmstation.reports import services
from warmstation.reports.models import Follower, Problem
from warmstation.reports.tests.factories import YLJ, file_report, jpeg, make_report_world

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency: PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_twenty_concurrent_acceptances_pay_once(tree):
    w = make_report_world(tree)
    problem = file_report(w)
    services.report_follow(actor=w["worker2"], problem_id=problem.pk, lat=YLJ[0], lng=YLJ[1])
    centres = [w["cc"], w["district"]]

    results = run_concurrently(20, lambda i: services.problem_transition(
        actor=centres[i % 2], problem_id=problem.pk, action="accept").pk)
    assert sum(r[0] == "ok" for r in results) == 1
    assert {r[1] for r in results if r[0] == "error"} == {"invalid_transition"}
    paid = LedgerTransaction.objects.filter(source_ref=f"reports.problem:{problem.pk}")
    assert sorted(paid.values_list("user_id", "points")) == sorted(
        [(w["worker"].pk, 5), (w["worker2"].pk, 2)])
    assert ledger_breaches() == []


def test_twenty_concurrent_confirmations_and_resends(tree):
    w = make_report_world(tree)
    problem = file_report(w)
    services.problem_transition(actor=w["cc"], problem_id=problem.pk, action="accept")
    results = run_concurrently(20, lambda i: services.report_follow(
        actor=w["worker2"], problem_id=problem.pk, lat=YLJ[0], lng=YLJ[1]).pk)
    assert all(r[0] == "ok" for r in results)
    assert Follower.objects.filter(problem=problem, user=w["worker2"]).count() == 1
    assert LedgerTransaction.objects.filter(user=w["worker2"]).count() == 1

    photos = [services.photo_upload(actor=w["worker3"], data=jpeg(color=(i, 1, 1))).pk
              for i in range(20)]
    results = run_concurrently(20, lambda i: services.report_create(
        actor=w["worker3"], category=w["garbage"], lat=YLJ[0], lng=YLJ[1],
        photo_ids=[photos[i]], client_key="offline-xyz")[0].pk)
    assert all(r[0] == "ok" for r in results)
    assert len({r[1] for r in results}) == 1
    assert Problem.objects.filter(reporter=w["worker3"]).count() == 1
