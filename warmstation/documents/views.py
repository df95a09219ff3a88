"""Service cards (暖心卡): the area's live card page (where the printed QR code leads), the card
as a PDF (business-card size, front and back), as an A4 sheet of ten with crop marks, and as a
PNG for chat; a worker's own area's card."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render

from warmstation.accounts.models import Role
from warmstation.accounts.pages import staff_page
from warmstation.documents import cards
from warmstation.documents.permissions import access_card_area_by_code
from warmstation.documents.selectors import card_data


def _file(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-cache"  # live data: always the current card
    return response


def card_page(request, code: str):
    area = access_card_area_by_code(code)
    return render(request, "documents/card.html", {"area": area, "card": card_data(area)})


def card_pdf(request, code: str):
    area = access_card_area_by_code(code)
    return _file(cards.card_pdf(card_data(area)), "application/pdf", f"card-{area.code}.pdf")


def card_sheet(request, code: str):
    area = access_card_area_by_code(code)
    return _file(cards.sheet_pdf(card_data(area)), "application/pdf",
                 f"cards-a4-{area.code}.pdf")


def card_png(request, code: str):
    area = access_card_area_by_code(code)
    return _file(cards.card_png(card_data(area)), "image/png", f"card-{area.code}.png")


@staff_page(Role.WORKER)
def my_card(request):
    profile = getattr(request.user, "worker_profile", None)
    area = profile.areas.order_by("path").first() if profile else None
    if area is None:
        return redirect("/register/")
    return redirect("cards:page", code=area.code)


# --- handbooks ---------------------------------------------------------------------------------

def _street(code: str):
    from warmstation.documents.selectors import handbook_street

    area = access_card_area_by_code(code)
    street = handbook_street(area)
    if street is None or street.pk != area.pk:
        from warmstation.core.errors import NotFound

        raise NotFound()
    return street


def _stored_handbook(street):
    from warmstation.documents.models import Handbook
    from warmstation.documents.services import handbook_generate

    handbook = Handbook.objects.filter(street=street).first()
    if handbook is None or not handbook.plain or not handbook.plain_en:
        handbook = handbook_generate(street=street)  # the first time: made now, then stored
    return handbook


def handbook_page(request, code: str):
    street = _street(code)
    return render(request, "documents/handbook.html",
                  {"street": street, "handbook": _stored_handbook(street)})


def handbook_file(request, code: str, kind: str):
    from django.http import FileResponse

    from warmstation.documents.services import handbook_edition

    street = _street(code)
    handbook = _stored_handbook(street)
    plain, booklet = handbook_edition(getattr(request, "LANGUAGE_CODE", ""))
    field = getattr(handbook, plain if kind == "a5" else booklet)
    response = FileResponse(field.open("rb"), content_type="application/pdf")
    day = f"{handbook.data_as_of:%Y%m%d}" if handbook.data_as_of else ""
    response["Content-Disposition"] = f'inline; filename="handbook-{street.code}-{kind}-{day}.pdf"'
    response["Last-Modified"] = handbook.generated_at.strftime("%a, %d %b %Y %H:%M:%S GMT") \
        if handbook.generated_at else ""
    return response
