"""Every uploaded picture is re-encoded: decoded by Pillow (so only real images pass), turned
upright from its EXIF orientation, stripped of all metadata (EXIF GPS would reveal where a
worker lives), shrunk, and saved as a fresh JPEG with a thumbnail."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from warmstation.core.errors import InvalidInput

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
FULL_SIDE = 1600
THUMB_SIDE = 360
ALLOWED = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}


@dataclass(frozen=True)
class Reencoded:
    full: bytes
    thumb: bytes
    width: int
    height: int


def _bad() -> InvalidInput:
    return InvalidInput(_("请上传 JPEG、PNG 或 WebP 图片（不超过 8 MB）。"), code="bad_image",
                        field="image")


def reencode_image(data: bytes) -> Reencoded:
    if not data or len(data) > MAX_UPLOAD_BYTES:
        raise _bad()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ALLOWED or probe.width * probe.height > MAX_PIXELS:
                raise _bad()
            probe.verify()
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            img = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise _bad() from None
    full = img.copy()
    full.thumbnail((FULL_SIDE, FULL_SIDE))
    thumb = img.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    return Reencoded(full=_jpeg(full, 82), thumb=_jpeg(thumb, 75),
                     width=full.width, height=full.height)


def _jpeg(img: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    # A fresh save with no exif= argument writes no metadata at all.
    img.save(out, format="JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()
