"""Reads: the nearby search of meal partners (called by the shared /places/nearby), offers,
redemptions and the daily settlement."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from warmstation.areas.scoping import scope_q
from warmstation.benefits.models import Merchant, Offer, Redemption
from warmstation.core import geo
from warmstation.core.schedule import Schedule, Span
from warmstation.core.time import LOCAL
from warmstation.stations.selectors import cells_sql

if TYPE_CHECKING:
    from warmstation.accounts.models import User


class OfferLine(TypedDict):
    title: str
    price: float | None
    normal_price: float | None
    points: int | None


def schedule_of(merchant: Merchant) -> Schedule:
    span = Span(merchant.opens, merchant.closes)
    return Schedule(weekly={d: [span] for d in range(7)}, closed=merchant.temporarily_closed,
                    is_24h=merchant.opens == merchant.closes)


def merchant_hours_label(merchant: Merchant) -> str:
    """Its opening hours as the counter and the wallet print them: 全天 or 10:00–21:00."""
    if merchant.opens == merchant.closes:
        return str(_("全天"))
    return f"{merchant.opens:%H:%M}–{merchant.closes:%H:%M}"


def offer_served_now(offer: Offer, at: datetime) -> bool:
    """Whether `offer` is served at `at` (its serving hours, local time; none = whenever the
    merchant is open)."""
    if offer.serve_from is None or offer.serve_until is None:
        return True
    t = at.astimezone(LOCAL).time()
    if offer.serve_from <= offer.serve_until:
        return offer.serve_from <= t < offer.serve_until
    return t >= offer.serve_from or t < offer.serve_until


def offer_next_served(offer: Offer, at: datetime) -> datetime | None:
    """When `offer` is next served after `at` (None if it is served now or has no hours)."""
    if offer.serve_from is None or offer_served_now(offer, at):
        return None
    local = at.astimezone(LOCAL)
    start = local.replace(hour=offer.serve_from.hour, minute=offer.serve_from.minute, second=0,
                          microsecond=0)
    return start if start > local else start + timedelta(days=1)


def _offer_line(o: Offer) -> OfferLine:
    return {"title": o.title, "price": float(o.price) if o.price is not None else None,
            "normal_price": float(o.normal_price) if o.normal_price is not None else None,
            "points": o.points}


def merchant_nearby(*, lat: float, lng: float, radius_m: float, open_now: bool | None = None,
                    at: datetime | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """Active partner merchants within radius_m of (lat, lng) WGS-84, nearest first, with
    exact distances; candidates come from the grid-cell index, never a scan of the table."""
    at = at or timezone.now()
    field, cells = geo.covering_cells(lat, lng, radius_m)
    min_lat, min_lng, max_lat, max_lng = geo.bbox(lat, lng, radius_m)
    rows = Merchant.objects.filter(**{f"{field}__in": cells}, is_active=True,
                                   lat__gte=min_lat, lat__lte=max_lat,
                                   lng__gte=min_lng, lng__lte=max_lng) \
        .order_by().values_list("pk", "lat", "lng", "opens", "closes", "temporarily_closed")
    ranked: list[tuple[float, int, bool]] = []
    for pk, mlat, mlng, opens, closes, closed in rows:
        d = geo.distance_m(lat, lng, mlat, mlng)
        if d > radius_m:
            continue
        is_open = Schedule(weekly={x: [Span(opens, closes)] for x in range(7)}, closed=closed,
                           is_24h=opens == closes).is_open(at)
        if open_now is not None and is_open != open_now:
            continue
        ranked.append((d, pk, is_open))
    ranked.sort()
    ranked = ranked[:limit]
    if not ranked:
        return []
    merchants = Merchant.objects.in_bulk([pk for _d, pk, _o in ranked])
    offers: dict[int, list[Offer]] = {}
    for o in Offer.objects.filter(merchant_id__in=merchants.keys(), is_active=True) \
            .order_by("merchant_id", "kind", "price", "points", "pk"):
        offers.setdefault(o.merchant_id, []).append(o)
    out: list[dict[str, Any]] = []
    for d, pk, is_open in ranked:
        m = merchants[pk]
        out.append({"id": m.pk, "kind": "meal", "name": m.name, "merchant_kind": m.kind,
                    "address": m.address, "lat": m.lat, "lng": m.lng, "distance_m": d,
                    "open_now": is_open, "phone": m.phone,
                    "url": f"/wallet/#merchant-{m.pk}",
                    "offers": [_offer_line(o) for o in offers.get(pk, [])[:3]]})
    return out


def _time(value: Any) -> Any:
    from datetime import time

    return value if isinstance(value, time) else time.fromisoformat(value)  # SQLite gives str


MERCHANT_TAG = 9


def merchant_places_sql(*, lat: float, lng: float, radius_m: float) -> tuple[str, list[Any]]:
    """The candidate partners near (lat, lng) as one SELECT in the shape of the nearby search's
    single statement (stations.selectors.nearby_page: 14 columns, tag MERCHANT_TAG), so the
    shared /places/nearby reads stations and partners in one round trip."""
    field, cells = geo.covering_cells(lat, lng, radius_m)
    min_lat, min_lng, max_lat, max_lng = geo.bbox(lat, lng, radius_m)
    in_cells, params = cells_sql(field, cells)
    sql = (f"SELECT {MERCHANT_TAG}, id, lat, lng, temporarily_closed, CAST(NULL AS boolean), "  # noqa: S608
           "name, kind, address, phone, CAST(NULL AS integer), CAST(NULL AS date), opens, "
           f"closes FROM {Merchant._meta.db_table} WHERE {in_cells} "
           "AND is_active = %s AND lat BETWEEN %s AND %s AND lng BETWEEN %s AND %s")
    return sql, [*params, True, min_lat, max_lat, min_lng, max_lng]


def merchant_places(rows: list[tuple[Any, ...]], *, lat: float, lng: float, radius_m: float,
                    open_now: bool | None, at: datetime, limit: int) -> list[dict[str, Any]]:
    """What the shared /places/nearby shows of partners (no offers), from the rows of
    merchant_places_sql: the same merchants, order and open/closed as merchant_nearby."""
    ranked: list[tuple[float, int, bool, tuple[Any, ...]]] = []
    for row in rows:
        pk, mlat, mlng, closed, opens, closes = row[1], row[2], row[3], row[4], row[12], row[13]
        d = geo.distance_m(lat, lng, mlat, mlng)
        if d > radius_m:
            continue
        opens, closes = _time(opens), _time(closes)
        is_open = Schedule(weekly={x: [Span(opens, closes)] for x in range(7)},
                           closed=bool(closed), is_24h=opens == closes).is_open(at)
        if open_now is not None and is_open != open_now:
            continue
        ranked.append((d, pk, is_open, row))
    ranked.sort(key=lambda r: (r[0], r[1]))
    return [{"id": pk, "merchant_kind": row[7], "name": row[6], "address": row[8],
             "lat": row[2], "lng": row[3], "distance_m": d, "open_now": is_open,
             "phone": row[9], "url": f"/wallet/#merchant-{pk}"}
            for d, pk, is_open, row in ranked[:limit]]


def merchant_list(*, user: User | None = None, area_code: str | None = None, kind: str | None = None,
                  managed: bool = False) -> QuerySet[Merchant]:
    """Active partners (everyone signed in), or with `managed` those the user's area covers."""
    qs = Merchant.objects.select_related("area").prefetch_related(
        Prefetch("offers", queryset=Offer.objects.filter(is_active=True)))
    qs = qs.filter(scope_q(user)) if managed else qs.filter(is_active=True)
    if area_code and "\x00" not in area_code:
        qs = qs.filter(area__path__contains=f"/{area_code}/")
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("area__path", "name", "pk")


def redemption_list(*, merchant: Merchant | None = None, worker: User | None = None, day: date | None = None,
                    visible: Q | None = None) -> QuerySet[Redemption]:
    qs = Redemption.objects.select_related("offer", "merchant").order_by("-id")
    if visible is not None:
        qs = qs.filter(visible).distinct()
    if merchant is not None:
        qs = qs.filter(merchant=merchant)
    if worker is not None:
        qs = qs.filter(worker=worker)
    if day is not None:
        start = datetime.combine(day, datetime.min.time(), tzinfo=LOCAL)
        qs = qs.filter(redeemed_at__gte=start, redeemed_at__lt=start + timedelta(days=1))
    return qs


def settlement_daily(*, merchant: Merchant, day: date) -> dict[str, Any]:
    """One merchant's day (Shanghai): codes redeemed, meals sold and their discount, points
    taken — what the district settles with the merchant."""
    qs = redemption_list(merchant=merchant, day=day).filter(status=Redemption.Status.REDEEMED)
    meals = qs.filter(points=None).aggregate(n=Count("id"), paid=Sum("price"),
                                             normal=Sum("normal_price"))
    pts = qs.exclude(points=None).aggregate(n=Count("id"), points=Sum("points"))
    paid, normal = meals["paid"] or 0, meals["normal"] or 0
    return {"merchant_id": merchant.pk, "merchant": merchant.name, "day": day.isoformat(),
            "meals": meals["n"], "meals_paid": float(paid),
            "discount_given": float(normal - paid) if normal else 0.0,
            "points_redemptions": pts["n"], "points": pts["points"] or 0}


def active_codes(*, worker: User) -> QuerySet[Redemption]:
    return Redemption.objects.filter(worker=worker, status=Redemption.Status.ISSUED,
                                     expires_at__gt=timezone.now()).select_related("merchant")
