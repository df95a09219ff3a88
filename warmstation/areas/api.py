"""Areas and their service-card contacts. Reading is open to anyone signed in (the same lines
are printed on the public service cards); changing needs an area or district admin whose area
covers it — anything else looks missing."""

from typing import Annotated

from ninja import Router, Status
from ninja.pagination import paginate

from warmstation.accounts.models import Role
from warmstation.areas import services
from warmstation.areas.models import Area
from warmstation.areas.permissions import access_area_by_code, access_contact_by_id
from warmstation.areas.schemas import AreaDetailOut, AreaOut, ContactIn, ContactOut, ContactPatch  # noqa: F401
from warmstation.areas.scoping import managed_area_list
from warmstation.areas.selectors import area_tree
from warmstation.core.permissions import require_roles
from warmstation.core.schemas import AUTH_ERRORS, Id, Line, ProblemOut

router = Router(tags=["areas"])
ADMINS = (Role.AREA_ADMIN, Role.DISTRICT_ADMIN)


@router.get("", url_name="areas", operation_id="list_areas", summary="All areas, top-down",
            response={200: list[AreaOut], **AUTH_ERRORS})
@paginate
def list_areas(request, level: Area.Level | None = None):
    qs = area_tree().select_related("parent")
    return qs.filter(level=level) if level else qs


@router.get("/managed", url_name="areas_managed", operation_id="list_managed_areas",
            summary="Areas I may change", response={200: list[AreaOut], **AUTH_ERRORS})
@require_roles(*ADMINS)
@paginate
def list_managed_areas(request):
    return managed_area_list(request.user).order_by("path")


@router.get("/{code}", url_name="area", operation_id="get_area",
            summary="One area with its service card (nearest contacts of each kind)",
            response={200: AreaDetailOut, 404: ProblemOut, **AUTH_ERRORS})
def get_area(request, code: Annotated[str, Line(32)]):
    return access_area_by_code(request.user, code)  # AreaDetailOut reads its card


@router.post("/{code}/contacts", url_name="area_contacts", operation_id="create_area_contact",
             summary="Add a contact line to an area",
             response={201: ContactOut, 404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS})
@require_roles(*ADMINS)
def create_area_contact(request, code: Annotated[str, Line(32)], payload: ContactIn):
    area = access_area_by_code(request.user, code, for_change=True)
    contact = services.contact_create(actor=request.user, area=area, request=request,
                                      **payload.model_dump())
    return Status(201, contact)


@router.patch("/contacts/{contact_id}", url_name="area_contact",
              operation_id="update_area_contact", summary="Change a contact line",
              response={200: ContactOut, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(*ADMINS)
def update_area_contact(request, contact_id: Id, payload: ContactPatch):
    contact = access_contact_by_id(request.user, contact_id, for_change=True)
    return services.contact_update(actor=request.user, contact=contact, request=request,
                                   **payload.model_dump(exclude_unset=True))


@router.delete("/contacts/{contact_id}", url_name="area_contact_delete",
               operation_id="delete_area_contact", summary="Remove a contact line",
               response={204: None, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(*ADMINS)
def delete_area_contact(request, contact_id: Id):
    contact = access_contact_by_id(request.user, contact_id, for_change=True)
    services.contact_delete(actor=request.user, contact=contact, request=request)
    return Status(204, None)
