"""PDF building blocks shared by every printed document (service cards, handbooks, volunteer
records): one embedded CJK font and one way to draw a QR code.

ReportLab's built-in CID font `STSong-Light` is not embedded, so a viewer without Chinese fonts
shows boxes; Noto CJK's PostScript outlines are rejected by ReportLab. Debian's WenQuanYi Micro
Hei (package fonts-wqy-microhei, installed by `make setup`) has TrueType outlines and is embedded
as a subset, so a PDF looks the same in every viewer (`pdffonts` says `emb yes`).

QR codes are drawn as vector squares from segno's matrix: always a normal QR (never a Micro QR,
which phone scanners cannot read), error correction M, with the 4-module quiet zone the standard
asks for."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import segno
from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib.colors import black, white
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT = "WenQuanYiMicroHei"
FONT_FILE = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
QUIET_ZONE = 4


@cache
def cjk_font() -> str:
    """Register the embedded CJK font once per process and return its name for setFont()."""
    pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE), subfontIndex=0))
    return FONT


def qr_drawing(data: str, size: float) -> Drawing:
    """A `size` × `size` point drawing of a normal QR code of `data`, quiet zone included."""
    qr = segno.make_qr(data, error="m")  # make_qr never picks a Micro QR
    matrix = [list(row) for row in qr.matrix]
    modules = len(matrix) + 2 * QUIET_ZONE
    step = size / modules
    drawing = Drawing(size, size)
    drawing.add(Rect(0, 0, size, size, fillColor=white, strokeColor=None))
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                drawing.add(Rect((x + QUIET_ZONE) * step, size - (y + 1 + QUIET_ZONE) * step,
                                 step, step, fillColor=black, strokeColor=None,
                                 strokeWidth=0))
    return drawing
