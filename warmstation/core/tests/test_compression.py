"""Responses are compressed and static files hashed with a long cache: pages and JSON gzip (with
Django's BREACH padding), static files brotli or gzip from whitenoise, names hashed and
immutable; images are not compressed again."""

from django.templatetags.static import static
from django.test import Client


def test_pages_and_json_are_gzipped_when_asked(db):
    page = Client().get("/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert page["Content-Encoding"] == "gzip" and "Accept-Encoding" in page["Vary"]
    api = Client().get("/api/v1/openapi.json", HTTP_ACCEPT_ENCODING="gzip")
    assert api["Content-Encoding"] == "gzip"
    plain = Client().get("/")
    assert not plain.has_header("Content-Encoding")


def test_static_files_are_hashed_compressed_and_cached_for_a_year(db):
    url = static("css/app.css")
    assert url != "/static/css/app.css" and url.endswith(".css")  # app.<hash>.css
    response = Client().get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response.status_code == 200 and response["Content-Encoding"] == "br"
    assert "immutable" in response["Cache-Control"] and "max-age=315360000" in \
        response["Cache-Control"]
    page = Client().get("/").content.decode()
    assert f'href="{url}"' in page


def test_audit_actions_read_as_words_in_both_languages(db):
    from django.utils import translation

    from warmstation.core.audit_labels import action_label
    from warmstation.core.models import AuditEvent

    with translation.override("zh-hans"):
        assert action_label("redemption.redeem") == "核销码 · 核销"
    with translation.override("en"):
        assert action_label("redemption.redeem") == "Redemption code · Redeem"
        assert action_label("appeal.dispatch") == "Needs · Assign"  # the catalogue's words
    assert action_label("something.unknown") == "something.unknown"
    event = AuditEvent(action="station.status", detail={"closed": True, "note": "停电"})
    assert event.detail_text == "closed: true; note: 停电"
