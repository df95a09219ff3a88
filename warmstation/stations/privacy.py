"""A person's loans and station visits, for the copy and the erasure (core/privacy.py)."""

from __future__ import annotations

from django.db.models import Q

from warmstation.core import privacy
from warmstation.core.privacy import Person
from warmstation.stations.models import Loan, ServiceRecord, Station, StationContact


def export(person: Person) -> dict:
    loans = (Loan.objects.filter(worker=person.user).select_related("station", "item")
             .order_by("lent_at", "id"))
    visits = (ServiceRecord.objects.filter(worker=person.user).select_related("station", "service")
              .order_by("at", "id"))
    return {
        "loans": [
            {"station": loan.station.name, "item": loan.item.name_zh,
             "lent_at": loan.lent_at.isoformat(), "due_at": loan.due_at.isoformat(),
             "returned_at": loan.returned_at.isoformat() if loan.returned_at else None}
            for loan in loans],
        "station_visits": [
            {"station": r.station.name, "kind": r.kind, "at": r.at.isoformat(),
             "service": r.service.name_zh if r.service else None, "note": r.note}
            for r in visits],
    }


def erase(person: Person) -> None:
    """Loans and check-ins stay (cabinet stock and the station's service counts rely on them),
    pointing at the closed account; a steward's notes and any walk-in label naming the person
    are starred out. A closed steward stops being a station's steward, and their number leaves
    the station's public contacts."""
    for record in ServiceRecord.objects.filter(
            Q(worker=person.user) | Q(worker_label__in=person.needles())
            | Q(note__contains=person.mobile)):
        fields = {"note": person.redact(record.note),
                  "worker_label": person.redact(record.worker_label)}
        if fields != {"note": record.note, "worker_label": record.worker_label}:
            ServiceRecord.objects.filter(pk=record.pk).update(**fields)
    Station.objects.filter(steward=person.user).update(steward=None)
    Station.objects.filter(phone=person.mobile).update(phone="")
    StationContact.objects.filter(phone=person.mobile).delete()


privacy.register("stations", export=export, erase=erase,
                 covers=("stations.station", "stations.stationphoto", "stations.stockmovement",
                         "stations.loan", "stations.servicerecord"))
