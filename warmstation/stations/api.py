"""Stations: the public nearby search and station card, and the steward's console calls.
Reads of active stations are public; changes need the station's steward or an area/district
admin covering it (anything else looks missing)."""

import json
from typing import Annotated, Any, Literal

from django.apps import apps
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from warmstation.accounts.models import Role
from warmstation.accounts.selectors import worker_by_mobile
from warmstation.core import geo
from warmstation.core.errors import InvalidInput
from warmstation.core.masking import mask_mobile
from warmstation.core.pagination import Rows
from warmstation.core.permissions import require_roles
from warmstation.core.ratelimit import rate_limit
from warmstation.core.schedule import Span, describe
from warmstation.core.schemas import AUTH_ERRORS, Id, Line, ProblemOut
from warmstation.stations import selectors, services
from warmstation.stations.models import Loan
from warmstation.stations.permissions import (
    access_loan_by_id,
    access_open_loan_by_borrower,
    access_photo_by_id,
    access_station_by_id,
    loan_list,
)
from warmstation.stations.schemas import (
    AmenitiesIn,
    CheckInIn,
    ExceptionIn,
    HoursIn,
    LoanIn,
    LoanOut,
    NearbyOut,
    PhotoOut,
    ReturnIn,
    ServiceRecordIn,
    ServiceRecordOut,
    StationOut,
    StatusIn,
    StockIn,
    StockOut,
)
from warmstation.stations.selectors import NearbyResult

places_router = Router(tags=["places"])
router = Router(tags=["stations"])
STAFF = (Role.STEWARD, Role.AREA_ADMIN, Role.DISTRICT_ADMIN)
WEEKDAYS = "一二三四五六日"


def station_place(row: NearbyResult, crs: str) -> dict[str, Any]:
    """A PlaceOut as a plain dict (the hot path skips building pydantic models)."""
    s = row["station"]
    lat, lng = geo.from_wgs84(s.lat, s.lng, crs)
    return {"id": s.pk, "kind": "station", "subkind": s.kind, "name": s.name,
            "address": s.address, "lat": round(lat, 7), "lng": round(lng, 7), "crs": crs,
            "distance_m": round(row["distance_m"]), "open_now": row["open_now"],
            "is_24h": s.is_24h, "amenities": [a.code for a in s.amenity_list],
            "phone": s.phone, "url": f"/stations/{s.pk}/"}


@places_router.get("/nearby", auth=None, url_name="places_nearby", operation_id="places_nearby",
                   summary="Places near a point, nearest first (stations and meal partners)",
                   response={200: NearbyOut, 422: ProblemOut, 429: ProblemOut})
def places_nearby(
    request,
    lat: float = Query(..., ge=-90, le=90),
    lng: float = Query(..., ge=-180, le=180),
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84",
    kind: Literal["station", "meal", "all"] = "all",
    open_now: bool | None = None,
    amenity: list[Annotated[str, Line(200)]] = Query([], max_length=10),
    radius_m: int = Query(3000, ge=10, le=50_000),
    limit: int = Query(20, ge=1, le=100),
):
    """`lat`/`lng` in `crs`; results carry coordinates in the same `crs`. `open_now` is
    evaluated in Asia/Shanghai. `amenity` may repeat or be comma-separated (all must match)."""
    rate_limit(request, "search")
    wlat, wlng = geo.to_wgs84(lat, lng, crs)
    amenities = [c.strip() for a in amenity for c in a.split(",") if c.strip()]
    now = timezone.now()
    places: list[dict] = []
    # kind=all asks for stations and partners: one SQL statement for both (the partners' part
    # comes from benefits, when installed).
    merchants = None
    rest: list[tuple[Any, ...]] = []
    if kind in ("meal", "all") and not amenities and apps.is_installed("warmstation.benefits"):
        from warmstation.benefits import selectors as partners

        merchants = partners
    extra = merchants.merchant_places_sql(lat=wlat, lng=wlng, radius_m=radius_m) \
        if merchants is not None else None
    if kind in ("station", "all"):
        rows, rest = selectors.nearby_page(lat=wlat, lng=wlng, radius_m=radius_m, limit=limit,
                                           open_now=open_now, amenities=amenities, at=now,
                                           extra=extra)
        places += [station_place(r, crs) for r in rows]
    elif extra is not None:
        rest = selectors.prepared_rows(*extra)
    if merchants is not None:
        for m in merchants.merchant_places(rest, lat=wlat, lng=wlng, radius_m=radius_m,
                                           open_now=open_now, at=now, limit=limit):
            mlat, mlng = geo.from_wgs84(m["lat"], m["lng"], crs)
            places.append({
                "id": m["id"], "kind": "meal", "subkind": m["merchant_kind"],
                "name": m["name"], "address": m["address"], "lat": round(mlat, 7),
                "lng": round(mlng, 7), "crs": crs, "distance_m": round(m["distance_m"]),
                "open_now": m["open_now"], "is_24h": False, "amenities": [],
                "phone": m["phone"], "url": m["url"],
            })
    places.sort(key=lambda p: (p["distance_m"], p["kind"], p["id"]))
    places = places[:limit]
    # The hottest endpoint answers its documented NearbyOut shape directly: validating our own
    # output through pydantic cost more than the search itself (bench/RESULTS.md). The contract
    # test still checks every response against the schema.
    body = json.dumps({"crs": crs, "count": len(places), "places": places}, ensure_ascii=False)
    return HttpResponse(body, content_type="application/json; charset=utf-8")


def _stock_out(stock) -> StockOut:
    return StockOut(item=stock.item.code, name=stock.item.name_zh, quantity=stock.quantity,
                    low=stock.is_low, lendable=stock.item.lendable)


def station_out(station) -> StationOut:
    schedule = selectors.schedule_of(station)
    hours = ["24小时"] if station.is_24h else [
        f"周{WEEKDAYS[h.weekday]} {describe(Span(h.opens, h.closes))}" for h in station.hours.all()
    ]
    return StationOut(
        id=station.pk, name=station.name, kind=station.kind, kind_label=station.get_kind_display(),
        area_code=station.area.code, address=station.address, lat=station.lat, lng=station.lng,
        phone=station.phone, is_24h=station.is_24h, temporarily_closed=station.temporarily_closed,
        open_now=schedule.is_open(timezone.now()), hours=hours,
        amenities=[a.code for a in station.amenities.all()],
        shared_items=[_stock_out(s) for s in station.stock.all() if s.item.lendable],
        steward_name=station.steward.real_name if station.steward else "",
        photos=[_photo_out(p) for p in station.photos.all()],
    )


def _photo_out(photo) -> PhotoOut:
    return PhotoOut(id=photo.pk, url=photo.image.url, thumb_url=photo.thumbnail.url,
                    width=photo.width, height=photo.height, caption=photo.caption)


@router.post("/check-in", url_name="station_check_in", operation_id="check_in",
             summary="A worker checks in by the station's QR code",
             response={201: ServiceRecordOut, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(Role.WORKER)
def check_in(request, payload: CheckInIn):
    record = services.station_check_in(worker=request.user, token=payload.token, request=request)
    return Status(201, ServiceRecordOut(id=record.pk, station_id=record.station_id,
                                        kind=record.kind, service=None, at=record.at))


@router.get("/{station_id}", auth=None, url_name="station", operation_id="get_station",
            summary="A station's card: hours, amenities, shared items on the shelf",
            response={200: StationOut, 404: ProblemOut, 422: ProblemOut})
def get_station(request, station_id: Id):
    station = access_station_by_id(request.user, station_id)
    return station_out(selectors.station_page(station.pk))


@router.get("", url_name="stations_managed", operation_id="list_managed_stations",
            summary="Stations I keep (steward) or oversee (area/district admin)",
            response={200: list[StationOut], **AUTH_ERRORS})
@require_roles(*STAFF)
@paginate
def list_managed_stations(request):
    return Rows(selectors.station_card_list(request.user),
                lambda page: [station_out(s) for s in page])


def _for_change(request, station_id):
    return access_station_by_id(request.user, station_id, for_change=True)


@router.put("/{station_id}/hours", url_name="station_hours", operation_id="set_station_hours",
            summary="Replace the weekly opening hours",
            response={200: StationOut, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(*STAFF)
def set_station_hours(request, station_id: Id, payload: HoursIn):
    station = _for_change(request, station_id)
    services.station_set_hours(actor=request.user, station=station, request=request,
                               spans=[(s.weekday, s.opens, s.closes) for s in payload.spans])
    return station_out(selectors.station_page(station.pk))


@router.post("/{station_id}/status", url_name="station_status",
             operation_id="set_station_status", summary="Close temporarily / reopen; 24-hour flag",
             response={200: StationOut, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(*STAFF)
def set_station_status(request, station_id: Id, payload: StatusIn):
    station = _for_change(request, station_id)
    services.station_set_status(actor=request.user, station=station, request=request,
                                temporarily_closed=payload.temporarily_closed,
                                note=payload.note, is_24h=payload.is_24h)
    return station_out(selectors.station_page(station.pk))


@router.post("/{station_id}/exceptions", url_name="station_exception",
             operation_id="set_station_exception", summary="Hours for one date (holiday)",
             response={200: StationOut, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(*STAFF)
def set_station_exception(request, station_id: Id, payload: ExceptionIn):
    station = _for_change(request, station_id)
    services.station_set_exception(actor=request.user, station=station, request=request,
                                   **payload.model_dump())
    return station_out(selectors.station_page(station.pk))


@router.put("/{station_id}/amenities", url_name="station_amenities",
            operation_id="set_station_amenities", summary="Replace the amenities",
            response={200: StationOut, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(*STAFF)
def set_station_amenities(request, station_id: Id, payload: AmenitiesIn):
    station = _for_change(request, station_id)
    services.station_set_amenities(actor=request.user, station=station, codes=payload.codes,
                                   request=request)
    return station_out(selectors.station_page(station.pk))


@router.post("/{station_id}/stock", url_name="station_stock", operation_id="change_stock",
             summary="Goods in, out or counted",
             response={200: StockOut, 404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS})
@require_roles(*STAFF)
def change_stock(request, station_id: Id, payload: StockIn):
    station = _for_change(request, station_id)
    stock = services.stock_change(actor=request.user, station=station, item_code=payload.item,
                                  delta=payload.delta, reason=payload.reason, note=payload.note,
                                  request=request)
    return _stock_out(stock)


def _loan_out(loan: Loan) -> LoanOut:
    return LoanOut(id=loan.pk, station_id=loan.station_id, item=loan.item.code,
                   worker_masked=mask_mobile(loan.worker.mobile), lent_at=loan.lent_at,
                   due_at=loan.due_at, returned_at=loan.returned_at,
                   overdue=loan.returned_at is None and loan.due_at < timezone.now())


@router.post("/{station_id}/loans", url_name="station_loans", operation_id="lend_item",
             summary="Lend a shared item to a worker",
             response={201: LoanOut, 404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS})
@require_roles(*STAFF)
def lend_item(request, station_id: Id, payload: LoanIn):
    station = _for_change(request, station_id)
    loan = services.loan_create(actor=request.user, station=station, item_code=payload.item,
                                worker=worker_by_mobile(payload.worker_mobile),
                                hours=payload.hours, request=request)
    return Status(201, _loan_out(loan))


@router.post("/{station_id}/loans/{loan_id}/return", url_name="station_loan_return",
             operation_id="return_item", summary="Take back one of this station's own loans",
             response={200: LoanOut, 404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS})
@require_roles(*STAFF)
def return_item(request, station_id: Id, loan_id: Id):
    """`loan_id` as listed by list_loans: only a loan lent from this station. An item lent
    elsewhere comes back through return_item_by_borrower."""
    station = _for_change(request, station_id)
    loan = access_loan_by_id(request.user, loan_id, station=station)
    services.loan_return(actor=request.user, loan=loan, station=station, request=request)
    return _loan_out(loan)


@router.post("/{station_id}/returns", url_name="station_returns",
             operation_id="return_item_by_borrower",
             summary="Take an item back at this station, lent here or at any other station",
             response={200: LoanOut, 404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS})
@require_roles(*STAFF)
def return_item_by_borrower(request, station_id: Id, payload: ReturnIn):
    """The loan is found by what the worker shows — their mobile and the item — never by an id;
    the item goes onto this station's shelf. No open loan of that item for that worker: 404."""
    station = _for_change(request, station_id)
    loan = access_open_loan_by_borrower(request.user, station=station, item_code=payload.item,
                                        worker=worker_by_mobile(payload.worker_mobile))
    services.loan_return(actor=request.user, loan=loan, station=station, request=request)
    return _loan_out(loan)


@router.get("/{station_id}/loans", url_name="station_loans_list", operation_id="list_loans",
            summary="Items out on loan from this station, overdue first",
            response={200: list[LoanOut], 404: ProblemOut, **AUTH_ERRORS})
@require_roles(*STAFF)
@paginate
def list_loans(request, station_id: Id):
    station = _for_change(request, station_id)
    return Rows(loan_list(request.user, station=station).filter(returned_at=None)
                .order_by("due_at"), lambda page: [_loan_out(loan) for loan in page])


@router.post("/{station_id}/services", url_name="station_services",
             operation_id="record_service", summary="Record a service given (台账)",
             response={201: ServiceRecordOut, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(*STAFF)
def record_service(request, station_id: Id, payload: ServiceRecordIn):
    station = _for_change(request, station_id)
    record = services.service_record_create(
        actor=request.user, station=station, service_code=payload.service,
        worker=worker_by_mobile(payload.worker_mobile) if payload.worker_mobile else None,
        worker_label=payload.worker_label,
        note=payload.note, request=request)
    assert record.service is not None  # a service record always names its service
    return Status(201, ServiceRecordOut(id=record.pk, station_id=station.pk, kind=record.kind,
                                        service=record.service.code, at=record.at))


@router.post("/{station_id}/photos", url_name="station_photos", operation_id="add_station_photo",
             summary="Add a photo (re-encoded, metadata stripped)",
             response={201: PhotoOut, 404: ProblemOut, 409: ProblemOut, **AUTH_ERRORS})
@require_roles(*STAFF)
def add_station_photo(request, station_id: Id, image: File[UploadedFile],
                      caption: Annotated[str, Line(64)] = Form("")):
    station = _for_change(request, station_id)
    if (image.size or 0) > 8 * 1024 * 1024:
        raise InvalidInput(_("图片不能超过 8 MB。"), code="bad_image", field="image")
    photo = services.photo_add(actor=request.user, station=station, data=image.read(),
                               caption=caption, request=request)
    return Status(201, _photo_out(photo))


@router.delete("/{station_id}/photos/{photo_id}", url_name="station_photo",
               operation_id="delete_station_photo", summary="Remove a photo",
               response={204: None, 404: ProblemOut, **AUTH_ERRORS})
@require_roles(*STAFF)
def delete_station_photo(request, station_id: Id, photo_id: Id):
    station = _for_change(request, station_id)
    photo = access_photo_by_id(request.user, photo_id, station=station)
    services.photo_delete(actor=request.user, photo=photo, request=request)
    return Status(204, None)
