"""One layout, two renderers. A document is drawn as a list of plain operations (text, QR,
line, box) in points from the top-left corner; `pdf_pages` draws them with ReportLab (the CJK
font embedded, the QR as vector squares of segno's normal QR, as core/pdf.py draws it) and `png_image` with Pillow (the same
font file, the same QR matrix), so the PDF and the PNG for chat come from one template."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import segno
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.colors import HexColor
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from warmstation.core.pdf import FONT_FILE, QUIET_ZONE, cjk_font

MM = 72 / 25.4


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # top of the line
    size: float
    text: str
    color: str = "#222222"


@dataclass(frozen=True)
class QR:
    x: float
    y: float
    size: float
    data: str


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float = 0.25
    color: str = "#000000"


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    fill: str


Op = Text | QR | Line | Box


def text_width(text: str, size: float) -> float:
    return float(stringWidth(text, cjk_font(), size))


def fit(text: str, size: float, width: float, *, smallest: float) -> list[tuple[str, float]]:
    """`text` as lines no wider than `width`: at `size`, or smaller down to `smallest`, then
    wrapped by characters. Nothing is dropped."""
    while size > smallest and text_width(text, size) > width:
        size = max(smallest, size - 0.25)
    if text_width(text, size) <= width:
        return [(text, size)]
    lines, current = [], ""
    for ch in text:
        if current and text_width(current + ch, size) > width:
            lines.append((current, size))
            current = ch
        else:
            current += ch
    if current:
        lines.append((current, size))
    return lines


def pdf_pages(pages: Sequence[Sequence[Op]], *, width: float, height: float,
              title: str = "") -> bytes:
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=(width, height), pageCompression=1,
                    initialFontName=cjk_font(), initialFontSize=9)
    canvas.setTitle(title)
    canvas.setAuthor("37°C+ 暖心驿站")
    font = cjk_font()
    for ops in pages:
        draw_pdf(canvas, ops, height=height, font=font)
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


def draw_pdf(canvas: Canvas, ops: Sequence[Op], *, height: float, font: str,
             dx: float = 0, dy: float = 0) -> None:
    """Draw `ops` on the current page, their origin at (dx, dy) from the page's top-left."""
    for op in ops:
        if isinstance(op, Box):
            canvas.setFillColor(HexColor(op.fill))
            canvas.rect(dx + op.x, height - dy - op.y - op.h, op.w, op.h, stroke=0, fill=1)
        elif isinstance(op, Text):
            canvas.setFillColor(HexColor(op.color))
            canvas.setFont(font, op.size)
            # the baseline sits about 0.88 of the size below the line's top
            canvas.drawString(dx + op.x, height - dy - op.y - op.size * 0.88, op.text)
        elif isinstance(op, QR):
            # Drawn as squares here rather than through renderPDF, which would declare its
            # default Helvetica (an unembedded font) on the page.
            canvas.setFillColor(HexColor("#ffffff"))
            x0, top = dx + op.x, height - dy - op.y
            canvas.rect(x0, top - op.size, op.size, op.size, stroke=0, fill=1)
            canvas.setFillColor(HexColor("#000000"))
            matrix = qr_matrix(op.data)
            step = op.size / (len(matrix) + 2 * QUIET_ZONE)
            for y, row in enumerate(matrix):
                for x, dark in enumerate(row):
                    if dark:
                        canvas.rect(x0 + (x + QUIET_ZONE) * step,
                                    top - (y + 1 + QUIET_ZONE) * step, step, step,
                                    stroke=0, fill=1)
        elif isinstance(op, Line):
            canvas.setStrokeColor(HexColor(op.color))
            canvas.setLineWidth(op.width)
            canvas.line(dx + op.x1, height - dy - op.y1, dx + op.x2, height - dy - op.y2)


def png_image(pages: Sequence[Sequence[Op]], *, width: float, height: float,
              scale: float = 4.0, gap: float = 6.0) -> bytes:
    """The pages one below the other (a card's front and back), `scale` pixels a point."""
    w, h = round(width * scale), round(height * scale)
    g = round(gap * scale)
    image = Image.new("RGB", (w, h * len(pages) + g * (len(pages) - 1)), "#dddddd")
    fonts: dict[float, ImageFont.FreeTypeFont] = {}
    for i, ops in enumerate(pages):
        page = Image.new("RGB", (w, h), "white")
        draw = ImageDraw.Draw(page)
        for op in ops:
            if isinstance(op, Box):
                draw.rectangle([op.x * scale, op.y * scale, (op.x + op.w) * scale,
                                (op.y + op.h) * scale], fill=op.fill)
            elif isinstance(op, Text):
                font = fonts.get(op.size)
                if font is None:
                    font = fonts[op.size] = ImageFont.truetype(str(FONT_FILE),
                                                               round(op.size * scale), index=0)
                draw.text((op.x * scale, op.y * scale), op.text, fill=op.color, font=font)
            elif isinstance(op, QR):
                _png_qr(draw, op, scale)
            elif isinstance(op, Line):
                draw.line([op.x1 * scale, op.y1 * scale, op.x2 * scale, op.y2 * scale],
                          fill=op.color, width=max(1, round(op.width * scale)))
        image.paste(page, (0, i * (h + g)))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def qr_matrix(data: str) -> list[list[bool]]:
    """The modules of the normal QR code (never a Micro QR) core/pdf.py draws, error level M."""
    return [[bool(v) for v in row] for row in segno.make_qr(data, error="m").matrix]


def _png_qr(draw: ImageDraw.ImageDraw, op: QR, scale: float) -> None:
    matrix = qr_matrix(op.data)
    modules = len(matrix) + 2 * QUIET_ZONE
    step = op.size * scale / modules
    x0, y0 = op.x * scale, op.y * scale
    draw.rectangle([x0, y0, x0 + op.size * scale, y0 + op.size * scale], fill="white")
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                left, top = x0 + (x + QUIET_ZONE) * step, y0 + (y + QUIET_ZONE) * step
                draw.rectangle([left, top, left + step - 0.01, top + step - 0.01], fill="black")
