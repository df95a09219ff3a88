"""Every write about stations: the station itself and its hours, its cabinet (stock in and out,
lending and returns), and its ledger of services and check-ins."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from warmstation.core import geo
from warmstation.core.audit import audit_record
from warmstation.core.errors import Conflict, InvalidInput, NotFound
from warmstation.core.images import reencode_image
from warmstation.core.inputs import check_date, clean_text, normalise_optional_phone
from warmstation.core.schedule import WEEKDAY_LABELS, Span, describe, overlapping
from warmstation.stations.models import (
    STOCK_DELTA_MAX,
    Amenity,
    GoodsItem,
    HoursException,
    Loan,
    OpeningHours,
    ServiceItem,
    ServiceRecord,
    Station,
    StationPhoto,
    Stock,
    StockMovement,
)

if TYPE_CHECKING:
    from warmstation.accounts.models import User


def station_save(*, actor: User, station: Station, request: HttpRequest | None = None, **fields: Any) -> Station:
    """Create (unsaved `station`) or update a station; cells follow the location."""
    for key, value in fields.items():
        setattr(station, key, value)
    if not (-90 <= station.lat <= 90 and -180 <= station.lng <= 180):
        raise InvalidInput(_("坐标超出范围。"), field="lat")
    station.phone = normalise_optional_phone(station.phone)
    station.cell_s, station.cell_l = geo.cells_of(station.lat, station.lng)
    if not station.checkin_token:
        station.checkin_token = Station.new_checkin_token()
    created = station.pk is None
    station.full_clean()
    with transaction.atomic():
        station.save()
        audit_record("station.create" if created else "station.update", actor=actor,
                     obj=station, request=request, detail={k: str(v) for k, v in fields.items()})
    return station


def station_set_status(*, actor: User, station: Station, temporarily_closed: bool, note: str = "",
                       is_24h: bool | None = None, request: HttpRequest | None = None) -> Station:
    note = clean_text(note, max_length=128, field="closed_note")
    with transaction.atomic():
        station.temporarily_closed = temporarily_closed
        station.closed_note = note if temporarily_closed else ""
        if is_24h is not None:
            station.is_24h = is_24h
        station.save(update_fields=["temporarily_closed", "closed_note", "is_24h", "updated_at"])
        audit_record("station.status", actor=actor, obj=station, request=request,
                     detail={"closed": temporarily_closed, "note": station.closed_note,
                             "is_24h": station.is_24h})
    return station


def station_set_hours(*, actor: User, station: Station, spans: list[tuple[int, time, time]],
                      request: HttpRequest | None = None) -> None:
    """Replace the weekly hours. A span whose close is not after its open runs overnight."""
    for weekday, opens, closes in spans:
        if not 0 <= weekday <= 6:
            raise InvalidInput(_("星期须为 0–6（周一至周日）。"), field="weekday")
        if opens == closes and opens != time(0):
            raise InvalidInput(_("开门和关门时间不能相同（全天请用 00:00–00:00）。"))
    clash = overlapping([(w, Span(o, c)) for w, o, c in spans])
    if clash is not None:
        raise InvalidInput(_("%(day)s的营业时段重复或重叠：%(a)s 与 %(b)s。"),
                           params={"day": WEEKDAY_LABELS[clash[0]], "a": describe(clash[1]),
                                   "b": describe(clash[2])},
                           code="overlapping_hours", field="weekday")
    with transaction.atomic():
        station.hours.all().delete()
        OpeningHours.objects.bulk_create(
            OpeningHours(station=station, weekday=w, opens=o, closes=c) for w, o, c in spans
        )
        audit_record("station.hours", actor=actor, obj=station, request=request,
                     detail={"spans": [f"{w} {o:%H:%M}-{c:%H:%M}" for w, o, c in spans]})


def station_set_exception(*, actor: User, station: Station, date: date, closed: bool,
                          opens: time | None = None, closes: time | None = None, note: str = "", request: HttpRequest | None = None) -> HoursException:
    check_date(date, field="date")
    if date < timezone.localdate():
        # A past date would be stored and never shown (the console lists today onwards).
        raise InvalidInput(_("不能设置已经过去的日期。"), code="date_past", field="date")
    note = clean_text(note, max_length=64, field="note")
    if not closed and (opens is None or closes is None):
        raise InvalidInput(_("请填写当天的开门和关门时间。"), field="opens")
    with transaction.atomic():
        exc, _created = HoursException.objects.update_or_create(
            station=station, date=date,
            defaults={"closed": closed, "opens": None if closed else opens,
                      "closes": None if closed else closes, "note": note},
        )
        audit_record("station.exception", actor=actor, obj=station, request=request,
                     detail={"date": str(date), "closed": closed})
    return exc


def station_delete_exception(*, actor: User, station: Station, exception: HoursException,
                             request: HttpRequest | None = None) -> None:
    """Remove a special date: the station keeps its weekly hours on that day."""
    with transaction.atomic():
        detail = {"date": str(exception.date), "closed": exception.closed}
        exception.delete()
        audit_record("station.exception_delete", actor=actor, obj=station, request=request,
                     detail=detail)


def station_set_amenities(*, actor: User, station: Station, codes: list[str], request: HttpRequest | None = None) -> None:
    amenities = list(Amenity.objects.filter(code__in=codes))
    unknown = set(codes) - {a.code for a in amenities}
    if unknown:
        raise InvalidInput(_("未知的设施：%(codes)s"), params={"codes": ", ".join(sorted(unknown))},
                           field="amenity")
    with transaction.atomic():
        station.amenities.set(amenities)
        audit_record("station.amenities", actor=actor, obj=station, request=request,
                     detail={"amenities": sorted(codes)})


# --- the cabinet ------------------------------------------------------------------------------

def _item(code: str) -> GoodsItem:
    item = GoodsItem.objects.filter(code=code).first()
    if item is None:
        raise InvalidInput(_("未知的物品。"), code="unknown_item", field="item")
    return item


def stock_change(*, actor: User, station: Station, item_code: str, delta: int, reason: str,
                 note: str = "", request: HttpRequest | None = None) -> Stock:
    """Receive (delta > 0), give out or count (delta < 0) goods, at most STOCK_DELTA_MAX at a
    time. Refuses to go below zero."""
    if not -STOCK_DELTA_MAX <= delta <= STOCK_DELTA_MAX:
        raise InvalidInput(_("数量须为 1 至 %(max)s 之间的整数。"), params={"max": STOCK_DELTA_MAX},
                           code="invalid_number", field="quantity")
    note = clean_text(note, max_length=128, field="note")
    if reason not in (StockMovement.Reason.IN, StockMovement.Reason.OUT,
                      StockMovement.Reason.ADJUST) or delta == 0:
        raise InvalidInput(_("数量或类型无效。"), field="quantity")
    if reason == StockMovement.Reason.IN and delta < 0 or \
            reason == StockMovement.Reason.OUT and delta > 0:
        raise InvalidInput(_("入库须为正数，发放须为负数。"), field="quantity")
    item = _item(item_code)
    with transaction.atomic():
        stock, _created = Stock.objects.get_or_create(station=station, item=item)
        # One conditional UPDATE: concurrent givers cannot take the count below zero.
        updated = Stock.objects.filter(pk=stock.pk, quantity__gte=-delta if delta < 0 else 0) \
            .update(quantity=F("quantity") + delta)
        if not updated:
            raise Conflict(f"{item.name_zh}库存不足。",
                           f"Not enough {item.name_en or item.code} in stock.", code="out_of_stock")
        StockMovement.objects.create(station=station, item=item, delta=delta, reason=reason,
                                     note=note, actor=actor)
        audit_record("stock.change", actor=actor, obj=station, request=request,
                     detail={"item": item.code, "delta": delta, "reason": reason})
        stock.refresh_from_db()
    return stock


def loan_create(*, actor: User, station: Station, item_code: str, worker: User | None, hours: int | None = None,
                request: HttpRequest | None = None) -> Loan:
    """Lend one shared item. Never more than on the shelf, whatever the concurrency: the stock
    row is decremented by a conditional UPDATE (and the database refuses a negative count)."""
    item = _item(item_code)
    if not item.lendable:
        raise Conflict(_("该物品不可借用。"), code="not_lendable")
    if worker is None or not worker.is_active:
        raise InvalidInput(_("请先确认借用人。"), code="no_borrower", field="mobile")
    with transaction.atomic():
        try:
            taken = Stock.objects.filter(station=station, item=item, quantity__gte=1) \
                .update(quantity=F("quantity") - 1)
        except IntegrityError:
            taken = 0
        if not taken:
            raise Conflict(f"{item.name_zh}已借完。", f"No {item.name_en or item.code} left to lend.",
                           code="out_of_stock")
        loan = Loan.objects.create(
            station=station, item=item, worker=worker, lent_by=actor,
            due_at=timezone.now() + timedelta(hours=hours or item.loan_hours),
        )
        StockMovement.objects.create(station=station, item=item, delta=-1,
                                     reason=StockMovement.Reason.LEND, actor=actor,
                                     note=f"loan {loan.pk}")
        audit_record("loan.create", actor=actor, obj=loan, request=request,
                     detail={"station": station.pk, "item": item.code, "worker": worker.pk})
    return loan


def loan_return(*, actor: User, loan: Loan, station: Station | None = None, request: HttpRequest | None = None) -> Loan:
    """Take an item back (at any station of the same item: it goes on that station's shelf).
    Returning twice is refused."""
    station = station or loan.station
    with transaction.atomic():
        now = timezone.now()
        if not Loan.objects.filter(pk=loan.pk, returned_at=None).update(returned_at=now):
            raise Conflict(_("该物品已归还。"), code="already_returned")
        stock, _created = Stock.objects.get_or_create(station=station, item=loan.item)
        Stock.objects.filter(pk=stock.pk).update(quantity=F("quantity") + 1)
        StockMovement.objects.create(station=station, item=loan.item, delta=1,
                                     reason=StockMovement.Reason.RETURN, actor=actor,
                                     note=f"loan {loan.pk}")
        audit_record("loan.return", actor=actor, obj=loan, request=request,
                     detail={"station": station.pk})
        loan.returned_at = now
    return loan


# --- the ledger of services (台账) --------------------------------------------------------------

def service_record_create(*, actor: User, station: Station, service_code: str, worker: User | None = None,
                          worker_label: str = "", note: str = "", at: datetime | None = None,
                          request: HttpRequest | None = None) -> ServiceRecord:
    service = ServiceItem.objects.filter(code=service_code).first()
    if service is None:
        raise InvalidInput(_("请选择服务项目。"), code="unknown_service", field="service")
    worker_label = clean_text(worker_label, max_length=64, field="name")
    note = clean_text(note, max_length=255, multiline=True, field="note")
    at = at or timezone.now()
    if at > timezone.now() + timedelta(minutes=5):
        raise InvalidInput(_("服务时间不能晚于现在。"), field="at")
    with transaction.atomic():
        record = ServiceRecord.objects.create(
            station=station, kind=ServiceRecord.Kind.SERVICE, service=service, worker=worker,
            worker_label=worker_label, note=note, at=at,
            recorded_by=actor,
        )
        audit_record("service_record.create", actor=actor, obj=record, request=request,
                     detail={"station": station.pk, "service": service.code})
    return record


def station_check_in(*, worker: User, token: str, request: HttpRequest | None = None) -> ServiceRecord:
    """A worker scans the station's QR code. One check-in per worker per station per hour
    counts (a re-scan returns the earlier one)."""
    station = Station.objects.filter(checkin_token=token or "", is_active=True).first()
    if station is None:
        raise NotFound(_("二维码无效。"), code="bad_token")
    now = timezone.now()
    with transaction.atomic():
        recent = ServiceRecord.objects.filter(
            station=station, worker=worker, kind=ServiceRecord.Kind.CHECK_IN,
            at__gte=now - timedelta(hours=1),
        ).first()
        if recent:
            return recent
        record = ServiceRecord.objects.create(station=station, kind=ServiceRecord.Kind.CHECK_IN,
                                              worker=worker, at=now)
        audit_record("station.check_in", actor=worker, obj=record, request=request,
                     detail={"station": station.pk})
    return record


# --- photos -----------------------------------------------------------------------------------

MAX_PHOTOS = 12


def photo_add(*, actor: User, station: Station, data: bytes, caption: str = "",
              request: HttpRequest | None = None) -> StationPhoto:
    """Add a picture: re-encoded (no EXIF/GPS), resized, with a thumbnail."""
    if station.photos.count() >= MAX_PHOTOS:
        raise Conflict(_("每个驿站最多 %(n)s 张照片。"), params={"n": MAX_PHOTOS}, code="too_many")
    caption = clean_text(caption, max_length=64, field="caption")
    picture = reencode_image(data)
    name = secrets.token_hex(8)
    photo = StationPhoto(station=station, width=picture.width, height=picture.height,
                         caption=caption, uploaded_by=actor)
    photo.image.save(f"{name}.jpg", ContentFile(picture.full), save=False)
    photo.thumbnail.save(f"{name}-t.jpg", ContentFile(picture.thumb), save=False)
    try:
        with transaction.atomic():
            photo.save()
            audit_record("station.photo_add", actor=actor, obj=station, request=request,
                         detail={"photo": photo.pk})
    except Exception:
        photo.image.delete(save=False)  # no orphan files for a row that was not written
        photo.thumbnail.delete(save=False)
        raise
    return photo


def photo_delete(*, actor: User, photo: StationPhoto, request: HttpRequest | None = None) -> None:
    station = photo.station
    with transaction.atomic():
        audit_record("station.photo_delete", actor=actor, obj=station, request=request,
                     detail={"photo": photo.pk})
        photo.delete()
    # Files go after the commit: a rolled-back delete must not lose the picture.
    photo.image.delete(save=False)
    photo.thumbnail.delete(save=False)
