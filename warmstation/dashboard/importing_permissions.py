"""Who sees which import batch: the person who uploaded it, and district admins (a district
admin's batch may hold rows of every area, so an area admin sees only their own)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from warmstation.accounts.models import Role
from warmstation.core.errors import NotFound
from warmstation.core.inputs import parse_id
from warmstation.dashboard.importing_models import ImportBatch

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from warmstation.accounts.models import User

IMPORTERS = (Role.AREA_ADMIN, Role.DISTRICT_ADMIN)


def import_batch_list(user: User | AnonymousUser | None) -> QuerySet[ImportBatch]:
    # `data` (the upload, up to 5 MB) is the check task's, never a page's.
    qs = ImportBatch.objects.select_related("created_by").defer("data")
    if user is None or not user.is_authenticated or not user.has_role(*IMPORTERS):
        return qs.none()
    if user.has_role(Role.DISTRICT_ADMIN):
        return qs
    return qs.filter(Q(created_by=user))


def access_import_batch_by_id(user: User | AnonymousUser | None, batch_id: object) -> ImportBatch:
    """The batch, or NotFound — the same for a batch that is missing and one that is not
    the user's to see."""
    number = parse_id(batch_id)
    batch = import_batch_list(user).filter(pk=number).first() if number is not None else None
    if batch is None:
        raise NotFound()
    return batch
