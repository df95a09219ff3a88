"""Upload abuse over HTTP, at every place that takes a file (issue 18 item 5): a script or HTML
renamed .jpg, an SVG with a script, an oversized file, a truncated JPEG and a decompression
bomb, sent to the station-photo and report-photo APIs and the need form's photos. Each is
refused with a 4xx (never a 5xx), and nothing is stored: no row, no file under MEDIA_ROOT."""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import (
    as_level,
    build_area_tree,
    make_appeal_setup,
    make_station,
    make_user,
    signed_in,
)
from warmstation.accounts.models import AuthLevel, Role
from warmstation.reports.tests.test_images import ABUSE, _bomb

PAYLOADS = {**ABUSE, "a decompression bomb": None}


def _bytes(name: str) -> bytes:
    return _bomb() if PAYLOADS[name] is None else PAYLOADS[name]


def _nothing_stored() -> None:
    media = settings.MEDIA_ROOT
    stored = [p for p in media.rglob("*") if p.is_file()] if media.exists() else []
    assert not stored, stored


@pytest.fixture
def world(db):
    tree = build_area_tree()
    people = make_appeal_setup(tree)
    steward = as_level(make_user(Role.STEWARD, tree["gc"]), AuthLevel.PASSWORD)
    station = make_station(tree["ylj"], 39.7207, 116.1101, steward=steward)
    return {"tree": tree, **people, "steward": steward, "station": station}


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_every_upload_refuses_abuse_and_stores_nothing(world, name):
    from warmstation.appeals.models import Appeal, AppealAttachment
    from warmstation.reports.models import Photo
    from warmstation.stations.models import StationPhoto

    data = _bytes(name)

    def upload() -> SimpleUploadedFile:
        return SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg")

    steward = signed_in(world["steward"], AuthLevel.PASSWORD)
    station = steward.post(f"/api/v1/stations/{world['station'].pk}/photos",
                           {"image": upload()})
    worker = signed_in(world["worker"], AuthLevel.CODE)
    report = worker.post("/api/v1/reports/photos", {"image": upload()})
    page = worker.get("/appeals/new/")
    assert page.status_code == 200
    need = worker.post("/appeals/new/", {"category": "housing", "area": world["tree"]["ylj"].code,
                                         "title": "短租", "body": "需要短租一间房。",
                                         "photos": upload()})
    for answer in (station, report, need):
        assert 400 <= answer.status_code < 500, (answer.status_code, answer.content[:300])
    assert not StationPhoto.objects.exists()
    assert not Photo.objects.exists()
    assert not Appeal.objects.exists() and not AppealAttachment.objects.exists()
    _nothing_stored()
