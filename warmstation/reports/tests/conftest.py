import pytest

from warmstation.reports.tests.factories import make_report_world


@pytest.fixture
def w(tree):
    return make_report_world(tree)
