"""A person's flat bookings, for the copy and the erasure (core/privacy.py)."""

from __future__ import annotations

from warmstation.core import privacy
from warmstation.core.privacy import Person
from warmstation.housing.models import Booking, FlatNight, Visitor


def export(person: Person) -> dict:
    bookings = (Booking.objects.filter(worker=person.user).select_related("flat")
                .prefetch_related("visitors").order_by("check_in", "id"))
    return {"flat_bookings": [
        {"flat": b.flat.name, "check_in": b.check_in.isoformat(),
         "check_out": b.check_out.isoformat(), "status": b.status, "note": b.note,
         "visitors": [{"name": v.name, "relation": v.relation} for v in b.visitors.all()]}
        for b in bookings]}


def erase(person: Person) -> None:
    """Bookings stay as counts (the flat's use over the year); the family's names and the
    note go, and a booking still holding nights is cancelled so the nights are free."""
    mine = Booking.objects.filter(worker=person.user)
    FlatNight.objects.filter(booking__in=mine).delete()
    Visitor.objects.filter(booking__in=mine).update(name="")
    mine.filter(status__in=(Booking.Status.BOOKED, Booking.Status.CHECKED_IN)).update(
        status=Booking.Status.CANCELLED)
    mine.update(note="", handled_by=None)
    Booking.objects.filter(handled_by=person.user).update(handled_by=None)


privacy.register("housing", export=export, erase=erase, covers=("housing.booking",))
