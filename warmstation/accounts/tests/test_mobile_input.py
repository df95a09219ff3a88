"""A mobile number as people type it: full-width digits (Chinese input methods), spaces,
hyphens, +86. It is normalised before anything is checked or sent, on the page and in the API;
a number that is not 11 digits starting with 1 is refused in both languages and nothing is sent."""

import re

import pytest
from django.test import Client

from warmstation.accounts.models import SmsCode, User
from warmstation.accounts.tests.test_sms_codes import assert_problem, code_sent_to, post_json
from warmstation.core.errors import InvalidInput
from warmstation.core.inputs import normalise_mobile
from warmstation.outreach.models import OutboxMessage

pytestmark = pytest.mark.django_db

FULL_WIDTH = "1380000000７"  # the last digit typed full-width, as a Chinese IME does
ASCII = "13800000007"


@pytest.mark.parametrize("typed", [
    FULL_WIDTH, "１３８０００００００７", " 138 0000 0007 ", "138-0000-0007", "+8613800000007",
    "+86 138 0000 0007", "\u3000１３８０００００００７\u3000", "13800000007\n",
])
def test_typed_forms_of_one_number_normalise_to_its_eleven_digits(typed):
    assert normalise_mobile(typed) == ASCII


@pytest.mark.parametrize("typed", [
    "", "1380000000", "138000000077", "23800000007", "1280000000７", "13800000\x0007",
    "١٣٨٠٠٠٠٠٠٠٧",  # Arabic-Indic digits are digits to Python's \d, not to us
    "abc", "1" * 1000,
])
def test_a_number_that_is_not_eleven_digits_starting_with_1_is_refused(typed):
    with pytest.raises(InvalidInput) as caught:
        normalise_mobile(typed)
    assert caught.value.code == "invalid_mobile"
    assert re.search(r"[\u4e00-\u9fff]", caught.value.message_zh)
    assert "11-digit" in caught.value.message_en


def test_the_full_width_mobile_signs_in_on_the_page_end_to_end(db):
    # given: the sign-in page, a number typed with a full-width last digit
    client = Client()
    page = client.post("/login/", {"mobile": FULL_WIDTH})
    assert page.status_code == 200

    # then: the SMS went to the normalised number, and only there
    assert OutboxMessage.objects.filter(recipient=ASCII).count() == 1
    assert not OutboxMessage.objects.exclude(recipient=ASCII).exists()
    code = code_sent_to(ASCII)

    # when: the person types the code back, full-width too, with the number as they typed it
    full_width_code = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    done = client.post("/login/", {"mobile": FULL_WIDTH, "action": "verify",
                                   "code": full_width_code})

    # then: signed in as the one account of the normalised number
    assert done.status_code == 302, done.content.decode()[:500]
    assert list(User.objects.values_list("mobile", flat=True)) == [ASCII]
    assert client.get("/api/v1/me").json()["mobile"] == ASCII


def test_the_full_width_mobile_signs_in_through_the_api(db):
    client = Client()
    assert post_json(client, "/api/v1/auth/sms-code", {"mobile": FULL_WIDTH}).status_code == 200
    code = code_sent_to(ASCII)
    response = post_json(client, "/api/v1/auth/sms-token",
                         {"mobile": "138 0000 000７", "code": f" {code} "})
    assert response.status_code == 200, response.content
    assert User.objects.get().mobile == ASCII


@pytest.mark.parametrize("typed", ["1380000000", "23800000007", "13800000\x0007", "１" * 11])
def test_a_bad_number_sends_nothing_and_says_why_in_both_languages(db, typed):
    # API
    body = assert_problem(post_json(Client(), "/api/v1/auth/sms-code", {"mobile": typed}), 422)
    assert body["errors"][0]["field"].endswith("mobile")
    assert "11" in body["detail"]["zh"] and "11-digit" in body["detail"]["en"]
    # page, in Chinese and in English (a control character is refused before the form is read)
    zh, en = ("控制字符", "control characters") if "\x00" in typed else ("11位手机号", "11-digit")
    page = Client().post("/login/", {"mobile": typed})
    assert page.status_code in (400, 422)
    assert zh in page.content.decode()
    english = Client(headers={"accept-language": "en"})
    english.cookies["django_language"] = "en"
    assert en in english.post("/login/", {"mobile": typed}).content.decode()
    assert not SmsCode.objects.exists() and not OutboxMessage.objects.exists()


def test_a_number_sent_as_a_json_number_is_refused_not_guessed(db):
    response = post_json(Client(), "/api/v1/auth/sms-code", {"mobile": 13800000007})
    assert_problem(response, 422)
    assert not OutboxMessage.objects.exists()
