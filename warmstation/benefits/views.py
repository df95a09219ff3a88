"""Pages: the worker's wallet and code screen, the merchant's counter, the area's partners."""

import uuid
from decimal import Decimal, InvalidOperation

import segno
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from warmstation.accounts.models import Role
from warmstation.accounts.pages import staff_page
from warmstation.benefits import selectors, services
from warmstation.benefits.models import Merchant, Offer
from warmstation.benefits.permissions import (
    access_merchant_by_id,
    access_offer_by_id,
    access_redemption_by_id,
    merchant_counter_list,
)
from warmstation.core.errors import ApplicationError, InvalidInput, NotFound
from warmstation.core.pagination import page_list
from warmstation.core.refusals import refused, refused_message
from warmstation.points.labels import label_entries
from warmstation.points.selectors import (
    active_holds,
    district_figures,
    earning_rule_list,
    statement,
    wallet_of,
)

ADMINS = (Role.AREA_ADMIN, Role.DISTRICT_ADMIN)
DEFAULT_CENTRE = (39.7207, 116.1101)  # 西潞街道


def _centre(request) -> tuple[float, float]:
    """Where "nearby" is: the phone's position if it sent one, else the worker's first area."""
    try:
        return float(request.GET["lat"]), float(request.GET["lng"])
    except (KeyError, ValueError):
        profile = getattr(request.user, "worker_profile", None)
        area = profile.areas.exclude(center_lat=None).first() if profile else None
        return (area.center_lat, area.center_lng) if area else DEFAULT_CENTRE


@staff_page(Role.WORKER)
def wallet(request):
    lat, lng = _centre(request)
    nearby = selectors.merchant_nearby(lat=lat, lng=lng, radius_m=5000, at=timezone.now(),
                                       limit=10)
    offers: dict[int, list[Offer]] = {}
    for o in Offer.objects.filter(merchant_id__in=[m["id"] for m in nearby], is_active=True):
        offers.setdefault(o.merchant_id, []).append(o)
    now = timezone.now()
    for m in nearby:
        m["offer_rows"] = offers.get(m["id"], [])
        for o in m["offer_rows"]:
            # No code button for what the counter would refuse: say when it is next served.
            o.next_served = selectors.offer_next_served(o, now)
            o.served_now = o.next_served is None and m["open_now"]
    entries = page_list(request, statement(user=request.user), per_page=30)
    # Stored memos are Chinese (append-only): the words around them are translated at display.
    label_entries(entries, language=request.LANGUAGE_CODE)
    return render(request, "benefits/wallet.html", {
        "wallet": wallet_of(request.user), "entries": entries, "page": entries,
        "holds": active_holds(user=request.user), "nearby": nearby,
        "codes": selectors.active_codes(worker=request.user),
        "rules": earning_rule_list().order_by("action"), "form_key": uuid.uuid4().hex,
    })


@require_POST
@staff_page(Role.WORKER)
def code_issue(request, offer_id: int):
    offer = access_offer_by_id(request.user, offer_id)
    try:
        code = services.redemption_code_issue(
            user=request.user, offer=offer, request=request,
            idempotency_key=request.POST.get("key") or uuid.uuid4().hex)
    except ApplicationError as exc:
        # The button sits in a list of offers, not a form with fields: the wallet says why.
        refused_message(request, exc)
        return redirect("benefits:wallet")
    # The digits live only in this session until the code is used: they are not stored.
    request.session[f"code:{code['redemption_id']}"] = [code["digits"], code["qr_payload"]]
    return redirect("benefits:code", redemption_id=code["redemption_id"])


@staff_page(Role.WORKER)
def code_screen(request, redemption_id: int):
    redemption = access_redemption_by_id(request.user, redemption_id)
    if redemption.worker_id != request.user.pk:
        raise NotFound()
    digits, payload = request.session.get(f"code:{redemption.pk}", [None, None])
    live = redemption.status == "issued" and redemption.expires_at > timezone.now()
    ctx = {"r": redemption, "digits": digits if live else None, "live": live,
           "qr": segno.make(payload, error="m").svg_inline(scale=6) if live and payload else ""}
    if request.htmx:
        return render(request, "benefits/code.html#status", ctx)
    return render(request, "benefits/code.html", ctx)


@staff_page(Role.MERCHANT)
def counter(request, merchant_id: int | None = None):
    merchants = list(merchant_counter_list(request.user))
    if merchant_id is None:
        if len(merchants) == 1:
            return redirect("benefits:counter_of", merchant_id=merchants[0].pk)
        return render(request, "benefits/counter_pick.html", {"merchants": merchants})
    merchant = access_merchant_by_id(request.user, merchant_id, counter=True)

    def today():
        return page_list(request, selectors.redemption_list(
            merchant=merchant, day=timezone.localdate()).filter(status="redeemed"))

    def settlement():
        return selectors.settlement_daily(merchant=merchant, day=timezone.localdate())

    ctx = {"merchant": merchant, "form_key": uuid.uuid4().hex, "today": today(),
           "settlement": settlement(), "offers": merchant.offers.all(),
           "merchant_open": selectors.schedule_of(merchant).is_open(timezone.now()),
           "merchant_hours": selectors.merchant_hours_label(merchant)}
    # Every answer replaces the outcome and the settlement together (#counter), so the last
    # code's green never stays on screen under a refusal.
    template = "benefits/counter.html#counter" if request.htmx else "benefits/counter.html"
    if request.method == "POST":
        try:
            ctx["result"] = services.redemption_redeem(
                actor=request.user, merchant=merchant, code=request.POST.get("code", ""),
                idempotency_key=request.POST.get("key") or uuid.uuid4().hex, request=request)
        except ApplicationError as exc:
            # The outcome box carries the message (not beside the field): fields=().
            return refused(request, template, ctx, exc)
        ctx["today"], ctx["settlement"] = today(), settlement()
        return render(request, template, ctx)
    return render(request, "benefits/counter.html", ctx)


OFFER_FIELDS = ("title", "description", "price", "normal_price", "points")


def _decimal(raw: str | None, field: str) -> Decimal | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():  # "NaN" and "Infinity" parse, and compare as 500s
        raise InvalidInput(_("价格格式不对。"), field=field)
    return value


@staff_page(Role.MERCHANT, *ADMINS)
def offer_edit(request, offer_id: int):
    offer = access_offer_by_id(request.user, offer_id, for_change=True)
    if request.method == "POST":
        p = request.POST
        try:
            fields = {"title": p.get("title", ""), "description": p.get("description", ""),
                      "is_active": p.get("is_active") == "on"}
            if offer.kind == Offer.Kind.MEAL:
                fields["price"] = _decimal(p.get("price"), "price")
                fields["normal_price"] = _decimal(p.get("normal_price"), "normal_price")
            else:
                try:
                    fields["points"] = int(p.get("points") or 0)
                except ValueError:
                    raise InvalidInput(_("积分须为正整数。"), field="points") from None
            services.offer_save(actor=request.user, offer=offer, request=request, **fields)
        except ApplicationError as exc:
            offer.refresh_from_db()  # the form shows what was typed, the page what is stored
            return refused(request, "benefits/offer_edit.html", {"offer": offer}, exc,
                           fields=OFFER_FIELDS)
        messages.success(request, _("已保存。"))
        return redirect("benefits:offer_edit", offer_id=offer.pk)
    return render(request, "benefits/offer_edit.html", {"offer": offer})


@staff_page(*ADMINS)
def partners(request):
    merchants = page_list(request, selectors.merchant_list(user=request.user, managed=True))
    return render(request, "benefits/partners.html", {
        "merchants": merchants, "page": merchants, "rules": earning_rule_list(user=request.user),
        "is_district": request.user.has_role(Role.DISTRICT_ADMIN),
        "figures": district_figures() if request.user.has_role(Role.DISTRICT_ADMIN) else None,
        "kinds": Merchant.Kind.choices})
