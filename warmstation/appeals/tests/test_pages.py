"""Pages of a case: what happens after a step and after a refused step, the transfer choices,
the board's explanation of the rates, and category names in English mode."""

import pytest
from django.test import Client

from tests.factories import signed_in
from warmstation.appeals import services
from warmstation.appeals.models import Appeal, AppealEvent


def client(s, who) -> Client:
    user = s[who]
    return signed_in(user, user.auth_level)


@pytest.fixture
def case(s):
    """A need in 拱辰 about parking: routed to 拱辰's command centre."""
    appeal = services.appeal_create(actor=s["worker"], category=s["cats"]["traffic_parking"],
                                    area=s["gc"], title="货车进不了小区", body="送货车被拦")
    services.appeal_transition(actor=s["gc_admin"], appeal_id=appeal.pk, action="dispatch")
    appeal.refresh_from_db()
    assert appeal.department == s["cgzx"]
    return appeal


def test_a_transfer_out_of_the_actors_scope_lands_on_the_inbox_with_the_flash(s, case):
    c = client(s, "cgzx_staff")
    response = c.post(f"/appeals/{case.pk}/act/", {"action": "transfer", "department": "rsj",
                                                   "note": "不归我们管"})
    assert response.status_code == 302
    assert response["Location"] == "/appeals/inbox/"
    page = c.get(response["Location"])
    assert page.status_code == 200 and "已提交" in page.content.decode()
    case.refresh_from_db()
    assert case.department == s["rsj"]


def test_a_step_that_keeps_the_case_in_scope_goes_back_to_the_case(s, case):
    response = client(s, "cgzx_staff").post(f"/appeals/{case.pk}/act/", {"action": "accept"})
    assert response["Location"] == f"/appeals/{case.pk}/"


def test_a_refused_note_comes_back_in_the_form_with_the_message_beside_it(s, case):
    c = client(s, "cgzx_staff")
    before = (AppealEvent.objects.count(), Appeal.objects.get(pk=case.pk).status)
    note = "很长的说明" * 1000  # 5,000 characters
    response = c.post(f"/appeals/{case.pk}/act/", {"action": "transfer", "department": "rsj",
                                                   "note": note})
    assert response.status_code == 422
    html = response.content.decode()
    form = html[html.index('class="card action-transfer"'):]
    form = form[:form.index("</form>")]
    assert f">{note}</textarea>" in form
    assert 'id="error-note"' in form and "文字过长" in form
    assert '<option value="rsj" selected>' in form
    assert (AppealEvent.objects.count(), Appeal.objects.get(pk=case.pk).status) == before
    # the other forms on the page are left empty
    accept = html[html.index('class="card action-accept"'):]
    assert "文字过长" not in accept[:accept.index("</form>")]


def test_a_refused_step_of_an_area_admin_keeps_the_input_too(s):
    appeal = services.appeal_create(actor=s["worker"], category=s["cats"]["housing"],
                                    area=s["gc"], title="住宿难", body="找不到")
    response = client(s, "gc_admin").post(f"/appeals/{appeal.pk}/act/", {
        "action": "dispatch", "department": "rsj", "note": "说" * 5000})
    assert response.status_code == 422
    html = response.content.decode()
    assert ">" + "说" * 5000 + "</textarea>" in html and "文字过长" in html


def test_the_transfer_form_does_not_offer_the_department_that_has_the_case(s, case):
    html = client(s, "cgzx_staff").get(f"/appeals/{case.pk}/").content.decode()
    form = html[html.index('class="card action-transfer"'):]
    form = form[:form.index("</form>")]
    assert 'value="rsj"' in form and 'value="gc-cgzx"' not in form


def test_the_board_explains_the_rates_in_the_page_in_both_languages(s):
    c = client(s, "district")
    zh = c.get("/appeals/board/").content.decode()
    assert "docs/appeals-rates.md" not in zh
    assert "<details" in zh and "三率怎么算" in zh and "派给该部门的诉求" in zh
    en = c.get("/appeals/board/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "How the rates are computed" in en and "fairly satisfied × weight" in en
    assert "docs/appeals-rates.md" not in en


def test_category_names_follow_the_language(s, case):
    s["cats"]["traffic_parking"].__class__.objects.filter(code="traffic_parking").update(
        name_en="Traffic and parking")
    en = {"HTTP_ACCEPT_LANGUAGE": "en"}
    assert "Traffic and parking" in client(s, "worker").get("/appeals/new/", **en).content.decode()
    assert "Traffic and parking" in client(s, "worker").get("/appeals/", **en).content.decode()
    inbox = client(s, "gc_admin").get("/appeals/inbox/", **en).content.decode()
    assert "Traffic and parking" in inbox and "交通与停车" not in inbox
    assert "交通与停车" in client(s, "gc_admin").get("/appeals/inbox/").content.decode()
