"""The service handbook (服务手册) of a street, one template: a cover with the date of its data,
an overview map page (the stations and meal partners placed by their coordinates, numbered),
then every station (location, hours, contacts, services) and every discount-meal partner
(offer, contact person, phone). Two PDFs: plain A5, and an A5 booklet — pages padded with blanks
to a multiple of four and imposed two to an A4 side in saddle-stitch order, for double-sided
A4 printing (flip on the short edge), folded and stapled. Labels are in the active language
(services.py makes a Chinese and an English edition); names, addresses and numbers of places and
people are printed as stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from warmstation.documents.render import (
    MM,
    QR,
    Box,
    Line,
    Op,
    Text,
    draw_pdf,
    fit,
    pdf_pages,
)

A5_W, A5_H = 148 * MM, 210 * MM
A4_LAND_W, A4_LAND_H = 297 * MM, 210 * MM
MARGIN = 14 * MM
ACCENT = "#c0392b"


@dataclass(frozen=True)
class HandbookStation:
    number: int
    name: str
    kind: str
    address: str
    lat: float
    lng: float
    hours: str
    phone: str
    operator: str
    services: list[str]
    amenities: list[str]


@dataclass(frozen=True)
class HandbookPartner:
    number: int
    name: str
    kind: str
    address: str
    lat: float
    lng: float
    hours: str
    contact_name: str
    phone: str
    offers: list[str]


@dataclass(frozen=True)
class HandbookData:
    street_code: str
    street_name: str
    as_of: date
    url: str
    stations: list[HandbookStation] = field(default_factory=list)
    partners: list[HandbookPartner] = field(default_factory=list)


class _Flow:
    """Lines flowing down A5 pages, a running head and a page number on each."""

    def __init__(self, data: HandbookData, first_number: int) -> None:
        self.data = data
        self.pages: list[list[Op]] = []
        self.number = first_number
        self.y = 0.0
        self._new_page()

    def _new_page(self) -> None:
        self.ops: list[Op] = [
            Text(MARGIN, 8 * MM, 7, f"{self.data.street_name} · {_('新就业群体服务手册')}",
                 color="#888888"),
            Line(MARGIN, 12 * MM, A5_W - MARGIN, 12 * MM, 0.4, "#cccccc"),
            Text(A5_W / 2 - 3 * MM, A5_H - 10 * MM, 8, f"— {self.number} —", color="#888888"),
        ]
        self.pages.append(self.ops)
        self.number += 1
        self.y = 16 * MM

    def room(self, height: float) -> None:
        if self.y + height > A5_H - 16 * MM:
            self._new_page()

    def heading(self, text: str) -> None:
        self.room(14 * MM)
        self.ops.append(Box(MARGIN, self.y, A5_W - 2 * MARGIN, 8 * MM, ACCENT))
        self.ops.append(Text(MARGIN + 2 * MM, self.y + 1.8 * MM, 11, text, color="#ffffff"))
        self.y += 11 * MM

    def lines(self, text: str, size: float = 9, color: str = "#222222",
              indent: float = 0) -> None:
        for line, s in fit(text, size, A5_W - 2 * MARGIN - indent, smallest=size):
            self.room(s + 2)
            self.ops.append(Text(MARGIN + indent, self.y, s, line, color=color))
            self.y += s + 2.6

    def gap(self, height: float) -> None:
        self.y += height


def cover(data: HandbookData) -> list[Op]:
    return [
        Box(0, 0, A5_W, 70 * MM, ACCENT),
        Text(MARGIN, 22 * MM, 12, _("37°C+ 暖心驿站"), color="#ffffff"),
        Text(MARGIN, 34 * MM, 22, data.street_name, color="#ffffff"),
        Text(MARGIN, 48 * MM, 16, _("新就业群体服务手册"), color="#ffffff"),
        Text(MARGIN, 82 * MM, 10, _("驿站 %(stations)s 处 · 爱心餐合作商户 %(partners)s 家")
             % {"stations": len(data.stations), "partners": len(data.partners)}),
        Text(MARGIN, 90 * MM, 10, _("数据截至 %(day)s（由系统根据最新信息生成）")
             % {"day": f"{data.as_of:%Y-%m-%d}"}),
        QR(MARGIN, 104 * MM, 40 * MM, data.url),
        Text(MARGIN, 146 * MM, 9, _("扫码查看最新的驿站和优惠信息"), color="#555555"),
        Text(MARGIN, A5_H - 18 * MM, 8, _("房山区 · 37°C+ 暖心驿站服务体系"), color="#888888"),
    ]


def overview_map(data: HandbookData) -> list[Op]:
    """The stations (●, red) and partners (■, blue) placed by their coordinates in a box, with
    their numbers; the legend is the list pages that follow."""
    ops: list[Op] = [Text(MARGIN, 14 * MM, 13, _("总览图"), color=ACCENT)]
    for i, (line, size) in enumerate(fit(
            _("红色圆点为驿站，蓝色方块为爱心餐商户；编号与后文对应。上方为北。"), 8,
            A5_W - 2 * MARGIN, smallest=6)[:2]):
        ops.append(Text(MARGIN, 21 * MM + i * (size + 1), size, line, color="#555555"))
    left, top, width, height = MARGIN, 28 * MM, A5_W - 2 * MARGIN, A5_H - 48 * MM
    ops += [Line(left, top, left + width, top), Line(left, top + height, left + width, top + height),
            Line(left, top, left, top + height), Line(left + width, top, left + width, top + height)]
    points = [(s.lat, s.lng, f"{s.number}", "#c0392b") for s in data.stations] + \
             [(p.lat, p.lng, f"{p.number}", "#2471a3") for p in data.partners]
    if not points:
        ops.append(Text(left + 4 * MM, top + 4 * MM, 9, _("（暂无登记的驿站和商户）")))
        return ops
    lats, lngs = [p[0] for p in points], [p[1] for p in points]
    span_lat = max(max(lats) - min(lats), 0.002)
    span_lng = max(max(lngs) - min(lngs), 0.002)
    inner = 6 * MM
    for lat, lng, label, colour in points:
        x = left + inner + (lng - min(lngs)) / span_lng * (width - 2 * inner)
        y = top + inner + (max(lats) - lat) / span_lat * (height - 2 * inner)
        ops.append(Box(x - 1.2 * MM, y - 1.2 * MM, 2.4 * MM, 2.4 * MM, colour))
        ops.append(Text(x + 1.6 * MM, y - 1.6 * MM, 6, label, color=colour))
    return ops


def handbook_pages(data: HandbookData) -> list[list[Op]]:
    """The A5 pages, in reading order (cover, map, stations, partners)."""
    flow = _Flow(data, first_number=3)
    colon = _("：")
    flow.heading(_("暖心驿站（%(n)s 处）") % {"n": len(data.stations)})
    for s in data.stations:
        flow.room(30 * MM)
        flow.lines(f"{s.number}. {s.name}", 10.5, ACCENT)
        operator = f" · {_('运营')}{colon}{s.operator}" if s.operator else ""
        flow.lines(f"{_('类型')}{colon}{s.kind}{operator}", 8.5, indent=4 * MM)
        flow.lines(f"{_('地址')}{colon}{s.address}", 8.5, indent=4 * MM)
        flow.lines(f"{_('开放时间')}{colon}{s.hours}", 8.5, indent=4 * MM)
        if s.phone:
            flow.lines(f"{_('联系电话')}{colon}{s.phone}", 8.5, indent=4 * MM)
        if s.amenities:
            flow.lines(f"{_('设施')}{colon}" + _("、").join(s.amenities), 8.5, indent=4 * MM)
        if s.services:
            flow.lines(f"{_('服务')}{colon}" + _("、").join(s.services), 8.5, indent=4 * MM)
        flow.gap(3 * MM)
    flow.heading(_("爱心餐合作商户（%(n)s 家）") % {"n": len(data.partners)})
    for p in data.partners:
        flow.room(26 * MM)
        flow.lines(f"{p.number}. {p.name}", 10.5, "#2471a3")
        flow.lines(f"{_('地址')}{colon}{p.address}", 8.5, indent=4 * MM)
        flow.lines(f"{_('营业时间')}{colon}{p.hours}", 8.5, indent=4 * MM)
        contact = " ".join(x for x in (p.contact_name, p.phone) if x)
        if contact:
            flow.lines(f"{_('联系人')}{colon}{contact}", 8.5, indent=4 * MM)
        for offer in p.offers:
            flow.lines(f"{_('优惠')}{colon}{offer}", 8.5, indent=4 * MM)
        flow.gap(3 * MM)
    return [cover(data), overview_map(data), *flow.pages]


def padded(pages: list[list[Op]]) -> list[list[Op]]:
    """Blank pages added at the end until the count is a multiple of four (a booklet's
    sheets each carry four pages)."""
    return pages + [[] for _blank in range(-len(pages) % 4)]


def imposition(count: int) -> list[tuple[int, int]]:
    """For a saddle-stitched booklet of `count` pages (a multiple of 4): the (left, right) page
    numbers, 1-based, of each A4 side in printing order — sheet 1 front, sheet 1 back, …"""
    assert count % 4 == 0
    sides = []
    for sheet in range(count // 4):
        front = (count - 2 * sheet, 2 * sheet + 1)
        back = (2 * sheet + 2, count - 2 * sheet - 1)
        sides += [front, back]
    return sides


def plain_pdf(data: HandbookData, pages: list[list[Op]] | None = None) -> bytes:
    return pdf_pages(pages or handbook_pages(data), width=A5_W, height=A5_H,
                     title=_("%(street)s 新就业群体服务手册（数据截至 %(day)s）")
                     % {"street": data.street_name, "day": f"{data.as_of:%Y-%m-%d}"})


def booklet_pdf(data: HandbookData, pages: list[list[Op]] | None = None) -> bytes:
    import io

    from reportlab.pdfgen.canvas import Canvas

    from warmstation.core.pdf import cjk_font

    pages = padded(pages or handbook_pages(data))
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=(A4_LAND_W, A4_LAND_H), pageCompression=1,
                    initialFontName=cjk_font(), initialFontSize=9)
    canvas.setTitle(_("%(street)s 服务手册（A5 小册子，A4 双面印刷）") % {"street": data.street_name})
    font = cjk_font()
    for left, right in imposition(len(pages)):
        draw_pdf(canvas, pages[left - 1], height=A4_LAND_H, font=font)
        draw_pdf(canvas, pages[right - 1], height=A4_LAND_H, font=font, dx=A5_W)
        canvas.showPage()
    canvas.save()
    return buf.getvalue()
