"""Fetching a URL someone else gave us (an Open311 `media_url`) without letting them aim our
server at itself or at the private network (SSRF).

- only http and https, on their usual ports or 1024–65535, no user:password in the URL;
- the host name is resolved once and every address it resolves to must be public (not
  loopback, private, link-local, multicast, reserved, unspecified, CGNAT); the connection goes
  to that checked address (no second lookup a DNS-rebinding server could answer differently),
  with the name kept for the Host header and for TLS (SNI and certificate check);
- redirects are followed by hand, at most MAX_REDIRECTS, each target checked the same way, and
  a redirect back to a URL already seen is refused as a loop;
- the body is read to at most `max_bytes` within `timeout` seconds.

`allow_private` exists for tests that serve the picture from 127.0.0.1 (settings
OPEN311_MEDIA_ALLOW_PRIVATE); loops, schemes and sizes are checked all the same.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.utils.translation import gettext_lazy as _

from warmstation.core.errors import InvalidInput

MAX_REDIRECTS = 3
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


@dataclass(frozen=True)
class Fetched:
    url: str
    content_type: str
    body: bytes


def _refuse(code: str) -> InvalidInput:
    return InvalidInput(_("无法获取该图片地址（只接受公网的 http/https 地址）。"), code=code,
                        field="media_url")


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                or ip.is_reserved or ip.is_unspecified or ip in _CGNAT
                or not ip.is_global)


def _resolve(host: str, port: int, *, allow_private: bool) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise _refuse("media_unresolvable") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise _refuse("media_unresolvable")
    if not allow_private and not all(_public(a) for a in addresses):
        raise _refuse("media_private_address")
    return str(addresses[0])


def _check(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username \
            or parts.password:
        raise _refuse("media_bad_url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise _refuse("media_bad_url") from None
    if port not in (80, 443) and not 1024 <= port <= 65535:
        raise _refuse("media_bad_url")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to an address we checked, with the certificate checked for the host name."""

    def __init__(self, address: str, host: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def safe_fetch(url: str, *, max_bytes: int, timeout: float = 5.0,
               allow_private: bool = False) -> Fetched:
    """GET `url` under the rules above; InvalidInput (field media_url) for any refusal."""
    seen: set[str] = set()
    for _hop in range(MAX_REDIRECTS + 1):
        if url in seen:
            raise _refuse("media_redirect_loop")
        seen.add(url)
        scheme, host, port, path = _check(url)
        address = _resolve(host, port, allow_private=allow_private)
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = _PinnedHTTPS(address, host, port, timeout)
        else:
            conn = http.client.HTTPConnection(address, port, timeout=timeout)
        try:
            conn.request("GET", path, headers={"Host": host if port in (80, 443)
                                               else f"{host}:{port}",
                                               "User-Agent": "warmstation-open311/1",
                                               "Accept": "image/*"})
            response = conn.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                location = response.getheader("Location") or ""
                if not location:
                    raise _refuse("media_bad_redirect")
                url = urljoin(url, location)
                continue
            if response.status != 200:
                raise _refuse("media_http_error")
            length = response.getheader("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise _refuse("media_too_large")
            body = response.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise _refuse("media_too_large")
            return Fetched(url=url, content_type=response.getheader("Content-Type") or "",
                           body=body)
        except (OSError, http.client.HTTPException, ssl.SSLError):
            raise _refuse("media_unreachable") from None
        finally:
            conn.close()
    raise _refuse("media_too_many_redirects")
