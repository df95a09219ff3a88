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
