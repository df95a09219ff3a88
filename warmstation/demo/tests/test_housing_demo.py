"""The demo housing loads once: 长阳镇's flat with the report's equipment, kept by a steward who
can sign in, with bookings that hold their nights."""

from warmstation.demo.seed import seed_demo
from warmstation.housing.models import Booking, Flat, FlatNight


def test_demo_flat_loads_idempotently_with_its_equipment(db):
    seed_demo(workers=5)
    counts = (Flat.objects.count(), Booking.objects.count(), FlatNight.objects.count())
    seed_demo(workers=5)
    assert (Flat.objects.count(), Booking.objects.count(), FlatNight.objects.count()) == counts
    flat = Flat.objects.get(name="长阳镇小哥爱心公寓")
    assert flat.area.name_zh == "长阳镇"
    assert {"冰箱", "洗衣机", "电磁炉"} <= set(flat.equipment.values_list("name_zh", flat=True))
    assert flat.station.steward.mobile == "13800000024"
    assert FlatNight.objects.filter(flat=flat).count() == 3 * Booking.objects.filter(
        flat=flat, status="booked").count() > 0


def test_demo_resources_with_eight_signed_intentions(db):
    from warmstation.housing.models import RentalApplication, Resource

    seed_demo(workers=15)
    assert set(Resource.objects.values_list("kind", flat=True)) == {
        "converted_flat", "dormitory", "factory", "commercial"}
    signed = RentalApplication.objects.filter(status="signed")
    assert signed.count() == 8
    assert set(signed.values_list("resource__kind", flat=True)) == {"converted_flat"}
    assert RentalApplication.objects.exclude(status="signed").count() == 3
