"""Two verified workers take the same errand at once on PostgreSQL: one wins."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.factories import make_worker
from warmstation.volunteering import errands
from warmstation.volunteering.models import Errand
from warmstation.volunteering.tests.factories import make_organiser
from warmstation.volunteering.tests.test_concurrency import run_concurrently

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency: PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def test_of_eight_workers_taking_one_errand_one_wins(tree):
    from tests.factories import as_level
    from warmstation.accounts.models import AuthLevel

    staff = make_organiser(tree["gc"])
    workers = [as_level(make_worker([tree["ylj"]]), AuthLevel.CODE) for _ in range(8)]
    for x in workers:
        errands.errand_worker_verify(actor=staff, worker=x)
    e = errands.errand_post(actor=staff, area=tree["ylj"], title="买菜", resident_name="王奶奶",
                            resident_address="3号楼")
    results = run_concurrently(8, lambda i: errands.errand_take(worker=workers[i], errand=e).pk)
    assert sorted(r[0] for r in results) == ["error"] * 7 + ["ok"]
    assert {r[1] for r in results if r[0] == "error"} == {"already_taken"}
    assert Errand.objects.get(pk=e.pk).taker in workers
