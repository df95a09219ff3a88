"""Child objects of needs go through their choke point: a policy answer is changed only by the
department that owns it (or the district); a case's photos only by whoever sees the case, and
never under the public /media/."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from tests.factories import signed_in
from warmstation.appeals import services
from warmstation.appeals.models import AppealAttachment, PolicyAnswer

ANSWER = {"topic": "legal", "question": "被拖欠工资怎么办？", "answer": "拨打 12333 投诉。"}


def _client(user):
    return signed_in(user, user.auth_level)


def test_a_department_creates_answers_as_its_own_and_only_it_may_change_them(s):
    created = _client(s["rsj_staff"]).post("/api/v1/appeals/policy", ANSWER,
                                           content_type="application/json")
    assert created.status_code == 201
    answer = PolicyAnswer.objects.get(pk=created.json()["id"])
    assert answer.department == s["rsj"]
    change = {**ANSWER, "answer": "改过的答案。"}
    url = f"/api/v1/appeals/policy/{answer.pk}"
    other = _client(s["cgzx_staff"]).put(url, change, content_type="application/json")
    assert other.status_code == 404
    answer.refresh_from_db()
    assert answer.answer == ANSWER["answer"]
    assert _client(s["rsj_staff"]).put(url, change, content_type="application/json") \
        .status_code == 200
    assert _client(s["district"]).put(url, change, content_type="application/json") \
        .status_code == 200


def _jpeg() -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, "JPEG")
    return SimpleUploadedFile("p.jpg", buf.getvalue(), content_type="image/jpeg")


@pytest.mark.parametrize("who, status", [
    ("worker", 200), ("district", 200), ("other_worker", 404), ("xl_admin", 404),
])
def test_a_cases_photo_is_seen_only_by_who_sees_the_case(s, who, status):
    appeal = services.appeal_create(actor=s["worker"], category=s["cats"]["housing"],
                                    area=s["ylj"], title="住宿难", body="找不到房", files=[_jpeg()])
    photo = AppealAttachment.objects.get(event__appeal=appeal)
    response = _client(s[who]).get(f"/appeals/attachments/{photo.pk}/")
    assert response.status_code == status
    assert Client().get(f"/media/{photo.file.name}").status_code == 404
    assert _client(s["worker"]).get(f"/media/{photo.file.name}").status_code == 404
