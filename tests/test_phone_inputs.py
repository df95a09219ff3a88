"""One phone check (core.inputs.normalise_phone) wherever a number is typed: the pages, the API
and the Django admin refuse "abc-不是电话" alike, and accept a landline with its area code and
extension, a mobile and a 12345-style short number."""

import pytest
from django.core.exceptions import ValidationError

from tests.factories import make_user, signed_in
from warmstation.accounts.models import Role
from warmstation.areas.models import AreaContact
from warmstation.benefits.models import Merchant
from warmstation.core.errors import InvalidInput
from warmstation.core.inputs import normalise_phone, validate_phone
from warmstation.stations.models import Station

GOOD = ["010-69300001", "010-69300001 转 123", "(010) 6930 0001", "13800000000", "12345",
        "400-123-4567", "+86 10 6930 0001"]
BAD = ["abc-不是电话", "12", "9999-12-31", "010-6930000１２３４５６７８", "电话"]


@pytest.mark.parametrize("phone", GOOD)
def test_accepted(phone):
    normalise_phone(phone)
    validate_phone(phone)


@pytest.mark.parametrize("phone", BAD)
def test_refused(phone):
    with pytest.raises(InvalidInput):
        normalise_phone(phone)
    with pytest.raises(ValidationError):
        validate_phone(phone)


def test_model_fields_check_it_so_the_admin_does(tree):
    for model in (AreaContact, Merchant, Station):
        field = model._meta.get_field("phone")
        with pytest.raises(ValidationError):
            field.clean("abc-不是电话", None)


def test_the_admin_refuses_a_bad_contact_phone(tree):
    client = signed_in(make_user(Role.DISTRICT_ADMIN, tree["district"]))
    contact = AreaContact.objects.get(name="拱辰派出所")
    response = client.post(f"/admin/areas/areacontact/{contact.pk}/change/", {
        "area": contact.area_id, "kind": contact.kind, "name": contact.name,
        "phone": "abc-不是电话", "address": "", "hours": ""})
    if response.status_code == 404:  # contacts are edited inline on their area
        area = contact.area
        prefix = "contacts"
        data = {"code": area.code, "name_zh": area.name_zh, "name_en": area.name_en,
                "level": area.level, "parent": area.parent_id or "",
                f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-INITIAL_FORMS": "1",
                f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000",
                f"{prefix}-0-id": contact.pk, f"{prefix}-0-area": area.pk,
                f"{prefix}-0-kind": contact.kind, f"{prefix}-0-name": contact.name,
                f"{prefix}-0-phone": "abc-不是电话"}
        response = client.post(f"/admin/areas/area/{area.pk}/change/", data)
    assert response.status_code == 200  # the form again, not a redirect
    assert "请输入正确的电话号码" in response.content.decode()
    contact.refresh_from_db()
    assert contact.phone == "010-69300010"


def test_the_api_refuses_a_bad_merchant_phone(tree):
    from tests.factories import make_merchant

    merchant = make_merchant(tree["xl"])
    assert merchant.phone == "010-69300099"
    from warmstation.benefits import services

    with pytest.raises(InvalidInput):
        services.merchant_save(actor=None, merchant=merchant, phone="abc-不是电话")
