"""Compressed pages. A worker's phone on a slow network asks for gzip and brotli; static files
are precompressed by whitenoise (brotli and gzip, chosen by Accept-Encoding), and this compresses
what the views answer: HTML, JSON and CSV.

Django's GZipMiddleware is used for pages because it pads each response with random bytes
("Heal the BREACH"), which keeps compressed pages that carry a secret (a CSRF token, a revealed
mobile) from being guessed by their size; brotli has no such padding, so pages stay gzip. Images
and files that are already compressed are left alone."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware

COMPRESSIBLE = ("text/", "application/json", "application/problem+json", "application/xml",
                "application/javascript", "image/svg+xml")


class PageGZipMiddleware(GZipMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        content_type = response.get("Content-Type", "")
        if not content_type.startswith(COMPRESSIBLE):
            return response
        return super().process_response(request, response)
