"""The roll-up to parent areas is done by the database (one grouped INSERT … SELECT over the
area paths): on the demo's area tree and data it gives exactly the figures that summing each
source row into its area's ancestors in Python gives."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import once_per_module
from warmstation.areas.models import Area
from warmstation.dashboard import rollups
from warmstation.dashboard.models import Figure
from warmstation.demo.seed import seed_demo

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with once_per_module(django_db_blocker):
        # a short history, so that weeks and months before this one have figures too
        yield seed_demo(workers=40, history=True, history_scale=0.002)


def _in_python(since: dict) -> dict[tuple, tuple[int, int]]:
    """The reference: each leaf row added to its area and every area above it, in Python (the
    way rollups.py did it before)."""
    rows = list(Area.objects.values_list("pk", "path"))
    by_path = {path: pk for pk, path in rows}
    ancestors: dict[int, list[int]] = {}
    for pk, path in rows:
        parts = [p for p in path.split("/") if p]
        ancestors[pk] = [
            by_path[p]
            for p in ("/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts)))
            if p in by_path
        ]
    acc: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for area, grain, period, metric, dim, value, n in rollups.leaf_rows(since):
        for a in ancestors[area]:
            cell = acc[(a, grain, period, metric, dim)]
            cell[0] += value
            cell[1] += n
    return {k: (v, n) for k, (v, n) in acc.items()}


def _stored() -> dict[tuple, tuple[int, int]]:
    return {
        (f.area_id, f.grain, f.period, f.metric, f.dim): (f.value, f.n)
        for f in Figure.objects.all()
    }


def test_the_sql_roll_up_equals_the_python_sums_on_the_demo_tree(demo):
    today = timezone.localdate()
    written = rollups.figures_rebuild(today=today)
    since = {
        Figure.Grain.WEEK: today - timedelta(days=today.weekday(), weeks=rollups.WEEKS_KEPT),
        Figure.Grain.MONTH: None,
    }
    expected = _in_python(since)
    stored = _stored()
    assert written == len(stored) == len(expected)
    assert stored == expected
    # the demo has depth: figures at the district, its streets and their communities
    depths = set(Area.objects.filter(pk__in={k[0] for k in stored}).values_list("depth", flat=True))
    assert {0, 1, 2} <= depths
    assert len({k[2] for k in stored if k[1] == Figure.Grain.MONTH}) > 1  # several months
    # the root's total of a metric is the sum of its streets' (each worker has one home area)
    root = Area.objects.get(parent__isnull=True)
    streets = list(Area.objects.filter(parent=root).values_list("pk", flat=True))
    for (a, g, p, m, d), (value, _n) in stored.items():
        if a == root.pk and m == "visits" and d == "":
            below = sum(stored.get((s, g, p, m, d), (0, 0))[0] for s in streets)
            own = expected[(a, g, p, m, d)][0]
            assert below <= own == value


def test_a_refresh_rolls_up_the_open_periods_the_same_way(demo):
    today = timezone.localdate()
    rollups.figures_rebuild(today=today)
    before = _stored()
    rollups.figures_refresh(today=today)
    since = {g: rollups.window_start(g, today) for g in rollups.GRAINS}
    expected = _in_python(since)
    after = _stored()
    assert {k: v for k, v in after.items() if k in expected} == expected
    # the periods outside the window are untouched
    assert {k: v for k, v in after.items() if k[2] < since[k[1]]} == {
        k: v for k, v in before.items() if k[2] < since[k[1]]
    }
