"""Every uploaded picture is re-encoded: decoded by Pillow (so only real images pass — the type
comes from the bytes, never from the file name or the declared type), turned upright from its
EXIF orientation, stripped of all metadata (EXIF GPS would reveal where a worker lives; XMP, ICC
profiles and comments go too), shrunk, and saved as a fresh JPEG with a thumbnail. HEIC/HEIF
(iPhones' default) is read through pillow-heif.

Cost is bounded before any pixel is decoded: at most MAX_UPLOAD_BYTES of file and MAX_PIXELS of
declared image (a decompression bomb declares a huge canvas in a small file and is refused
here); a large JPEG is decoded straight at reduced scale (`draft`: a 12-megapixel phone photo
is decoded as 3 megapixels for a 2048 px limit, so it comes out 2016 px), turned and shrunk
in place, so it costs a few tens of MB, not hundreds."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from warmstation.core.errors import InvalidInput

try:  # HEIC from phones; the package is a dependency, the guard keeps core importable without it
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover
    pass

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
FULL_SIDE = 1600
THUMB_SIDE = 360
ALLOWED = {"JPEG", "PNG", "WEBP", "GIF", "MPO", "HEIF"}
# Pillow's own bomb guard, as an error rather than a warning, at our limit.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class Reencoded:
    full: bytes
    thumb: bytes
    width: int
    height: int

    @property
    def sha256(self) -> str:
        """The content hash of the stored picture (names its file: the same picture is stored
        once, and a name typed by the uploader never reaches the file system)."""
        return hashlib.sha256(self.full).hexdigest()


def _bad() -> InvalidInput:
    return InvalidInput(_("请上传 JPEG、PNG、WebP 或 HEIC 图片（不超过 8 MB）。"), code="bad_image",
                        field="image")


@dataclass(frozen=True)
class Probe:
    """What the header says: an allowed picture, its format and its upright size."""
    format: str
    width: int
    height: int


# EXIF orientations that turn the picture a quarter: width and height swap.
_QUARTER_TURNS = {5, 6, 7, 8}


def check_image(data: bytes) -> Probe:
    """The cheap half of `reencode_image`: `data` is a picture of an allowed type within the
    limits, judged from its bytes and its header (no pixel decoded; milliseconds for a phone
    photo), or InvalidInput. A request can answer on this and leave the decoding to a task."""
    if not data or len(data) > MAX_UPLOAD_BYTES:
        raise _bad()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ALLOWED or probe.width * probe.height > MAX_PIXELS:
                raise _bad()
            width, height = probe.size
            if probe.getexif().get(0x0112) in _QUARTER_TURNS:
                width, height = height, width
            fmt = str(probe.format)
            if fmt != "HEIF":  # pillow-heif has no verify(); it decodes or fails
                probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError):
        raise _bad() from None
    return Probe(format=fmt, width=width, height=height)


def fitted(probe: Probe, max_side: int) -> tuple[int, int]:
    """The size `reencode_image` will give the picture (about: a JPEG decoded at a reduced
    scale comes out a few pixels short), to reserve its place on a page before it is ready."""
    scale = min(1.0, max_side / max(probe.width, probe.height, 1))
    return max(1, round(probe.width * scale)), max(1, round(probe.height * scale))


def reencode_image(data: bytes, *, max_side: int = FULL_SIDE) -> Reencoded:
    """The picture in `data`, re-encoded (see the module's docstring); InvalidInput (nothing
    kept) for anything that is not a picture of an allowed type within the limits."""
    check_image(data)
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.format in ("JPEG", "MPO"):
                # Decode at 1/2, 1/4 or 1/8 scale (a quarter of the pixels or fewer: a fraction
                # of the time and memory of a full decode).
                opened.draft("RGB", _draft_size(opened.size, max_side))
            opened.load()
            # Upright in place, and no copy for a mode that is already RGB: each copy of a
            # phone photo is tens of MB.
            ImageOps.exif_transpose(opened, in_place=True)
            img = opened if opened.mode == "RGB" else opened.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError):
        raise _bad() from None
    full = img
    full.thumbnail((max_side, max_side))  # in place; nothing to do when already small enough
    thumb = _scaled(full, THUMB_SIDE)
    return Reencoded(full=_jpeg(full, 82), thumb=_jpeg(thumb, 75),
                     width=full.width, height=full.height)


def blur_regions(data: bytes, boxes: list[tuple[float, float, float, float]]) -> Reencoded:
    """`data` (a picture we stored) with each box — (x, y, w, h) as fractions of the width and
    height — blurred beyond recognition (faces, number plates), re-encoded like an upload."""
    with Image.open(io.BytesIO(data)) as opened:
        opened.load()
        img = opened.convert("RGB")
    for x, y, w, h in boxes:
        left, top = int(max(0.0, x) * img.width), int(max(0.0, y) * img.height)
        right = int(min(1.0, x + w) * img.width)
        bottom = int(min(1.0, y + h) * img.height)
        if right - left < 2 or bottom - top < 2:
            continue
        region = img.crop((left, top, right, bottom))
        # Pixelate, then blur: a plain Gaussian blur of text can sometimes be undone.
        small = region.resize((max(1, region.width // 16), max(1, region.height // 16)))
        region = small.resize(region.size).filter(ImageFilter.GaussianBlur(8))
        img.paste(region, (left, top))
    thumb = _scaled(img, THUMB_SIDE)
    return Reencoded(full=_jpeg(img, 82), thumb=_jpeg(thumb, 75), width=img.width,
                     height=img.height)


# A JPEG decoded at a reduced scale may come out this much short of max_side (a 4032 px phone
# photo decoded at 1/2 is 2016 px for a 2048 px limit): 4 times fewer pixels to decode.
DRAFT_SLACK = 0.95


def _draft_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """The size to ask a JPEG decoder for: the smallest of 1/8, 1/4, 1/2 whose long side is
    still at least DRAFT_SLACK × max_side (Pillow's draft picks the scale that keeps both
    sides at least the size asked)."""
    width, height = size
    for scale in (8, 4, 2):
        if max(width, height) / scale >= max_side * DRAFT_SLACK:
            return max(1, width // scale), max(1, height // scale)
    return width, height


def _scaled(img: Image.Image, side: int) -> Image.Image:
    out = img.copy()
    out.thumbnail((side, side))
    return out


def _jpeg(img: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    # Pillow falls back to the image's own `info` for some fields (a JPEG comment, an ICC
    # profile): empty it, then save with no exif=/icc_profile= argument — no metadata at all.
    img.info = {}
    img.save(out, format="JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()
