"""The service card (暖心卡), one template for every area: business-card size (90 × 54 mm),
front and back; as a PDF, as an A4 sheet of ten with crop marks (backs mirrored for long-edge
double-sided printing), and as a PNG to share in chat. Labels are in the active language (the
request's); names, addresses and numbers of places and people are printed as stored."""

from __future__ import annotations

from django.utils.translation import gettext as _

from warmstation.documents.render import MM, QR, Box, Line, Op, Text, fit, pdf_pages, png_image
from warmstation.documents.selectors import CardData

CARD_W, CARD_H = 90 * MM, 54 * MM
PAD = 3.2 * MM
ACCENT = "#c0392b"
A4_W, A4_H = 210 * MM, 297 * MM
COLS, ROWS = 2, 5
MARK, MARK_GAP = 4 * MM, 1.5 * MM


def card_front(data: CardData) -> list[Op]:
    ops: list[Op] = [Box(0, 0, CARD_W, 5.2 * MM, ACCENT),
                     Text(PAD, 1.1 * MM, 7.5, _("37°C+ 暖心驿站 · 暖心卡"), color="#ffffff")]
    qr_size = 21 * MM
    text_w = CARD_W - 2 * PAD - qr_size - 1.5 * MM
    y = 6.4 * MM
    for line, size in fit(data.area_name, 8.5, text_w, smallest=6):
        ops.append(Text(PAD, y, size, line, color=ACCENT))
        y += size + 1.4
    y += 1
    for c in data.lines:
        for line, size in fit(f"{c.label}{_('：')}{c.name} {c.phone}".strip(), 6, text_w, smallest=4.6):
            ops.append(Text(PAD, y, size, line))
            y += size + 1.6
    qx, qy = CARD_W - PAD - qr_size, 6.4 * MM
    ops.append(QR(qx, qy, qr_size, data.url))
    ops.append(Text(qx + 1.2 * MM, qy + qr_size + 0.6 * MM, 4.6, _("扫码看最新联系方式")))
    as_of = _("信息更新于 %(day)s") % {"day": f"{data.as_of:%Y-%m-%d}"}
    ops.append(Text(PAD, CARD_H - PAD - 4.6, 4.6, f"{as_of} · {data.url}", color="#666666"))
    return ops


def card_back(data: CardData) -> list[Op]:
    ops: list[Op] = [Box(0, 0, CARD_W, 5.2 * MM, ACCENT),
                     Text(PAD, 1.1 * MM, 7.5, _("附近驿站 · 歇歇脚、喝口水、充个电"), color="#ffffff")]
    width = CARD_W - 2 * PAD
    y = 6.6 * MM
    for s in data.stations:
        kind = f"{s.kind}{_('，24小时')}" if s.is_24h else f"{s.kind}"
        head = _("%(name)s（%(kind)s）") % {"name": s.name, "kind": kind}
        for line, size in fit(head, 6, width, smallest=4.8):
            ops.append(Text(PAD, y, size, line))
            y += size + 1.2
        detail = " ".join(x for x in (s.address, s.phone,
                                      _("约 %(m)s 米") % {"m": s.distance_m} if s.distance_m is not None else "")
                          if x)
        for line, size in fit(detail, 5, width, smallest=4.4):
            ops.append(Text(PAD, y, size, line, color="#555555"))
            y += size + 1.2
        y += 1.2
    if not data.stations:
        ops.append(Text(PAD, y, 6, _("附近暂无登记的驿站，请拨打服务热线。")))
    ops.append(Text(PAD, CARD_H - PAD - 4.6, 4.6, _("遇到困难请拨打卡片正面的服务热线"),
                    color="#666666"))
    return ops


def card_pdf(data: CardData) -> bytes:
    return pdf_pages([card_front(data), card_back(data)], width=CARD_W, height=CARD_H,
                     title=f"{_('暖心卡')} {data.area_name}")


def card_png(data: CardData) -> bytes:
    return png_image([card_front(data), card_back(data)], width=CARD_W, height=CARD_H)


def _crop_marks(x0: float, y0: float) -> list[Op]:
    """Marks at the grid's cut lines, outside the printed area."""
    ops: list[Op] = []
    xs = [x0 + i * CARD_W for i in range(COLS + 1)]
    ys = [y0 + j * CARD_H for j in range(ROWS + 1)]
    for x in xs:
        ops.append(Line(x, y0 - MARK_GAP - MARK, x, y0 - MARK_GAP))
        ops.append(Line(x, ys[-1] + MARK_GAP, x, ys[-1] + MARK_GAP + MARK))
    for y in ys:
        ops.append(Line(x0 - MARK_GAP - MARK, y, x0 - MARK_GAP, y))
        ops.append(Line(xs[-1] + MARK_GAP, y, xs[-1] + MARK_GAP + MARK, y))
    return ops


def _shift(ops: list[Op], dx: float, dy: float) -> list[Op]:
    out: list[Op] = []
    for op in ops:
        if isinstance(op, Line):
            out.append(Line(op.x1 + dx, op.y1 + dy, op.x2 + dx, op.y2 + dy, op.width, op.color))
        elif isinstance(op, Box):
            out.append(Box(op.x + dx, op.y + dy, op.w, op.h, op.fill))
        elif isinstance(op, Text):
            out.append(Text(op.x + dx, op.y + dy, op.size, op.text, op.color))
        else:
            out.append(QR(op.x + dx, op.y + dy, op.size, op.data))
    return out


def sheet_pdf(data: CardData) -> bytes:
    """Ten cards on A4, fronts on page 1 and backs on page 2 (columns mirrored, so each back
    lands behind its front when printed double-sided, flipped on the long edge)."""
    x0, y0 = (A4_W - COLS * CARD_W) / 2, (A4_H - ROWS * CARD_H) / 2
    front, back = card_front(data), card_back(data)
    pages: list[list[Op]] = [[], []]
    for row in range(ROWS):
        for col in range(COLS):
            pages[0] += _shift(front, x0 + col * CARD_W, y0 + row * CARD_H)
            pages[1] += _shift(back, x0 + (COLS - 1 - col) * CARD_W, y0 + row * CARD_H)
    for page in pages:
        page += _crop_marks(x0, y0)
    return pdf_pages(pages, width=A4_W, height=A4_H, title=f"{_('暖心卡（A4 裁切版）')} {data.area_name}")
