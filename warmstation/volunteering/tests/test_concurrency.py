"""Real concurrency on PostgreSQL: threads, each with its own connection."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from tests.factories import make_worker
from warmstation.core.errors import ApplicationError
from warmstation.points.models import LedgerTransaction
from warmstation.points.tests.factories import make_rule
from warmstation.volunteering import services
from warmstation.volunteering.models import Shift, Signup
from warmstation.volunteering.tests.factories import make_organiser, make_shift, make_task

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency: PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def run_concurrently(n, fn):
    barrier = threading.Barrier(n)
    results = [None] * n

    def target(i):
        try:
            barrier.wait()
            results[i] = ("ok", fn(i))
        except ApplicationError as exc:
            results[i] = ("error", exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_thirty_concurrent_sign_ups_never_exceed_the_capacity(tree):
    task = make_task(tree["ylj"])
    shift = make_shift(task, capacity=10)
    workers = [make_worker([tree["ylj"]]) for _ in range(30)]
    results = run_concurrently(30, lambda i: services.shift_signup(
        worker=workers[i], shift_id=shift.pk).status)
    statuses = [r[1] for r in results]
    assert statuses.count("placed") == 10 and statuses.count("waitlist") == 20
    assert Shift.objects.get(pk=shift.pk).placed == 10
    assert Signup.objects.filter(shift=shift, status="placed").count() == 10
    # the waitlist is in a strict order: each has its own moment or at least its own id
    assert Signup.objects.filter(shift=shift, status="waitlist").count() == 20


def test_concurrent_cancellations_promote_exactly_as_many_as_they_free(tree):
    task = make_task(tree["ylj"])
    shift = make_shift(task, capacity=5)
    workers = [make_worker([tree["ylj"]]) for _ in range(10)]
    signups = [services.shift_signup(worker=x, shift_id=shift.pk) for x in workers]
    placed = [s for s in signups if s.status == "placed"]
    run_concurrently(5, lambda i: services.signup_cancel(actor=placed[i].worker,
                                                         signup_id=placed[i].pk).status)
    assert Shift.objects.get(pk=shift.pk).placed == 5
    assert Signup.objects.filter(shift=shift, status="placed").count() == 5
    assert Signup.objects.filter(shift=shift, status="waitlist").count() == 0


def test_raced_confirmations_pay_once(tree):
    make_rule("volunteer_shift", 20)
    organiser = make_organiser(tree["gc"])
    task = make_task(tree["ylj"], organiser=organiser)
    start = timezone.now() - timedelta(hours=3)
    shift = make_shift(task, starts_at=start, hours=2)
    worker = make_worker([tree["ylj"]])
    s = services.shift_signup(worker=worker, shift_id=shift.pk, now=start - timedelta(days=1))
    services.attendance_mark(actor=organiser, signup=s, action="check_in",
                             now=start + timedelta(minutes=1))
    services.attendance_mark(actor=organiser, signup=s, action="check_out",
                             now=start + timedelta(hours=1))
    results = run_concurrently(8, lambda i: services.attendance_confirm(actor=organiser,
                                                                        signup=s).points)
    assert [r[1] for r in results] == [20] * 8
    assert LedgerTransaction.objects.filter(user=worker, action="volunteer_shift").count() == 1
