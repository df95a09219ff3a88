"""One way to find a worker by mobile: normalised like the sign-in, active and registered; an
unknown mobile typed in a form or a body is the input's fault (422, field mobile), one in a path
is a missing resource (404)."""

import pytest

from tests.factories import make_user, make_worker
from warmstation.accounts.models import Role
from warmstation.accounts.selectors import worker_by_mobile
from warmstation.core.errors import InvalidInput, NotFound


def test_finds_the_registered_worker_whatever_the_spacing(tree):
    worker = make_worker([tree["ylj"]], mobile="13612345678")
    assert worker_by_mobile("136 1234 5678") == worker
    assert worker_by_mobile("+8613612345678") == worker


@pytest.mark.parametrize("mobile", ["13999999999", "12", ""])
def test_unknown_or_malformed_is_invalid_input_on_the_mobile_field(tree, mobile):
    with pytest.raises(InvalidInput) as err:
        worker_by_mobile(mobile)
    assert err.value.status == 422 and err.value.field == "mobile"


def test_staff_and_closed_accounts_are_not_workers(tree):
    make_user(Role.STEWARD, tree["ylj"], mobile="13612340002")
    closed = make_worker([tree["ylj"]], mobile="13612340003")
    closed.is_active = False
    closed.save()
    for mobile in ("13612340002", "13612340003"):
        with pytest.raises(InvalidInput):
            worker_by_mobile(mobile)
        with pytest.raises(NotFound):
            worker_by_mobile(mobile, in_path=True)
