"""The photo pipeline (core/images.py) as reports use it: every metadata field gone, upright,
at most 2048 px, HEIC read; abuse refused in both languages with nothing stored."""

import io

import pytest
from django.conf import settings
from PIL import Image, TiffImagePlugin

from warmstation.core.errors import InvalidInput
from warmstation.core.images import reencode_image
from warmstation.reports import services
from warmstation.reports.models import Photo
from warmstation.reports.tests.factories import jpeg

pytestmark = pytest.mark.django_db


def _phone_jpeg(size=(4032, 3024), orientation=6) -> bytes:
    """A photo as a phone writes it: EXIF with GPS and the camera, an orientation, an ICC
    profile, a comment, XMP."""
    img = Image.new("RGB", size, "white")
    img.paste((200, 30, 30), (0, 0, size[0] // 4, size[1] // 4))  # a red corner
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Model X"
    gps = {1: "N", 2: (TiffImagePlugin.IFDRational(39), TiffImagePlugin.IFDRational(44),
                       TiffImagePlugin.IFDRational(30)), 3: "E",
           4: (TiffImagePlugin.IFDRational(116), TiffImagePlugin.IFDRational(8),
               TiffImagePlugin.IFDRational(0))}
    exif[0x8825] = gps
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90, exif=exif.tobytes(), icc_profile=icc,
             comment=b"home: Fangshan Road 1", xmp=b"<x:xmpmeta>secret</x:xmpmeta>")
    return buf.getvalue()


def _metadata(data: bytes) -> dict:
    with Image.open(io.BytesIO(data)) as img:
        return {"info": {k: v for k, v in img.info.items()
                         if k not in ("jfif", "jfif_version", "jfif_unit", "jfif_density",
                                      "dpi", "progressive", "progression", "adobe",
                                      "adobe_transform")},
                "exif": dict(img.getexif()), "xmp": img.info.get("xmp"),
                "size": img.size, "applist": [a[0] for a in img.applist]}


def test_every_metadata_field_is_gone_and_the_photo_is_upright_and_bounded():
    data = _phone_jpeg()
    before = _metadata(data)
    assert before["exif"] and "icc_profile" in before["info"] and "comment" in before["info"]
    out = reencode_image(data, max_side=services.MAX_SIDE)
    for stored in (out.full, out.thumb):
        meta = _metadata(stored)
        assert meta["info"] == {} and meta["exif"] == {} and not meta["xmp"]
        assert set(meta["applist"]) <= {"APP0"}, meta["applist"]  # JFIF header only
    # orientation 6 = rotate 90° clockwise to view: landscape 4032×3024 becomes portrait,
    # decoded at half scale (core/images.py DRAFT_SLACK: 2016 px for the 2048 px limit)
    assert (out.width, out.height) == (1512, 2016)
    with Image.open(io.BytesIO(out.full)) as img:
        assert max(img.size) <= 2048
        assert img.getpixel((img.width - 10, 10))[0] > 150  # the red corner is now top-right


def test_heic_is_read_and_stored_as_jpeg():
    import pillow_heif

    img = Image.new("RGB", (640, 480), "green")
    heif = pillow_heif.from_pillow(img)
    buf = io.BytesIO()
    heif.save(buf, quality=60)
    out = reencode_image(buf.getvalue())
    with Image.open(io.BytesIO(out.full)) as stored:
        assert stored.format == "JPEG" and stored.size == (640, 480)


def _bomb() -> bytes:
    """A PNG that declares 64 million pixels in a few kilobytes."""
    buf = io.BytesIO()
    Image.new("1", (8000, 8000)).save(buf, "PNG")
    return buf.getvalue()


ABUSE = {
    "a script renamed .jpg": b"#!/bin/sh\nrm -rf / # \xff\xd8\xff\xe0 not really a jpeg\n",
    "html renamed .jpg": b"<html><script>alert(1)</script></html>",
    "an oversized file": jpeg() + b"\0" * (9 * 1024 * 1024),
    "a truncated jpeg": jpeg((400, 300))[:200],
    "an svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
}


@pytest.mark.parametrize("name", sorted(ABUSE))
def test_abuse_is_refused_in_both_languages_and_nothing_is_stored(w, name):
    _refused(w, ABUSE[name])


def test_a_decompression_bomb_is_refused_and_nothing_is_stored(w):
    data = _bomb()
    assert len(data) < 200_000
    _refused(w, data)


def _refused(w, data):
    with pytest.raises(InvalidInput) as caught:
        services.photo_upload(actor=w["worker"], data=data)
    assert caught.value.message_zh.startswith("请上传 JPEG、PNG、WebP 或 HEIC")
    assert caught.value.message_en.startswith("Upload a JPEG, PNG, WebP or HEIC")
    assert Photo.objects.count() == 0
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_a_path_in_the_file_name_never_reaches_the_file_system(w, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import signed_in

    browser = signed_in(w["worker"], w["worker"].auth_level)
    upload = SimpleUploadedFile("../../../etc/passwd.jpg", jpeg(), content_type="image/jpeg")
    response = browser.post("/reports/photos/", {"image": upload})
    assert response.status_code == 201 and response.json()["state"] == "processing"
    photo = services.photo_process(Photo.objects.get().pk)
    assert photo is not None
    assert photo.file.name == f"reports/{photo.sha256[:2]}/{photo.sha256}.jpg"
    assert ".." not in photo.file.name and "passwd" not in photo.file.name
    files = [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]
    assert all(str(p).startswith(str(settings.MEDIA_ROOT)) for p in files) and len(files) == 2


def test_the_same_picture_is_stored_once(w):
    a = services.photo_upload(actor=w["worker"], data=jpeg())
    b = services.photo_upload(actor=w["worker2"], data=jpeg())
    assert a.incoming != b.incoming  # the bytes as they came, each under its own name
    assert len([p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]) == 2
    a, b = services.photo_process(a.pk), services.photo_process(b.pk)
    assert a is not None and b is not None
    assert a.sha256 == b.sha256 and a.file.name == b.file.name
    assert len([p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]) == 2


def test_appeal_attachments_still_work_through_the_same_pipeline():
    out = reencode_image(jpeg((3000, 2000)))
    assert max(out.width, out.height) == 1600  # appeals keep their size


# --- re-encoding after the request: a task, or whoever asks for the picture first -----------

def _files() -> list:
    return sorted(p.relative_to(settings.MEDIA_ROOT).as_posix()
                  for p in settings.MEDIA_ROOT.rglob("*") if p.is_file())


def test_the_upload_answers_before_decoding_and_the_task_finishes_the_photo(
        w, django_capture_on_commit_callbacks):
    data = _phone_jpeg()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        photo = services.photo_upload(actor=w["worker"], data=data)
    # Answered on the header alone: the bytes kept as they came, under a name nothing serves,
    # and the size it will have (upright: orientation 6 turns 4032×3024 to portrait).
    assert photo.state == Photo.State.PROCESSING and not photo.file and not photo.sha256
    assert _files() == [photo.incoming] and photo.incoming.startswith("reports/incoming/")
    assert (photo.width, photo.height) == (1536, 2048)
    assert len(callbacks) == 1
    callbacks[0]()  # after commit: the task (ImmediateBackend in tests; a worker in production)
    photo.refresh_from_db()
    assert photo.state == Photo.State.READY and photo.incoming == ""
    assert _files() == sorted([photo.file.name, photo.thumb.name])  # the original is gone
    with photo.file.open("rb") as handle:
        meta = _metadata(handle.read())
    assert meta["exif"] == {} and meta["info"] == {} and meta["size"][1] > meta["size"][0]
    assert services.photo_process(photo.pk).state == Photo.State.READY  # again: nothing to do
    assert _files() == sorted([photo.file.name, photo.thumb.name])


def test_a_viewer_before_the_task_gets_the_stripped_picture_never_the_upload(w):
    from tests.factories import signed_in

    photo = services.photo_upload(actor=w["worker"], data=_phone_jpeg())
    response = signed_in(w["worker"], w["worker"].auth_level).get(f"/reports/photos/{photo.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    served = b"".join(response.streaming_content)
    assert _metadata(served)["exif"] == {} and b"Fangshan Road" not in served
    photo.refresh_from_db()
    assert photo.state == Photo.State.READY  # done once, by that request


def test_the_periodic_job_finishes_photos_whose_task_was_lost(w):
    from datetime import timedelta

    from django.utils import timezone

    lost = services.photo_upload(actor=w["worker"], data=jpeg())  # on_commit never ran
    fresh = services.photo_upload(actor=w["worker2"], data=jpeg((200, 100)))
    Photo.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert services.photo_process_due() == 1
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.state == Photo.State.READY and fresh.state == Photo.State.PROCESSING
    assert services.photo_process_due() == 0


def test_a_picture_that_passes_the_header_but_cannot_be_decoded_fails_visibly(w):
    from tests.factories import signed_in

    noise = Image.frombytes("RGB", (800, 600), bytes(range(256)) * 5625)
    buf = io.BytesIO()
    noise.save(buf, "JPEG")
    truncated = buf.getvalue()[:len(buf.getvalue()) // 2]  # a real header, the picture cut off
    photo = services.photo_upload(actor=w["worker"], data=truncated)
    problem, _ = services.report_create(actor=w["worker"], category=w["garbage"],
                                        lat=39.7299, lng=116.1371, photo_ids=[photo.pk])
    photo = services.photo_process(photo.pk)
    assert photo is not None and photo.state == Photo.State.FAILED and _files() == []
    from warmstation.reports import selectors

    assert selectors.problem_photos(problem) == []
    browser = signed_in(w["worker"], w["worker"].auth_level)
    assert browser.get(f"/reports/photos/{photo.pk}/").status_code == 404
    assert browser.get(f"/reports/{problem.pk}/").status_code == 200
    with pytest.raises(InvalidInput):  # a failed photo cannot be named by a new report
        services.report_create(actor=w["worker"], category=w["garbage"], lat=39.75,
                               lng=116.14, photo_ids=[photo.pk])


def test_erasure_deletes_an_upload_that_was_never_processed(w):
    from warmstation.core.privacy import Person
    from warmstation.reports import privacy

    photo = services.photo_upload(actor=w["worker"], data=jpeg())
    assert _files() == [photo.incoming]
    privacy.erase(Person.of(w["worker"]))
    assert _files() == [] and not Photo.objects.filter(pk=photo.pk).exists()
    assert services.photo_process(photo.pk) is None  # a task arriving afterwards: nothing
