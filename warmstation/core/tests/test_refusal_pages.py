"""Pages map the error model in one place (core/refusals.py): NotFound is the site's 404 page, a
refused form comes back with its status, the input kept and the message beside its field, htmx
partials carry the refusal; flash messages are one gettext string in the page's language."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from tests.factories import make_merchant, make_offer, make_user, signed_in
from warmstation.accounts.models import AuthLevel, Role
from warmstation.areas.models import AreaContact
from warmstation.core.errors import Conflict, NotFound, RateLimited
from warmstation.core.refusals import RefusalMiddleware

PO = Path(settings.BASE_DIR) / "warmstation" / "locale" / "en" / "LC_MESSAGES" / "django.po"
CONTACT = {"kind": "steward", "name": "伊林郡服务管家", "phone": "13900000000",
           "address": "伊林郡社区服务站", "hours": "9:00-18:00"}


@pytest.fixture
def area_admin(tree):
    return signed_in(make_user(Role.AREA_ADMIN, tree["gc"]), AuthLevel.MFA)


# --- 404 --------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/areas/XL/", "/areas/NOPE/", "/steward/99999999/",
                                  "/stations/99999999/"])
def test_missing_or_out_of_scope_is_the_sites_404_page(area_admin, path):
    # when: XL is another street than the admin's, the others do not exist
    response = area_admin.get(path)

    # then
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_a_not_found_from_deep_in_a_view_is_the_404_page_too(rf_request):
    response = RefusalMiddleware(lambda r: HttpResponse()).process_exception(rf_request,
                                                                             NotFound())
    assert response.status_code == 404 and "页面不存在" in response.content.decode()


@pytest.fixture
def rf_request(db):
    request = RequestFactory().get("/somewhere/")
    request.LANGUAGE_CODE = "zh-hans"
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    return request


def test_an_uncaught_refusal_is_a_page_with_its_message_and_status(rf_request):
    # when
    middleware = RefusalMiddleware(lambda r: HttpResponse())
    conflict = middleware.process_exception(rf_request, Conflict(_("该物品已归还。")))
    limited = middleware.process_exception(rf_request, RateLimited(extra={"retry_after": 60}))
    api = RequestFactory().get("/api/v1/x")

    # then
    assert conflict.status_code == 409 and "该物品已归还。" in conflict.content.decode()
    assert limited.status_code == 429 and limited["Retry-After"] == "60"
    assert middleware.process_exception(api, NotFound()) is None  # the API maps its own


# --- refused forms ----------------------------------------------------------------------------

def test_a_refused_form_keeps_the_input_and_puts_the_message_beside_the_field(area_admin):
    # given: the contact exists already
    assert area_admin.post("/areas/GC/", CONTACT).status_code == 302

    # when
    response = area_admin.post("/areas/GC/", CONTACT)
    html = response.content.decode()

    # then: a rule forbids it (409); every field as typed; the message next to "name"
    assert response.status_code == 409
    for value in CONTACT.values():
        assert f'value="{value}"' in html or f'value="{value}" selected' in html or \
            f'"{value}" selected' in html
    beside = re.search(r'<input name="name"[^>]*aria-invalid="true"[^>]*>\s*'
                       r'<span class="field-error" id="error-name" role="alert">([^<]+)</span>',
                       html)
    assert beside and beside.group(1) == "该区域已有同名联系方式。"
    assert 'class="flash error"' not in html  # not at the top as well
    assert AreaContact.objects.filter(name=CONTACT["name"]).count() == 1


def test_wrong_input_is_422_beside_its_field_in_english_too(area_admin):
    # when
    response = area_admin.post("/areas/GC/", {**CONTACT, "kind": "bogus"},
                               HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()

    # then
    assert response.status_code == 422
    assert re.search(r'id="error-kind" role="alert">Unknown contact kind', html)
    assert 'value="伊林郡服务管家"' in html
    assert not AreaContact.objects.filter(name=CONTACT["name"]).exists()


def test_a_refusal_naming_no_field_of_the_form_goes_to_the_top(tree):
    # given: a signed-in worker registering without choosing anything
    client = signed_in(make_user(Role.WORKER, tree["ylj"]), AuthLevel.CODE)

    # when
    response = client.post("/register/", {"real_name": "张三"})
    html = response.content.decode()

    # then
    assert response.status_code == 422
    assert re.search(r'<p class="flash error" role="alert">[^<]*请选择工作类型', html)
    assert 'value="张三"' in html


def test_an_htmx_refusal_answers_the_partial_with_the_message(tree):
    # given
    owner = make_user(Role.MERCHANT, tree["xl"])
    merchant = make_merchant(tree["xl"], staff=owner)
    make_offer(merchant)
    client = signed_in(owner, AuthLevel.PASSWORD)

    # when
    response = client.post(f"/merchant/{merchant.pk}/", {"code": "000000", "key": "k1"},
                           HTTP_HX_REQUEST="true")
    html = response.content.decode()

    # then: 409 with just the #counter partial, the message and the code as typed
    assert response.status_code == 409
    assert html.lstrip().startswith('<div id="counter"') and "<html" not in html
    assert "核销码不对" in html and 'value="000000"' in html


def test_htmx_is_told_to_swap_refusals():
    """htmx swaps only 2xx by default: base.html configures 409/422/429 to be swapped."""
    base = (Path(settings.BASE_DIR) / "warmstation" / "core" / "templates" / "core" /
            "_htmx.html").read_text()
    assert '{"code": "409|422|429", "swap": true, "error": false}' in base


# --- flash messages and the English catalogue -------------------------------------------------

def test_switching_to_english_shows_english_flash_text(area_admin):
    # when
    response = area_admin.post("/areas/GC/", CONTACT, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    html = response.content.decode()

    # then
    assert "Added." in html and "已添加" not in html


def test_in_chinese_the_flash_text_is_chinese_only(area_admin):
    html = area_admin.post("/areas/GC/", CONTACT, follow=True).content.decode()
    assert "已添加。" in html and "Added" not in html


def _po_entries(text: str):
    """(flags, msgid, msgstr) for every entry of a .po file (no polib in the venv)."""
    for block in text.split("\n\n"):
        lines = [ln for ln in block.splitlines() if not ln.startswith("#~")]
        flags = " ".join(ln for ln in lines if ln.startswith("#,"))
        parts: dict[str, str] = {}
        key = None
        for ln in lines:
            m = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', ln)
            if m:
                key = m.group(1)
                parts[key] = m.group(2)
            elif ln.startswith('"') and key:
                parts[key] += ln[1:-1]
        if "msgid" in parts:
            strs = [v for k, v in parts.items() if k.startswith("msgstr")]
            yield flags, parts["msgid"], strs


def test_the_english_catalogue_has_no_untranslated_or_fuzzy_entry():
    entries = [e for e in _po_entries(PO.read_text(encoding="utf-8")) if e[1]]
    assert len(entries) > 300
    fuzzy = [msgid for flags, msgid, _strs in entries if "fuzzy" in flags]
    empty = [msgid for _flags, msgid, strs in entries if not all(strs)]
    assert fuzzy == [] and empty == []


def test_no_flash_message_mixes_the_two_languages():
    """messages.success/error take one gettext string (so the English catalogue has it), never
    a literal Chinese text, let alone a "已保存。 Saved." pair."""
    apps = Path(settings.BASE_DIR) / "warmstation"
    literal = re.compile(r'messages\.\w+\(\s*request,\s*f?"[^"]*[\u4e00-\u9fff]')
    offenders = [f"{p.relative_to(apps)}:{n}" for p in apps.rglob("*.py") if "tests" not in p.parts
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if literal.search(line)]
    assert offenders == []


def test_every_error_message_in_the_code_is_in_the_english_catalogue():
    """Each class's default message has an English translation that is not the Chinese."""
    from warmstation.core.errors import ERROR_CLASSES

    for cls in ERROR_CLASSES:
        with translation.override("en"):
            english = str(cls.default_message)
        assert not re.search(r"[\u4e00-\u9fff]", english), cls
