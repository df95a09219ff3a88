"""The demo partners load once, where the report puts them, and the demo merchant can redeem."""

from warmstation.benefits.models import Merchant, MerchantStaff, Offer
from warmstation.benefits.selectors import merchant_nearby
from warmstation.demo.benefits import XILU_CENTRE, YANSHAN_CENTRE
from warmstation.demo.seed import seed_demo


def test_demo_partners_load_idempotently_near_their_streets(db):
    seed_demo(workers=5)
    counts = (Merchant.objects.count(), Offer.objects.count(), MerchantStaff.objects.count())
    seed_demo(workers=5)
    assert (Merchant.objects.count(), Offer.objects.count(),
            MerchantStaff.objects.count()) == counts
    assert Merchant.objects.filter(area__code="110111012000", kind="restaurant").count() == 7
    assert set(Merchant.objects.filter(area__code="110111004000").values_list("kind", flat=True)) \
        == {"restaurant", "barbershop", "bathhouse"}
    assert len(merchant_nearby(lat=XILU_CENTRE[0], lng=XILU_CENTRE[1], radius_m=2000,
                               limit=50)) == 7
    assert len(merchant_nearby(lat=YANSHAN_CENTRE[0], lng=YANSHAN_CENTRE[1], radius_m=2000,
                               limit=50)) == 5
    assert MerchantStaff.objects.filter(user__mobile="13800000013").exists()


def test_the_demo_counter_can_be_tried_at_any_hour(db):
    from datetime import datetime

    from warmstation.benefits.selectors import offer_served_now, schedule_of
    from warmstation.core.time import LOCAL

    seed_demo(workers=2)
    counter = Merchant.objects.get(staff__user__mobile="13800000013")
    offer = counter.offers.get()
    for hour in range(24):
        at = datetime(2026, 1, 5, hour, 30, tzinfo=LOCAL)
        assert schedule_of(counter).is_open(at) and offer_served_now(offer, at), hour
