"""Import batches name the person who uploaded them; the rows they hold until imported are
other people's (workers' mobiles), not the uploader's, and are dropped at import."""

from __future__ import annotations

from warmstation.core import privacy
from warmstation.core.privacy import Person
from warmstation.dashboard.importing_models import ImportBatch


def export(person: Person) -> dict:
    return {
        "data_imports": [
            {
                "created_at": b.created_at.isoformat(),
                "kind": b.kind,
                "filename": b.filename,
                "status": b.status,
                "rows": b.rows_total,
            }
            for b in ImportBatch.objects.filter(created_by=person.user).order_by("created_at", "id")
        ]
    }


def erase(person: Person) -> None:
    """The batches stay (the district's record of what was imported), without their uploader."""
    ImportBatch.objects.filter(created_by=person.user).update(created_by=None)


privacy.register("dashboard", export=export, erase=erase, covers=("dashboard.importbatch",))
