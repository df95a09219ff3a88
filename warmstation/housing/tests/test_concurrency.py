"""Twenty overlapping bookings at once: exactly the non-overlapping ones succeed, on PostgreSQL
and on SQLite. Threads, each with its own connection; nothing is mocked.

Five two-night slots touching each other (each slot's check-out day is the next one's check-in
day), four workers racing for each slot with the same dates: exactly one per slot wins, the
other fifteen are refused naming the taken nights, and no night is held twice."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import OperationalError, connections
from django.utils import timezone

from tests.factories import make_worker
from warmstation.core.errors import ApplicationError
from warmstation.housing import services
from warmstation.housing.models import Booking, FlatNight
from warmstation.housing.tests.factories import FAMILY, make_flat

pytestmark = pytest.mark.django_db(transaction=True)

SLOTS, RACERS = 5, 4


def _race(n, fn):
    barrier = threading.Barrier(n)
    results = [None] * n

    def target(i):
        try:
            barrier.wait()
            for _attempt in range(2000):
                try:
                    results[i] = ("ok", fn(i).pk)
                    break
                except OperationalError as exc:
                    # SQLite's shared-cache test database answers "database table is locked"
                    # at once instead of waiting: wait a little and try again, as a client
                    # would. PostgreSQL waits on the lock itself and never gets here.
                    if "locked" not in str(exc):
                        raise
                    time.sleep(0.005)
        except ApplicationError as exc:
            results[i] = ("error", exc.code, exc.extra.get("taken_nights"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_twenty_concurrent_overlapping_bookings_exactly_the_non_overlapping_succeed(tree):
    flat = make_flat(tree["gc"])
    workers = [make_worker([tree["ylj"]]) for _ in range(SLOTS * RACERS)]
    start = timezone.localdate() + timedelta(days=10)

    def slot(i):
        return start + timedelta(days=2 * (i % SLOTS))

    results = _race(SLOTS * RACERS, lambda i: services.booking_create(
        worker=workers[i], flat=flat, check_in=slot(i), check_out=slot(i) + timedelta(days=2),
        visitors=FAMILY))

    assert None not in results, results
    won = [i for i, r in enumerate(results) if r[0] == "ok"]
    assert len(won) == SLOTS, results
    assert sorted(slot(i) for i in won) == [slot(k) for k in range(SLOTS)]  # one per slot
    for i, r in enumerate(results):
        if r[0] == "error":
            assert r[1] == "nights_taken"
            assert r[2] == [slot(i).isoformat(), (slot(i) + timedelta(days=1)).isoformat()]
    assert Booking.objects.count() == SLOTS
    nights = list(FlatNight.objects.order_by("night").values_list("night", flat=True))
    assert nights == [start + timedelta(days=d) for d in range(2 * SLOTS)]  # none held twice
