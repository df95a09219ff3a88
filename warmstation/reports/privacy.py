"""A person's street reports, for the copy and the erasure (core/privacy.py)."""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.db.models import Q

from warmstation.core import privacy
from warmstation.core.privacy import Person
from warmstation.reports.models import Follower, Photo, Problem, ProblemEvent


def export(person: Person) -> dict:
    """Each problem the person reported or confirmed, with its public steps, and the photos
    they uploaded (by content hash: the pictures themselves are in the case files)."""
    follows = (Follower.objects.filter(user=person.user)
               .select_related("problem__category", "problem__area").order_by("at", "id"))
    return {"street_reports": [
        {"id": f.problem_id, "as": f.kind, "at": f.at.isoformat(),
         "category": f.problem.category.name_zh, "area": f.problem.area.name_zh,
         "lat": f.problem.lat, "lng": f.problem.lng, "address": f.problem.address,
         "description": f.problem.description if f.kind == Follower.Kind.REPORTER else "",
         "status": f.problem.status, "points_paid": f.paid,
         "timeline": [{"at": e.at.isoformat(), "action": e.action, "to_status": e.to_status}
                      for e in f.problem.events.filter(public=True)]}
        for f in follows],
        "street_report_photos": [
            {"id": p.pk, "problem": p.problem_id, "kind": p.kind, "sha256": p.sha256,
             "created_at": p.created_at.isoformat()}
            for p in Photo.objects.filter(uploader=person.user)]}


def erase(person: Person) -> None:
    """Problems stay (they are about the street, not the person) but no longer name them: the
    reporter link and the follow rows go, the description is starred where it names them,
    photos uploaded ahead and never used are deleted with their files."""
    for problem in Problem.objects.filter(reporter=person.user):
        Problem.objects.filter(pk=problem.pk).update(
            reporter=None, client_key="", description=person.redact(problem.description))
    Follower.objects.filter(user=person.user).delete()
    for photo in Photo.objects.filter(uploader=person.user, problem=None):
        names = (photo.file.name, photo.thumb.name)
        sha, incoming = photo.sha256, photo.incoming
        photo.delete()
        if incoming:
            default_storage.delete(incoming)  # still as uploaded: never processed
        if sha and not Photo.objects.filter(sha256=sha).exists():
            for name in names:
                if name:
                    default_storage.delete(name)
    Photo.objects.filter(uploader=person.user).update(uploader=None)
    for event in ProblemEvent.objects.filter(Q(actor=person.user)).exclude(note=""):
        if person.mentioned_in(event.note):
            ProblemEvent.objects.filter(pk=event.pk).update(note=person.redact(event.note))


privacy.register("reports", export=export, erase=erase,
                 covers=("reports.problem", "reports.follower", "reports.photo",
                         "reports.problemevent", "reports.open311client"))
