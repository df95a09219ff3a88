"""Judging the rows of a base-data spreadsheet, and writing them through the owning apps'
services. A row is judged whole (every cell that is wrong is named, with its column and the
problem in both languages), against the database as it is now and against the rows above it in
the same file (a second row for the same worker, station or merchant is a duplicate).

Each kind has a natural key, so that importing the same file twice changes nothing:
a worker is their mobile; a station or a merchant is its name within its area. A row whose
values equal what is stored is "unchanged" and is not written at all; a row that differs is an
"update" (the report names the columns that change); a new key is a "create".

An area admin imports only into their own areas: a row for another area is refused (per row,
the others go on). Coordinates are converted to WGS-84 from the declared system; a point outside
China is refused, and a point that lies outside the district, or far from its area's centre
while it would lie near it read in another system, is refused with a hint (the common mistake
is a position copied from AMap or Baidu and labelled GPS)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from warmstation.accounts.models import Brand, User, WorkerProfile
from warmstation.areas.models import Area
from warmstation.areas.scoping import area_in_scope
from warmstation.benefits.models import Merchant
from warmstation.core import geo
from warmstation.core.errors import ApplicationError, InvalidInput
from warmstation.core.inputs import normalise_mobile, normalise_optional_phone
from warmstation.core.masking import mask_mobile
from warmstation.dashboard import importing_columns as cols
from warmstation.dashboard.importing_columns import COLUMNS, Column
from warmstation.stations.models import Station

if TYPE_CHECKING:
    from warmstation.dashboard.importing import Table

# How far from an area's centre its places may lie (centres are estimates: generous).
RADIUS_M = {
    "district": 70_000,
    "area": 10_000,
    "street": 6_000,
    "town": 12_000,
    "township": 15_000,
    "community": 800,
    "village": 1_500,
}
COORD_DIGITS = 6  # stored positions are rounded to ~0.1 m, so a re-import compares equal


@dataclass
class RowResult:
    row: int
    label: str = ""
    action: str = "error"  # create | update | unchanged | error
    values: dict[str, Any] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)

    def fail(self, column: Column | None, error: ApplicationError) -> None:
        self.errors.append(
            {
                "column": column.key if column else "",
                "column_zh": column.zh if column else "",
                "column_en": column.en if column else "",
                "zh": error.message_zh,
                "en": error.message_en,
            }
        )

    def report(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "label": self.label,
            "action": self.action,
            "changes": self.changes,
            "errors": self.errors,
        }


class Context:
    """What judging a file needs, read once: the areas (by code and by name), the brands, the
    actor's scope."""

    def __init__(self, actor: User) -> None:
        self.actor = actor
        self.areas = {a.code: a for a in Area.objects.all()}
        self.by_name: dict[str, list[Area]] = {}
        for a in self.areas.values():
            self.by_name.setdefault(a.name_zh, []).append(a)
        self.brands = {b.code: b for b in Brand.objects.all()}
        self.brands_by_name = {b.name_zh: b for b in self.brands.values()}

    def area(self, value: str) -> Area:
        area = self.areas.get(value)
        if area is None:
            found = self.by_name.get(value, [])
            if len(found) > 1:
                raise InvalidInput(
                    _("有多个区域叫“%(name)s”：请填区域代码。"),
                    params={"name": value},
                    code="ambiguous_area",
                )
            area = found[0] if found else None
        if area is None:
            raise InvalidInput(
                _("未知的区域“%(name)s”：请填区域代码或区域全称。"),
                params={"name": value},
                code="unknown_area",
            )
        if not area_in_scope(self.actor, area):
            raise InvalidInput(
                _("区域“%(name)s”不在您管辖的范围内。"),
                params={"name": area.name_zh},
                code="area_out_of_scope",
            )
        return area

    def centre(self, area: Area) -> tuple[float, float, float] | None:
        """The nearest known centre at or above `area`, with the radius its level allows."""
        for code in reversed([c for c in area.path.strip("/").split("/") if c]):
            a = self.areas.get(code)
            if a is not None and a.center_lat is not None and a.center_lng is not None:
                return a.center_lat, a.center_lng, RADIUS_M.get(a.level, 10_000)
        return None

    def root(self, area: Area) -> Area | None:
        return self.areas.get(area.path.strip("/").split("/")[0])


def _cell(cells: list[Any], columns: dict[str, int], key: str) -> Any:
    i = columns.get(key)
    return cells[i] if i is not None and i < len(cells) else None


DEFAULTS = {"is_24h": False}  # an optional cell left blank
NUMERIC_KEYS = {"lat", "lng", "opens", "closes"}  # read as numbers (a time is a day's fraction)


def _read(
    result: RowResult,
    kind: str,
    cells: list[Any],
    columns: dict[str, int],
    readers: dict[str, Callable[[Any, Column], Any]],
) -> dict[str, Any]:
    """Each known column read by its reader (text by default); a failure is noted per column."""
    values: dict[str, Any] = {}
    for column in COLUMNS[kind]:
        if column.key not in columns and not column.required:
            continue
        raw = _cell(cells, columns, column.key)
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)  # a mobile typed into Excel comes back as 13800000000.0
        if isinstance(raw, (int, float)) and column.key not in NUMERIC_KEYS:
            raw = str(raw)  # an area code, a mobile typed as a number: text from here on
        try:
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                if column.required:
                    raise InvalidInput(_("必填，不能为空。"), code="required")
                values[column.key] = DEFAULTS.get(column.key, "")
                continue
            value = (
                cols.text(raw, column) if isinstance(raw, str) or column.key not in readers else raw
            )
            if column.key in readers:
                value = readers[column.key](value, column)
            values[column.key] = value
        except ApplicationError as exc:
            result.fail(column, exc)
    return values


def _column(kind: str, key: str) -> Column:
    return next(c for c in COLUMNS[kind] if c.key == key)


def _position(
    result: RowResult, kind: str, values: dict[str, Any], ctx: Context, area: Area | None
) -> None:
    """lat/lng/crs → WGS-84 in values["lat"], values["lng"] (or a noted failure)."""
    if not {"lat", "lng", "crs"} <= set(values):
        return
    lat, lng, crs = values.pop("lat"), values.pop("lng"), values.pop("crs")
    col = _column(kind, "lat")
    if not geo.in_china(lat, lng):
        if geo.in_china(lng, lat):
            result.fail(
                col,
                InvalidInput(
                    _("坐标不在中国境内：纬度和经度可能填反了。"), code="swapped_coordinates"
                ),
            )
        else:
            result.fail(col, InvalidInput(_("坐标不在中国境内。"), code="outside_china"))
        return
    wlat, wlng = geo.to_wgs84(lat, lng, crs)
    if area is not None:
        root = ctx.root(area)
        district = ctx.centre(root) if root is not None else None
        if district and geo.distance_m(wlat, wlng, district[0], district[1]) > district[2]:
            fits = geo.crs_readings_near(
                lat, lng, centre_lat=district[0], centre_lng=district[1], radius_m=district[2]
            )
            result.fail(col, _wrong_crs(crs, fits, root.name_zh if root else "", area))
            return
        centre = ctx.centre(area)
        if centre and geo.distance_m(wlat, wlng, centre[0], centre[1]) > centre[2]:
            fits = [
                f
                for f in geo.crs_readings_near(
                    lat, lng, centre_lat=centre[0], centre_lng=centre[1], radius_m=centre[2]
                )
                if f[0] != crs
            ]
            if fits:
                result.fail(_column(kind, "crs"), _wrong_crs(crs, fits, area.name_zh, area))
                return
    values["lat"], values["lng"] = round(wlat, COORD_DIGITS), round(wlng, COORD_DIGITS)


def _wrong_crs(crs: str, fits: list[tuple[str, float]], where: str, area: Area) -> InvalidInput:
    if fits:
        return InvalidInput(
            _(
                "按 %(crs)s 读，该点不在%(where)s；按 %(other)s 读则在（距中心约 %(m)s 米）："
                "坐标系可能填错了，请核对取点的地图（GPS 为 wgs84，高德/腾讯为 gcj02，百度为 bd09）。"
            ),
            params={"crs": crs, "where": where, "other": fits[0][0], "m": round(fits[0][1])},
            code="wrong_crs",
        )
    return InvalidInput(
        _("坐标不在%(where)s范围内：请核对经纬度和坐标系。"),
        params={"where": where},
        code="outside_district",
    )


# --- workers ---------------------------------------------------------------------------------


def _worker_readers(ctx: Context) -> dict[str, Callable[[Any, Column], Any]]:
    def areas(value: str, _c: Column) -> list[str]:
        names = [n for n in cols.LIST_SPLIT.split(value) if n]
        found = []
        for name in names:
            a = ctx.area(name)
            if a.code not in found:
                found.append(a.code)
        if not found or len(found) > 10:
            raise InvalidInput(_("工作区域须为 1 至 10 个。"), code="invalid_areas")
        return found

    def brand(value: str, _c: Column) -> str:
        b = ctx.brands.get(value) or ctx.brands_by_name.get(value)
        if b is None:
            raise InvalidInput(
                _("未知的品牌“%(name)s”。"), params={"name": value}, code="unknown_brand"
            )
        return b.code

    return {
        "mobile": lambda v, _c: normalise_mobile(v),
        "job_type": lambda v, _c: cols.choice(v, WorkerProfile.JobType.choices),
        "brand": brand,
        "areas": areas,
    }


def _worker_plan(ctx: Context, results: list[RowResult]) -> None:
    mobiles = [r.values["mobile"] for r in results if r.action != "error"]
    known = {
        u.mobile: u
        for u in User.objects.filter(mobile__in=mobiles)
        .select_related("worker_profile__brand")
        .prefetch_related("worker_profile__areas")
    }
    for r in results:
        if r.action == "error":
            continue
        v = r.values
        user = known.get(v["mobile"])
        profile = getattr(user, "worker_profile", None) if user else None
        if user is not None and (not user.is_active or profile is None):
            r.fail(
                _column("workers", "mobile"),
                InvalidInput(
                    _("该手机号已是其他账号（非小哥），不能作为小哥导入。"), code="mobile_taken"
                ),
            )
            continue
        if profile is None:
            r.action = "create"
            continue
        current = [a for a in profile.areas.all()]
        if any(not area_in_scope(ctx.actor, a) for a in current):
            r.fail(
                _column("workers", "areas"),
                InvalidInput(
                    _("该小哥的工作区域有不在您管辖范围内的，请由区级管理员导入。"),
                    code="worker_out_of_scope",
                ),
            )
            continue
        stored = {
            "real_name": profile.user.real_name,
            "job_type": profile.job_type,
            "brand": profile.brand.code if profile.brand else "",
            "areas": sorted(a.code for a in current),
        }
        wanted = {**v, "brand": v.get("brand", stored["brand"]), "areas": sorted(v["areas"])}
        r.changes = [k for k in stored if stored[k] != wanted.get(k)]
        r.action = "update" if r.changes else "unchanged"


def _worker_write(ctx: Context, values: dict[str, Any], request: Any) -> None:
    from warmstation.accounts.services import worker_enrol

    if "brand" in values:
        brand = ctx.brands.get(values["brand"])
    else:  # no brand column: the worker keeps theirs
        brand = Brand.objects.filter(workerprofile__user__mobile=values["mobile"]).first()
    worker_enrol(
        actor=ctx.actor,
        mobile=values["mobile"],
        real_name=values["real_name"],
        job_type=values["job_type"],
        brand=brand,
        areas=[ctx.areas[c] for c in values["areas"]],
        request=request,
    )


# --- stations and merchants ------------------------------------------------------------------


def _place_readers(
    ctx: Context, kind_choices: list[tuple[str, Any]]
) -> dict[str, Callable[[Any, Column], Any]]:
    return {
        "kind": lambda v, _c: cols.choice(v, kind_choices),
        "area": lambda v, _c: ctx.area(v).code,
        # ±180: a latitude of 116 is a swapped pair, said so by _position
        "lat": lambda v, _c: cols.number(v, lo=-180, hi=180),
        "lng": lambda v, _c: cols.number(v, lo=-180, hi=180),
        "crs": lambda v, _c: cols.crs(v),
        "phone": lambda v, _c: normalise_optional_phone(v),
        "is_24h": lambda v, _c: cols.yes_no(v),
        "opens": lambda v, _c: cols.clock(v),
        "closes": lambda v, _c: cols.clock(v),
    }


PLACE_FIELDS = {
    "stations": ("kind", "address", "lat", "lng", "phone", "operator", "is_24h"),
    "merchants": ("kind", "address", "lat", "lng", "contact_name", "phone", "opens", "closes"),
}
PLACE_MODELS: dict[str, type[Station] | type[Merchant]] = {
    "stations": Station,
    "merchants": Merchant,
}


def _stored(obj: Any, key: str) -> Any:
    value = getattr(obj, key)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float):
        return round(value, COORD_DIGITS)
    return value


def _place_plan(kind: str, ctx: Context, results: list[RowResult]) -> None:
    model = PLACE_MODELS[kind]
    names = {r.values["name"] for r in results if r.action != "error"}
    stored: dict[tuple[str, str], list[Any]] = {}
    for obj in model.objects.filter(name__in=names).select_related("area"):
        stored.setdefault((obj.name, obj.area.code), []).append(obj)
    for r in results:
        if r.action == "error":
            continue
        found = stored.get((r.values["name"], r.values["area"]), [])
        if len(found) > 1:
            r.fail(
                _column(kind, "name"),
                InvalidInput(
                    _("该区域已有多个同名记录，无法确定要更新哪一个：请先在系统里改名。"),
                    code="ambiguous_name",
                ),
            )
            continue
        if not found:
            r.action = "create"
            continue
        obj = found[0]
        r.changes = [
            k for k in PLACE_FIELDS[kind] if k in r.values and _stored(obj, k) != r.values[k]
        ]
        r.action = "update" if r.changes else "unchanged"


def _place_write(kind: str, ctx: Context, values: dict[str, Any], request: Any) -> None:
    from warmstation.benefits.services import merchant_save
    from warmstation.stations.services import station_save

    model = PLACE_MODELS[kind]
    area = ctx.areas[values["area"]]
    obj = model.objects.filter(name=values["name"], area=area).first()
    fields = {k: values[k] for k in PLACE_FIELDS[kind] if k in values}
    for key in ("opens", "closes"):
        if key in fields:
            fields[key] = time.fromisoformat(fields[key])
    if obj is None:
        fields.update(name=values["name"], area=area)
        obj = model()
    else:
        fields = {
            k: v
            for k, v in fields.items()
            if (_stored(obj, k) if not isinstance(v, time) else getattr(obj, k)) != v
        }
    if kind == "stations":
        station_save(actor=ctx.actor, station=obj, request=request, **fields)  # type: ignore[arg-type]
    else:
        merchant_save(actor=ctx.actor, merchant=obj, request=request, **fields)  # type: ignore[arg-type]


# --- one entry point per step ----------------------------------------------------------------


def _label(kind: str, values: dict[str, Any]) -> str:
    if kind == "workers":
        return mask_mobile(values.get("mobile", ""))
    return str(values.get("name", ""))


def _key(kind: str, values: dict[str, Any]) -> tuple[Any, ...] | None:
    if kind == "workers":
        return (values["mobile"],) if "mobile" in values else None
    return (values["name"], values["area"]) if {"name", "area"} <= set(values) else None


def judge(kind: str, ctx: Context, table: Table, columns: dict[str, int]) -> list[RowResult]:
    """Every row of the table, judged: cleaned values and the action, or its errors."""
    if kind == "workers":
        readers = _worker_readers(ctx)
    else:
        readers = _place_readers(ctx, (Station if kind == "stations" else Merchant).Kind.choices)
    results: list[RowResult] = []
    first_row: dict[tuple[Any, ...], int] = {}
    for number, cells in table.rows:
        r = RowResult(row=number)
        values = _read(r, kind, cells, columns, readers)
        r.label = _label(kind, values)
        area = ctx.areas.get(values.get("area", "")) if kind != "workers" else None
        _position(r, kind, values, ctx, area)
        key = _key(kind, values)
        if key is not None:
            if key in first_row:
                r.fail(
                    _column(kind, "mobile" if kind == "workers" else "name"),
                    InvalidInput(
                        _("与第 %(row)s 行重复：同一手机号出现了两次。")
                        if kind == "workers"
                        else _("与第 %(row)s 行重复：同一区域内的同一名称出现了两次。"),
                        params={"row": first_row[key]},
                        code="duplicate_row",
                    ),
                )
            else:
                first_row[key] = number
        r.values = values
        r.action = "error" if r.errors else "pending"
        results.append(r)
    (_worker_plan if kind == "workers" else lambda c, rs: _place_plan(kind, c, rs))(ctx, results)
    return results


def write(kind: str, ctx: Context, values: dict[str, Any], request: Any) -> None:
    if kind == "workers":
        _worker_write(ctx, values, request)
    else:
        _place_write(kind, ctx, values, request)
