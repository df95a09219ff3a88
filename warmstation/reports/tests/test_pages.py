"""The pages: a report from the phone form (without JavaScript too), the same-problem prompt,
我也遇到, the queue's bulk step, a step on a problem's page, the public list without the
reporter, English complete."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import signed_in
from warmstation.reports.models import Follower, Problem
from warmstation.reports.tests.factories import YLJ, file_report, jpeg

pytestmark = pytest.mark.django_db


def _browser(w, who):
    return signed_in(w[who], w[who].auth_level)


def test_the_report_form_works_without_javascript(w):
    browser = _browser(w, "worker")
    page = browser.get("/reports/new/")
    assert page.status_code == 200 and "随手拍" in page.content.decode()
    assert len(page.content) < 30_000
    response = browser.post("/reports/new/", {
        "category": "exposed_garbage", "lat": str(YLJ[0]), "lng": str(YLJ[1]), "crs": "wgs84",
        "description": "路边垃圾", "client_key": "k-1",
        "photos": [SimpleUploadedFile("a.jpg", jpeg(), content_type="image/jpeg")]})
    assert response.status_code == 302
    problem = Problem.objects.get()
    assert response["Location"] == f"/reports/{problem.pk}/"
    assert problem.photos.count() == 1
    again = browser.post("/reports/new/", {"category": "exposed_garbage", "lat": str(YLJ[0]),
                                           "lng": str(YLJ[1]), "client_key": "k-1",
                                           "photo_ids": []}, headers={"Accept": "application/json"})
    assert again.status_code == 200 and again.json()["id"] == problem.pk
    assert Problem.objects.count() == 1


def test_a_refused_report_keeps_what_was_typed(w):
    browser = _browser(w, "worker")
    response = browser.post("/reports/new/", {"category": "exposed_garbage", "lat": "abc",
                                              "lng": "", "description": "我写的描述"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "我写的描述" in body and "请先定位" in body


def test_a_bad_photo_is_refused_on_the_upload_endpoint(w):
    browser = _browser(w, "worker")
    bad = SimpleUploadedFile("x.jpg", b"#!/bin/sh\necho hi", content_type="image/jpeg")
    response = browser.post("/reports/photos/", {"image": bad})
    assert response.status_code == 422 and "HEIC" in response.json()["message"]


def test_same_problem_prompt_and_me_too(w):
    problem = file_report(w)
    browser = _browser(w, "worker2")
    prompt = browser.get("/reports/nearby/", {"category": "exposed_garbage",
                                              "lat": YLJ[0], "lng": YLJ[1]})
    body = prompt.content.decode()
    assert f'data-id="{problem.pk}"' in body and "?g=" in body
    assert f'formaction="/reports/{problem.pk}/follow/"' in body
    response = browser.post(f"/reports/{problem.pk}/follow/", {"lat": YLJ[0], "lng": YLJ[1]})
    assert response.status_code == 302
    assert Follower.objects.filter(problem=problem, user=w["worker2"]).exists()
    assert browser.get(f"/reports/{problem.pk}/").status_code == 200


def test_queue_bulk_accept_and_a_step_on_the_page(w):
    a = file_report(w)
    b = file_report(w, "worker2", color="blue")
    centre = _browser(w, "cc")
    queue = centre.get("/reports/queue/")
    assert queue.status_code == 200 and a.number in queue.content.decode()
    centre.post("/reports/queue/", {"ids": [a.pk], "action": "accept"})
    assert Problem.objects.get(pk=a.pk).status == "accepted"
    response = centre.post(f"/reports/{b.pk}/act/", {"action": "reject", "reason": "unclear"})
    assert response.status_code == 302 and Problem.objects.get(pk=b.pk).status == "rejected"
    refused = centre.post(f"/reports/{a.pk}/act/", {"action": "resolve"})
    assert refused.status_code == 422


def test_the_public_never_shows_the_reporter(w):
    problem = file_report(w)
    w["worker"].real_name = "张小哥"
    w["worker"].save(update_fields=["real_name"])
    from warmstation.reports import services

    services.problem_transition(actor=w["cc"], problem_id=problem.pk, action="accept")
    from django.test import Client

    public = Client().get("/reports/public/").content.decode()
    assert problem.number in public
    detail = Client().get(f"/reports/public/{problem.pk}/").content.decode()
    for secret in ("张小哥", w["worker"].mobile, w["worker"].mobile[-4:], "路口垃圾堆"):
        assert secret not in public and secret not in detail
    photo = problem.photos.get()
    assert Client().get(f"/reports/photos/{photo.pk}/").status_code == 404


def test_english_pages(w):
    browser = _browser(w, "worker")
    browser.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = browser.get("/reports/new/").content.decode()
    assert "Snap and report a street problem" in body and "随手拍" not in body


def test_staff_blur_a_photo_and_make_it_public(w, django_capture_on_commit_callbacks):
    import io

    from django.test import Client
    from PIL import Image

    from warmstation.reports import services

    striped = Image.new("RGB", (64, 48), "white")
    striped.paste((200, 0, 0), (0, 0, 32, 48))  # two halves: a blur across them shows
    buf = io.BytesIO()
    striped.save(buf, "JPEG")
    upload = services.photo_upload(actor=w["worker"], data=buf.getvalue())
    services.photo_process(upload.pk)
    problem, _ = services.report_create(actor=w["worker"], category=w["garbage"], lat=YLJ[0],
                                        lng=YLJ[1], photo_ids=[upload.pk])
    services.problem_transition(actor=w["cc"], problem_id=problem.pk, action="accept")
    photo = problem.photos.get()
    old_name = photo.file.name
    centre = _browser(w, "cc")
    assert 'class="blur-tool"' in centre.get(f"/reports/{problem.pk}/").content.decode()
    assert 'class="blur-tool"' not in _browser(w, "worker").get(
        f"/reports/{problem.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = centre.post(f"/reports/photos/{photo.pk}/publish/",
                               {"boxes": "0.1,0.1,0.5,0.5", "public": "1"})
    assert response.status_code == 302
    photo.refresh_from_db()
    assert photo.is_public and photo.blurred_at and photo.file.name != old_name
    from django.core.files.storage import default_storage

    assert not default_storage.exists(old_name)  # the unblurred original is gone
    public = Client().get(f"/reports/photos/{photo.pk}/")
    assert public.status_code == 200 and public["Cache-Control"].startswith("public")
    with Image.open(io.BytesIO(b"".join(public.streaming_content))) as img:
        assert img.size == (64, 48)
    bad = centre.post(f"/reports/photos/{photo.pk}/publish/", {"boxes": "1e9,x", "public": "1"})
    assert bad.status_code == 302
    assert _browser(w, "worker").post(f"/reports/photos/{photo.pk}/publish/",
                                      {"public": "0"}).status_code == 403
