import pytest

from tests.factories import as_level, make_user, make_worker
from warmstation.accounts.models import AuthLevel, Role
from warmstation.areas.models import Area
from warmstation.areas.scoping import access_area_by_id, managed_area_list, scope_queryset
from warmstation.core.errors import NotFound


def test_area_admin_covers_own_area_and_below(tree):
    admin = as_level(make_user(Role.AREA_ADMIN, tree["gc"]))
    codes = set(managed_area_list(admin).values_list("code", flat=True))
    assert codes == {"GC", "YLJ"}


def test_district_admin_covers_everything(tree):
    admin = as_level(make_user(Role.DISTRICT_ADMIN, tree["district"]))
    assert managed_area_list(admin).count() == Area.objects.count()


def test_admin_signed_in_without_totp_covers_nothing(tree):
    admin = as_level(make_user(Role.DISTRICT_ADMIN, tree["district"]), AuthLevel.PASSWORD)
    assert managed_area_list(admin).count() == 0


def test_out_of_scope_area_looks_missing(tree):
    admin = as_level(make_user(Role.AREA_ADMIN, tree["gc"]))
    assert access_area_by_id(admin, tree["ylj"].pk, for_change=True) == tree["ylj"]
    with pytest.raises(NotFound):
        access_area_by_id(admin, tree["sz"].pk, for_change=True)
    with pytest.raises(NotFound):
        access_area_by_id(admin, 999999, for_change=True)


def test_scope_queryset_through_a_relation(tree):
    from warmstation.accounts.models import WorkerProfile

    in_gc = make_worker([tree["ylj"]])
    make_worker([tree["sz"]])
    admin = as_level(make_user(Role.AREA_ADMIN, tree["gc"]))
    got = scope_queryset(WorkerProfile.objects.all(), admin, field="areas")
    assert [p.user for p in got] == [in_gc]


def test_nested_grants_do_not_duplicate_rows(tree):
    admin = make_user(Role.AREA_ADMIN, tree["gc"])
    from warmstation.accounts.models import RoleGrant

    RoleGrant.objects.create(user=admin, role=Role.AREA_ADMIN, area=tree["ylj"])
    as_level(admin)
    assert sorted(managed_area_list(admin).values_list("code", flat=True)) == ["GC", "YLJ"]
