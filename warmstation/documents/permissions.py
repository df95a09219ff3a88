"""Service cards are public, as the printed cards are: anyone (a worker who scanned the QR code
before registering) may open an area's card page and download it. Handbooks too. Only a code
that names no area is missing (404)."""

from __future__ import annotations

from warmstation.areas.models import Area
from warmstation.core.errors import NotFound


def access_card_area_by_code(code: str) -> Area:
    if not code or "\x00" in code or len(code) > 32:
        raise NotFound()
    area = Area.objects.select_related("parent").filter(code=code).first()
    if area is None:
        raise NotFound()
    return area
