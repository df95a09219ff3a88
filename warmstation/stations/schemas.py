from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Schema

from warmstation.core.schemas import ClockTime, Day, Line, Mobile, Text
from warmstation.stations.models import STOCK_DELTA_MAX


class PlaceOut(Schema):
    """One place in a nearby search: a station or (kind=meal) a partner merchant."""

    id: int
    kind: Literal["station", "meal"]
    subkind: str
    name: str
    address: str
    lat: float
    lng: float
    crs: str
    distance_m: int
    open_now: bool
    is_24h: bool = False
    amenities: list[str] = []
    phone: str = ""
    url: str = ""


class NearbyOut(Schema):
    crs: str
    count: int
    places: list[PlaceOut]


class SpanIn(Schema):
    weekday: int = Field(..., ge=0, le=6, description="0 = Monday")
    opens: ClockTime
    closes: ClockTime = Field(..., description="not after `opens` = runs past midnight")


class HoursIn(Schema):
    spans: list[SpanIn] = Field(..., max_length=42)


class StatusIn(Schema):
    temporarily_closed: bool
    note: Annotated[str, Line(128)] = ""
    is_24h: bool | None = None


class ExceptionIn(Schema):
    date: Day
    closed: bool = True
    opens: ClockTime | None = None
    closes: ClockTime | None = None
    note: Annotated[str, Line(64)] = ""


class AmenitiesIn(Schema):
    codes: list[Annotated[str, Line(32)]] = Field(..., max_length=30)


class StockIn(Schema):
    item: Annotated[str, Line(32)]
    delta: int = Field(..., ge=-STOCK_DELTA_MAX, le=STOCK_DELTA_MAX)
    reason: Literal["in", "out", "adjust"]
    note: Annotated[str, Line(128)] = ""


class StockOut(Schema):
    item: str
    name: str
    quantity: int
    low: bool
    lendable: bool


class LoanIn(Schema):
    item: Annotated[str, Line(32)]
    worker_mobile: Mobile
    hours: int | None = Field(None, ge=1, le=24 * 14)


class ReturnIn(Schema):
    """What the worker shows at the counter: their mobile and the item in their hand."""

    item: Annotated[str, Line(32)]
    worker_mobile: Mobile


class LoanOut(Schema):
    id: int
    station_id: int
    item: str
    worker_masked: str
    lent_at: datetime
    due_at: datetime
    returned_at: datetime | None
    overdue: bool


class ServiceRecordIn(Schema):
    service: Annotated[str, Line(32)]
    worker_mobile: Mobile | None = None
    worker_label: Annotated[str, Line(64)] = ""
    note: Annotated[str, Text(255)] = ""


class ServiceRecordOut(Schema):
    id: int
    station_id: int
    kind: str
    service: str | None
    at: datetime


class CheckInIn(Schema):
    token: Annotated[str, Line(32)]


class PhotoOut(Schema):
    id: int
    url: str
    thumb_url: str
    width: int
    height: int
    caption: str


class StationOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    area_code: str
    address: str
    lat: float
    lng: float
    phone: str
    is_24h: bool
    temporarily_closed: bool
    open_now: bool
    hours: list[str]
    amenities: list[str]
    shared_items: list[StockOut]
    steward_name: str
    photos: list[PhotoOut] = []
