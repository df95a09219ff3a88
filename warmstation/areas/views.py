"""Area admins' pages: the areas they run and the contact lines on each area's service card."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from warmstation.accounts.models import Role
from warmstation.accounts.pages import staff_page
from warmstation.areas import services
from warmstation.areas.models import AreaContact
from warmstation.areas.permissions import access_area_by_code, access_contact_by_id
from warmstation.areas.scoping import managed_area_list
from warmstation.areas.selectors import area_card
from warmstation.core.errors import ApplicationError
from warmstation.core.refusals import refused

ADMINS = (Role.AREA_ADMIN, Role.DISTRICT_ADMIN)


CONTACT_FIELDS = ("kind", "name", "phone", "address", "hours")


@staff_page(*ADMINS)
def area_list(request):
    return render(request, "areas/list.html", {"areas": managed_area_list(request.user)})


@staff_page(*ADMINS)
def area_detail(request, code: str):
    area = access_area_by_code(request.user, code, for_change=True)
    ctx = {"area": area, "own": area.contacts.all(), "card": area_card(area),
           "kinds": AreaContact.Kind.choices, "children": area.children.all()}
    if request.method == "POST":
        try:
            services.contact_create(
                actor=request.user, area=area, request=request,
                kind=request.POST.get("kind", ""), name=request.POST.get("name", ""),
                phone=request.POST.get("phone", ""), address=request.POST.get("address", ""),
                hours=request.POST.get("hours", ""),
            )
        except ApplicationError as exc:
            return refused(request, "areas/detail.html", {**ctx, "form": request.POST}, exc,
                           fields=CONTACT_FIELDS)
        messages.success(request, _("已添加。"))
        return redirect("areas:detail", code=area.code)
    return render(request, "areas/detail.html", ctx)


@require_POST
@staff_page(*ADMINS)
def contact_delete(request, contact_id: int):
    contact = access_contact_by_id(request.user, contact_id, for_change=True)
    code = contact.area.code
    services.contact_delete(actor=request.user, contact=contact, request=request)
    messages.success(request, _("已删除。"))
    return redirect("areas:detail", code=code)
