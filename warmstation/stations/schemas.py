from datetime import date, datetime, time
from typing import Literal

from ninja import Field, Schema


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
    opens: time
    closes: time = Field(..., description="not after `opens` = runs past midnight")


class HoursIn(Schema):
    spans: list[SpanIn] = Field(..., max_length=42)


class StatusIn(Schema):
    temporarily_closed: bool
    note: str = Field("", max_length=128)
    is_24h: bool | None = None


class ExceptionIn(Schema):
    date: date
    closed: bool = True
    opens: time | None = None
    closes: time | None = None
    note: str = Field("", max_length=64)


class AmenitiesIn(Schema):
    codes: list[str] = Field(..., max_length=30)


class StockIn(Schema):
    item: str = Field(..., max_length=32)
    delta: int = Field(..., ge=-10000, le=10000)
    reason: Literal["in", "out", "adjust"]
    note: str = Field("", max_length=128)


class StockOut(Schema):
    item: str
    name: str
    quantity: int
    low: bool
    lendable: bool


class LoanIn(Schema):
    item: str = Field(..., max_length=32)
    worker_mobile: str = Field(..., pattern=r"^1[3-9][0-9]{9}$")
    hours: int | None = Field(None, ge=1, le=24 * 14)


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
    service: str = Field(..., max_length=32)
    worker_mobile: str | None = Field(None, pattern=r"^1[3-9][0-9]{9}$")
    worker_label: str = Field("", max_length=64)
    note: str = Field("", max_length=255)


class ServiceRecordOut(Schema):
    id: int
    station_id: int
    kind: str
    service: str | None
    at: datetime


class CheckInIn(Schema):
    token: str = Field(..., max_length=32)


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
