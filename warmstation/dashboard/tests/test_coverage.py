"""Coverage gaps and the greedy ranking on cells laid out by hand (h3 resolution 8, cells
≈ 920 m apart), with one 24-hour station and one daytime station that is closed now.

    A: the 24-hour station's cell, 6 reporters          → covered within 1000 m
    B: 3 km east, 7 reporters; C: B's neighbour, 5      → one candidate at B or C covers both (12)
    D: 8 km north, 6 reporters, beside the daytime station → covered only when "any station" counts
"""

from __future__ import annotations

import h3
import pytest

from tests.factories import (
    as_level,
    build_area_tree,
    make_station,
    make_user,
    make_worker,
    once_per_module,
    signed_in,
)
from warmstation.accounts.models import Role
from warmstation.core import geo
from warmstation.dashboard import coverage
from warmstation.reports import services as report_services
from warmstation.reports.models import Problem, ReportCategory

A = h3.latlng_to_cell(39.7482, 116.1400, coverage.RESOLUTION)
B = h3.latlng_to_cell(39.7482, 116.1750, coverage.RESOLUTION)
C = sorted(h3.grid_ring(B, 1))[0]
D = h3.latlng_to_cell(39.8200, 116.1400, coverage.RESOLUTION)


def _report(area, cell: str, reporter) -> None:
    lat, lng = h3.cell_to_latlng(cell)
    cell_s, cell_l = geo.cells_of(lat, lng)
    Problem.objects.create(
        category=ReportCategory.objects.order_by("pk").first(),
        area=area,
        lat=lat,
        lng=lng,
        cell_s=cell_s,
        cell_l=cell_l,
        reporter=reporter,
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with once_per_module(django_db_blocker):
        tree = build_area_tree()
        report_services.report_categories_seed()
        workers = [make_worker([tree["ylj"]]) for _ in range(7)]
        for cell, n in ((A, 6), (B, 7), (C, 5), (D, 6)):
            for w in workers[:n]:
                _report(tree["ylj"], cell, w)
        make_station(tree["ylj"], *h3.cell_to_latlng(A), name="全天驿站", is_24h=True)
        make_station(tree["ylj"], *h3.cell_to_latlng(D), name="白天驿站")  # no hours: closed
        yield {
            "tree": tree,
            "district": as_level(make_user(Role.DISTRICT_ADMIN, tree["district"])),
            "xl_admin": as_level(make_user(Role.AREA_ADMIN, tree["xl"])),
        }


def _run(**kw):
    return coverage.analyse(paths=["/110111/"], signals=("reports",), **kw)


def test_the_cells_are_laid_out_as_the_docstring_says():
    def apart(a, b):
        return geo.distance_m(*h3.cell_to_latlng(a), *h3.cell_to_latlng(b))

    assert apart(B, C) < 1000 < apart(A, B) - 1000
    assert apart(A, D) > 5000 and apart(B, D) > 5000


@pytest.mark.django_db
def test_gaps_and_the_greedy_ranking_match_the_hand_count(world):
    result = _run(distance_m=1000, mode="open_now")
    assert result.demand == {A: 6, B: 7, C: 5, D: 6}
    assert result.covered == {A}
    assert [(c.new_workers, c.cumulative) for c in result.candidates] == [(12, 12), (6, 18)]
    assert result.candidates[0].cell in (B, C)
    assert result.candidates[1].cell == D


@pytest.mark.django_db
def test_which_stations_count_changes_the_gaps(world):
    assert _run(mode="any").covered == {A, D}
    assert _run(mode="h24").covered == {A}
    wide = _run(distance_m=5000, mode="h24")
    assert {B, C} <= wide.covered and D not in wide.covered


@pytest.mark.django_db
def test_an_area_admin_sees_only_the_workers_of_their_area(world):
    assert coverage.analyse(paths=["/110111/XL/"], signals=("reports",)).demand == {}


@pytest.mark.django_db
def test_the_page_and_its_export(world):
    client = signed_in(world["district"])
    page = client.get("/district/coverage/?signal=reports&distance=1000")
    assert page.status_code == 200
    assert 'data-kpi="uncovered">18' in page.content.decode()
    csv = client.get("/district/coverage/export/?signal=reports&distance=1000&format=csv")
    lines = csv.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 3 and lines[1].split(",")[5:7] == ["12", "12"]
    assert signed_in(world["xl_admin"]).get("/district/coverage/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "distance=abc",
        "distance=99999999999999999999",
        "mode=nope",
        "signal=x",
        "n=0",
        "n=1e9",
        "distance=-5",
    ],
)
def test_bad_parameters_are_said_in_both_languages_never_a_500(world, query):
    client = signed_in(world["district"])
    body = client.get(f"/district/coverage/?{query}").content.decode()
    assert 'class="flash error"' in body
    client.cookies["django_language"] = "en"
    english = client.get(f"/district/coverage/?{query}", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 200 and 'class="flash error"' in english.content.decode()
