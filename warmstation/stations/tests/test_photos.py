"""Station photos: re-encoded, EXIF (GPS) stripped, bad files refused, scoped."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from tests.factories import make_station, make_user, signed_in
from warmstation.accounts.models import AuthLevel, Role
from warmstation.stations.models import StationPhoto


def jpeg_with_gps(width=2400, height=1200) -> bytes:
    img = Image.new("RGB", (width, height), (200, 80, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° to show upright
    exif[0x8825] = {2: (39.0, 44.0, 51.0), 1: "N", 4: (116.0, 8.0, 13.0), 3: "E"}  # GPS
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def station(tree):
    return make_station(tree["ylj"], 39.748, 116.14,
                        steward=make_user(Role.STEWARD, tree["ylj"]))


def upload(client, station, data, name="p.jpg"):
    return client.post(f"/api/v1/stations/{station.pk}/photos",
                       {"image": SimpleUploadedFile(name, data, "image/jpeg"),
                        "caption": "门口"})


def test_photo_is_reencoded_without_metadata(station):
    client = signed_in(station.steward, AuthLevel.PASSWORD)
    response = upload(client, station, jpeg_with_gps())
    assert response.status_code == 201, response.content
    photo = StationPhoto.objects.get()
    with Image.open(photo.image.path) as img:
        assert img.format == "JPEG"
        assert not img.getexif()            # no EXIF at all, so no GPS
        assert img.size == (800, 1600)      # turned upright, then fitted in 1600 px
    with Image.open(photo.thumbnail.path) as thumb:
        assert max(thumb.size) == 360
    card = Client().get(f"/api/v1/stations/{station.pk}").json()
    assert card["photos"][0]["caption"] == "门口"
    assert Client().get(card["photos"][0]["thumb_url"]).status_code == 200


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"GIF89a" + b"\x00" * 20])
def test_bad_files_are_refused_and_nothing_is_kept(station, data):
    client = signed_in(station.steward, AuthLevel.PASSWORD)
    response = upload(client, station, data)
    assert response.status_code == 422
    assert response.json()["detail"]["en"].startswith("Upload a JPEG")
    assert not StationPhoto.objects.exists()


def test_other_steward_cannot_add_or_delete(station, tree):
    own = signed_in(station.steward, AuthLevel.PASSWORD)
    assert upload(own, station, jpeg_with_gps(40, 30)).status_code == 201
    photo = StationPhoto.objects.get()
    other = signed_in(make_user(Role.STEWARD, tree["sz"]), AuthLevel.PASSWORD)
    assert upload(other, station, jpeg_with_gps(40, 30)).status_code == 404
    assert other.delete(f"/api/v1/stations/{station.pk}/photos/{photo.pk}").status_code == 404
    assert own.delete(f"/api/v1/stations/{station.pk}/photos/{photo.pk}").status_code == 204
    assert not StationPhoto.objects.exists()
