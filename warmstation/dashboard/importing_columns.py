"""The columns of each kind of base-data spreadsheet (the template's header, the names a header
cell may use), and the checks of one cell that need no database. One list per kind: the
template, the reader and the export all come from it, so an exported list imports again."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from warmstation.core.errors import InvalidInput
from warmstation.core.inputs import CLOCK_RE, check_text, nfkc


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    required: bool = True
    aliases: tuple[str, ...] = ()
    max_length: int = 128

    @property
    def label(self) -> str:
        """The template's header cell: both languages, so either reader finds their column."""
        return f"{self.zh} {self.en}"

    def names(self) -> set[str]:
        return {_norm(n) for n in (self.zh, self.en, self.key, self.label, *self.aliases)}


_COORDS = (
    Column("lat", "纬度", "Latitude", aliases=("lat", "纬度(wgs84)")),
    Column("lng", "经度", "Longitude", aliases=("lng", "lon", "long")),
    Column("crs", "坐标系", "Coordinate system", aliases=("crs", "coordinate_system", "坐标类型")),
)
COLUMNS: dict[str, tuple[Column, ...]] = {
    "workers": (
        Column("mobile", "手机号", "Mobile", aliases=("手机", "phone", "电话")),
        Column("real_name", "姓名", "Name", aliases=("name", "真实姓名"), max_length=32),
        Column("job_type", "工作类型", "Job type", aliases=("工种", "job")),
        Column("brand", "品牌", "Brand", required=False, aliases=("企业", "平台", "company")),
        Column(
            "areas", "工作区域", "Work areas", aliases=("区域", "area", "areas"), max_length=500
        ),
    ),
    "stations": (
        Column("name", "驿站名称", "Station name", aliases=("名称", "name")),
        Column("kind", "驿站类型", "Station type", aliases=("类型", "kind", "type")),
        Column("area", "所属区域", "Area", aliases=("区域", "area_code")),
        Column("address", "地址", "Address", max_length=255),
        *_COORDS,
        Column("phone", "电话", "Phone", required=False, aliases=("联系电话",), max_length=32),
        Column("operator", "运营单位", "Operator", required=False, max_length=64),
        Column("is_24h", "24小时开放", "Open 24 hours", required=False, aliases=("24h",)),
    ),
    "merchants": (
        Column("name", "商户名称", "Merchant name", aliases=("名称", "name")),
        Column("kind", "商户类型", "Merchant type", aliases=("类型", "kind", "type")),
        Column("area", "所属区域", "Area", aliases=("区域", "area_code")),
        Column("address", "地址", "Address", max_length=255),
        *_COORDS,
        Column("contact_name", "联系人", "Contact", required=False, max_length=64),
        Column("phone", "电话", "Phone", required=False, aliases=("联系电话",), max_length=32),
        Column("opens", "营业开始", "Opens", aliases=("开门", "opens")),
        Column("closes", "营业结束", "Closes", aliases=("关门", "closes")),
    ),
}
# One example row per kind, for the template (valid against the demo areas of Fangshan).
EXAMPLES: dict[str, list[Any]] = {
    "workers": ["13800000000", "张三", "courier", "sf", "110111005000"],
    "stations": [
        "拱辰街道暖心驿站",
        "party_mass",
        "110111005000",
        "拱辰街道西大街1号",
        39.7340,
        116.1370,
        "wgs84",
        "010-69300001",
        "拱辰街道党工委",
        "否",
    ],
    "merchants": [
        "良乡爱心餐馆",
        "restaurant",
        "110111005000",
        "良乡西路8号",
        39.7330,
        116.1390,
        "gcj02",
        "李经理",
        "010-69300002",
        "10:00",
        "21:00",
    ],
}

CRS_NAMES = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "gps": "wgs84",
    "wgs": "wgs84",
    "epsg:4326": "wgs84",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "gcj": "gcj02",
    "高德": "gcj02",
    "腾讯": "gcj02",
    "火星坐标": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "百度": "bd09",
    "bd09ll": "bd09",
}
YES = {"是", "y", "yes", "true", "1", "√", "✓"}
NO = {"否", "n", "no", "false", "0", ""}
LIST_SPLIT = re.compile(r"[,，、;；/\s]+")


def _norm(name: object) -> str:
    text = unicodedata.normalize("NFKC", "" if name is None else str(name)).strip().lower()
    return re.sub(r"[\s*＊_()（）:：]+", "", text)


def map_header(kind: str, header: list[str]) -> tuple[dict[str, int], list[Column]]:
    """{column key: index} for the header cells we know, and the required columns missing."""
    found: dict[str, int] = {}
    for column in COLUMNS[kind]:
        names = column.names()
        for i, cell in enumerate(header):
            if _norm(cell) in names and i not in found.values():
                found[column.key] = i
                break
    missing = [c for c in COLUMNS[kind] if c.required and c.key not in found]
    return found, missing


def text(value: object, column: Column) -> str:
    """A cell as one line of text: NFC, trimmed, without control characters, bounded; a cell
    that is a formula (or text that a spreadsheet would run as one) is refused."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number typed into Excel comes back as 13800000000.0
    if isinstance(value, (datetime, date, time)):
        value = value.isoformat()
    raw = unicodedata.normalize("NFC", "" if value is None else str(value)).strip()
    if raw.startswith("="):
        raise InvalidInput(
            _("单元格是公式或以“=”开头：请粘贴为数值（纯文本）。"), code="formula_cell"
        )
    if column.required and not raw:
        raise InvalidInput(_("必填，不能为空。"), code="required")
    return check_text(raw, max_length=column.max_length)


def number(value: object, *, lo: float, hi: float) -> float:
    """A coordinate: a number, typed with full-width digits or not, finite, within [lo, hi]."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, (int, float)):
        result = float(value)
    else:
        raw = nfkc(value).replace("，", ".").replace("°", "")
        try:
            result = (
                float(raw) if re.fullmatch(r"[+-]?[0-9]{1,3}(\.[0-9]{1,12})?", raw) else math.nan
            )
        except ValueError:
            result = math.nan
    if not math.isfinite(result) or not lo <= result <= hi:
        raise InvalidInput(
            _("坐标须为 %(lo)s 至 %(hi)s 之间的小数（度）。"),
            params={"lo": lo, "hi": hi},
            code="invalid_coordinate",
        )
    return result


def crs(value: object) -> str:
    name = _norm(value)
    if name not in CRS_NAMES:
        raise InvalidInput(
            _("坐标系须为 wgs84（GPS）、gcj02（高德、腾讯）或 bd09（百度）。"), code="invalid_crs"
        )
    return CRS_NAMES[name]


def clock(value: object) -> str:
    """A time of day as HH:MM (Excel hands a time cell over as a time)."""
    if isinstance(value, (time, datetime)):
        return value.strftime("%H:%M")
    if isinstance(value, float) and 0 <= value < 1:  # Excel's fraction of a day
        minutes = round(value * 24 * 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    raw = nfkc(value).replace("：", ":")
    if re.fullmatch(r"[0-9]:[0-5][0-9](:[0-5][0-9])?", raw):
        raw = "0" + raw
    if not re.fullmatch(CLOCK_RE, raw):
        raise InvalidInput(_("时间须写成 时:分，如 08:30。"), code="invalid_time")
    return raw[:5]


def yes_no(value: object) -> bool:
    name = _norm(value)
    if name in YES:
        return True
    if name in NO:
        return False
    raise InvalidInput(_("请填“是”或“否”。"), code="invalid_yes_no")


def choice(value: object, choices: list[tuple[str, Any]]) -> str:
    """A choice by its code (courier) or its Chinese label (快递员)."""
    name = _norm(value)
    with translation.override("zh-hans"):
        labels = [(code, str(label)) for code, label in choices]
    for code, label in labels:
        if name in (_norm(code), _norm(label)):
            return code
    raise InvalidInput(
        "无效的取值，可填：" + "、".join(f"{c}（{lbl}）" for c, lbl in labels) + "。",
        "Not a valid value; use one of: " + ", ".join(c for c, _l in labels) + ".",
        code="invalid_choice",
    )
