"""Every outcome at the counter has its own answer, so the cashier knows what to tell the worker:
redeemed, wrong, used (and when), expired, another shop's, outside serving hours; and the
worker's wallet offers only what the counter would accept, saying when the rest is served."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from tests.factories import make_merchant, make_offer, make_user, make_worker, signed_in
from warmstation.accounts.models import AuthLevel, Role
from warmstation.benefits import services
from warmstation.benefits.models import Offer, Redemption
from warmstation.benefits.selectors import offer_next_served
from warmstation.core.errors import ApplicationError


@pytest.fixture
def shop(tree):
    owner = make_user(Role.MERCHANT, tree["xl"])
    owner.auth_level = AuthLevel.PASSWORD
    return make_merchant(tree["xl"], staff=owner), owner


def _code(tree, merchant, **offer):
    return services.redemption_code_issue(user=make_worker([tree["sz"]]),
                                          offer=make_offer(merchant, **offer),
                                          idempotency_key=f"c{Redemption.objects.count()}")


def _refusal(merchant, owner, code) -> str:
    with pytest.raises(ApplicationError) as exc:
        services.redemption_redeem(actor=owner, merchant=merchant, code=code,
                                   idempotency_key=f"v-{code}-{Redemption.objects.count()}")
    return exc.value.code


def test_each_refusal_names_its_reason(tree, shop):
    merchant, owner = shop
    code = _code(tree, merchant)
    assert _refusal(merchant, owner, "000000") == "code_invalid"
    assert _refusal(merchant, owner, "12ab") == "code_invalid"
    services.redemption_redeem(actor=owner, merchant=merchant, code=code["digits"],
                               idempotency_key="ok")
    assert _refusal(merchant, owner, code["digits"]) == "code_used"
    assert _refusal(merchant, owner, code["qr_payload"]) == "code_used"

    other_owner = make_user(Role.MERCHANT, tree["xl"])
    other = make_merchant(tree["xl"], staff=other_owner)
    theirs = _code(tree, other)
    assert _refusal(merchant, owner, theirs["digits"]) == "code_other_merchant"
    assert _refusal(merchant, owner, theirs["qr_payload"]) == "code_other_merchant"

    late = _code(tree, merchant)
    Redemption.objects.filter(pk=late["redemption_id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    assert _refusal(merchant, owner, late["digits"]) == "code_expired"
    services.redemption_expire_due()
    assert _refusal(merchant, owner, late["digits"]) == "code_expired"

    lunch = _code(tree, merchant)
    hour = (timezone.localtime().hour + 2) % 24
    Offer.objects.filter(redemptions__pk=lunch["redemption_id"]).update(
        serve_from=time(hour), serve_until=time((hour + 1) % 24))
    assert _refusal(merchant, owner, lunch["digits"]) == "not_served_now"


def test_the_counter_page_shows_the_outcome_and_settlement_in_place(tree, shop):
    merchant, owner = shop
    code = _code(tree, merchant, price="15.00", normal_price="20.00")
    client = signed_in(owner, AuthLevel.PASSWORD)
    url = f"/merchant/{merchant.pk}/"
    ok = client.post(url, {"code": code["digits"], "key": "k1"}, HTTP_HX_REQUEST="true")
    html = ok.content.decode()
    assert ok.status_code == 200 and html.lstrip().startswith('<div id="counter"')
    assert 'data-outcome="redeemed"' in html and "¥15.00" in html
    assert "收款 ¥15.00，让利 ¥5.00" in html  # the settlement moved with it
    again = client.post(url, {"code": code["digits"], "key": "k2"}, HTTP_HX_REQUEST="true")
    html = again.content.decode()
    assert again.status_code == 409 and 'data-outcome="code_used"' in html
    assert 'data-outcome="redeemed"' not in html  # the last green is gone


def test_the_wallet_offers_a_code_only_when_it_is_served(tree, shop):
    merchant, _ = shop
    tree["sz"].center_lat, tree["sz"].center_lng = merchant.lat, merchant.lng
    tree["sz"].save()
    worker = make_worker([tree["sz"]])
    now = timezone.localtime()
    later = make_offer(merchant, title="晚餐", serve_from=time((now.hour + 2) % 24),
                       serve_until=time((now.hour + 3) % 24))
    make_offer(merchant, title="全天套餐")
    html = signed_in(worker, AuthLevel.CODE).get("/wallet/").content.decode()
    assert html.count("出示核销码") == 1
    assert f"{(now.hour + 2) % 24:02d}:00 起供应" in html
    nxt = offer_next_served(later, timezone.now())
    assert nxt is not None and nxt > timezone.now()
