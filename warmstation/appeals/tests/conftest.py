import pytest

from tests.factories import make_appeal_setup


@pytest.fixture
def s(tree):
    return {**tree, "root": tree["district"], **make_appeal_setup(tree)}
