import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from tests.factories import make_user, signed_in
from warmstation.accounts.models import AuthLevel, Role
from warmstation.core.audit import audit_record
from warmstation.core.masking import mask_id_number, mask_mobile, mask_name
from warmstation.core.models import AuditEvent


def test_healthz_answers_when_the_database_does(db):
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_openapi_and_docs_are_published(db):
    client = Client()
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/areas/{code}" in schema["paths"]
    assert "422" in schema["paths"]["/api/v1/areas/{code}/contacts"]["post"]["responses"]
    assert client.get("/api/v1/docs").status_code == 200


def test_api_404_is_problem_json_in_both_languages(tree):
    user = make_user(Role.STEWARD, tree["gc"])
    response = signed_in(user, AuthLevel.PASSWORD).get("/api/v1/areas/NOPE")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == {"zh": "未找到该记录。", "en": "Not found."}


def test_json_keeps_chinese_readable(tree):
    user = make_user(Role.STEWARD, tree["gc"])
    body = signed_in(user, AuthLevel.PASSWORD).get("/api/v1/areas/GC").content.decode()
    assert "拱辰街道" in body and "\\u" not in body


def test_audit_rows_cannot_be_updated(db):
    event = audit_record("test.event", actor_label="x")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET action = 'forged' WHERE id = %s",
                       [event.pk])
    event.refresh_from_db()
    assert event.action == "test.event"


def test_audit_rows_cannot_be_deleted(db):
    event = audit_record("test.event", actor_label="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_masks():
    assert mask_mobile("13812341234") == "138****1234"
    assert mask_id_number("110111199001011234") == "110111********1234"
    assert mask_name("张三丰") == "张**"
    assert mask_mobile("") == ""


@pytest.mark.parametrize("who, level, status", [
    ("district", AuthLevel.MFA, 200),
    ("district", AuthLevel.PASSWORD, 302),   # must finish TOTP first
    ("area", AuthLevel.MFA, 403),
    ("steward", AuthLevel.PASSWORD, 403),
])
def test_audit_search_page_is_for_district_admins(tree, who, level, status):
    role, area = {"district": (Role.DISTRICT_ADMIN, tree["district"]),
                  "area": (Role.AREA_ADMIN, tree["gc"]),
                  "steward": (Role.STEWARD, tree["ylj"])}[who]
    user = make_user(role, area)
    audit_record("auth.login", actor=user, detail={"method": "password"})
    response = signed_in(user, level).get("/audit/", {"action": "auth."})
    assert response.status_code == status
    if status == 200:
        assert "auth.login" in response.content.decode()
    if status == 403:
        assert AuditEvent.objects.filter(action="access.denied", actor=user).exists()


def test_audit_search_filters(tree):
    admin = make_user(Role.DISTRICT_ADMIN, tree["district"])
    audit_record("privacy.reveal", actor=admin, object_type="accounts.user", object_id=7)
    audit_record("auth.login", actor_label="139****0000", result="failed")
    client = signed_in(admin)
    page = client.get("/audit/", {"result": "failed"}).content.decode()
    assert "139****0000" in page and "<td>privacy.reveal</td>" not in page
    page = client.get("/audit/", {"object_type": "accounts.user", "object_id": "7"}).content.decode()
    assert "<td>privacy.reveal</td>" in page and "139****0000" not in page
    partial = client.get("/audit/", {"result": "failed"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.content.decode()


@pytest.mark.parametrize("who, level, status", [
    ("district", AuthLevel.MFA, 200),
    ("district", AuthLevel.PASSWORD, 302),
    ("area", AuthLevel.MFA, 302),
    ("anonymous", None, 302),
])
def test_django_admin_is_for_district_admins_with_totp(tree, who, level, status):
    if who == "anonymous":
        client = Client()
    else:
        role, area = ((Role.DISTRICT_ADMIN, tree["district"]) if who == "district"
                      else (Role.AREA_ADMIN, tree["gc"]))
        client = signed_in(make_user(role, area), level)
    response = client.get("/admin/")
    assert response.status_code == status
    if status == 302:
        # The admin's own sign-in page hands over to the staff sign-in (password + TOTP).
        response = client.get(response["Location"])
        assert response.status_code == 302 and "/staff/login/" in response["Location"]
    else:
        assert client.get("/admin/accounts/user/").status_code == 200
        assert client.get("/admin/outreach/outboxmessage/").status_code == 200


def test_every_admin_page_opens_for_a_district_admin(tree):
    from django.contrib import admin

    client = signed_in(make_user(Role.DISTRICT_ADMIN, tree["district"]))
    for model in admin.site._registry:
        meta = model._meta
        response = client.get(f"/admin/{meta.app_label}/{meta.model_name}/")
        assert response.status_code == 200, meta.label


def test_a_closed_account_is_shown_as_closed_not_as_a_masked_placeholder():
    from django.utils import translation

    from warmstation.core.masking import mask_mobile

    with translation.override("zh-hans"):
        assert mask_mobile("closed-12") == "已注销"
    with translation.override("en"):
        assert mask_mobile("closed-12") == "Closed account"
    assert mask_mobile("13800000001") == "138****0001"
