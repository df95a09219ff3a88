"""A person's flat bookings, survey answers and rental applications, for the copy and the
erasure (core/privacy.py)."""

from __future__ import annotations

from warmstation.core import privacy
from warmstation.core.privacy import Person
from warmstation.housing.models import Booking, FlatNight, RentalApplication, Survey, Visitor


def export(person: Person) -> dict:
    bookings = (Booking.objects.filter(worker=person.user).select_related("flat")
                .prefetch_related("visitors").order_by("check_in", "id"))
    return {"flat_bookings": [
        {"flat": b.flat.name, "check_in": b.check_in.isoformat(),
         "check_out": b.check_out.isoformat(), "status": b.status, "note": b.note,
         "visitors": [{"name": v.name, "relation": v.relation} for v in b.visitors.all()]}
        for b in bookings],
        "housing_survey": [
            {"area": s.area.code, "housing": s.housing, "rent": s.rent,
             "commute_minutes": s.commute_minutes, "household": s.household,
             "needs": [n for n in Survey.NEEDS if getattr(s, n)], "note": s.note,
             "updated_at": s.updated_at.isoformat()}
            for s in Survey.objects.filter(worker=person.user).select_related("area")],
        "rental_applications": [
            {"resource": a.resource.name, "status": a.status, "people": a.people,
             "note": a.note, "office_note": a.office_note,
             "created_at": a.created_at.isoformat()}
            for a in RentalApplication.objects.filter(worker=person.user)
            .select_related("resource").order_by("created_at", "id")]}


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
    # The survey answers are the person's own: they go (the figures lose one answer).
    Survey.objects.filter(worker=person.user).delete()
    # Rental applications stay as counts (intentions signed); what the person wrote goes, and
    # an open one is withdrawn.
    mine_rentals = RentalApplication.objects.filter(worker=person.user)
    mine_rentals.filter(status__in=("submitted", "reviewing", "viewing")).update(
        status=RentalApplication.Status.WITHDRAWN)
    mine_rentals.update(note="")
    RentalApplication.objects.filter(handled_by=person.user).update(handled_by=None)


privacy.register("housing", export=export, erase=erase,
                 covers=("housing.booking", "housing.survey", "housing.rentalapplication"))
