"""Delivery channels. A channel sends one message or raises DeliveryError (retried with
backoff), RetryLater (retried once the receiver's rate window has passed) or
PermanentDeliveryError (a dead letter at once); the outbox decides. The SMS channel is chosen by
settings.SMS_BACKEND:

- "console": the demo. The message is logged (and stays visible in the admin's outbox list).
- "http": a production SMS gateway. POST JSON {"mobile", "text", "id"} to SMS_GATEWAY_URL with
  `Authorization: Bearer SMS_GATEWAY_TOKEN`; any 2xx is accepted, its JSON "id" kept. One
  keep-alive HTTP connection per worker thread is reused for every message (a notice to
  thousands is thousands of posts: a TCP and TLS handshake each would cost more than the post).

Group robots (WeCom, DingTalk) are posted their own JSON message types; see below.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings

logger = logging.getLogger("warmstation.outbox")


class DeliveryError(Exception):
    pass


class PermanentDeliveryError(DeliveryError):
    """The receiver refused for good (a wrong robot key): retrying cannot help; the message is
    a dead letter at once and the channel is marked broken for staff to fix."""


class RetryLater(DeliveryError):
    """The receiver asked us to slow down (WeCom 45009, DingTalk 130101): try again after
    `after_s` seconds, once its rate window has passed."""

    def __init__(self, message: str, *, after_s: int = 60) -> None:
        super().__init__(message)
        self.after_s = after_s


# WeCom group robot (企业微信群机器人): POST JSON to its webhook URL (…/cgi-bin/webhook/send?key=…).
# It answers HTTP 200 even on failure; `errcode` says: 0 ok, 45009 over the limit of 20 messages
# a minute (retry after the minute), 93000 invalid webhook key (permanent).
WECOM_TEXT_MAX_BYTES = 2048
WECOM_MARKDOWN_MAX_BYTES = 4096
WECOM_NEWS_MAX_ARTICLES = 8
WECOM_RATE_LIMITED = {45009}
WECOM_PERMANENT = {93000}
# DingTalk custom robot (钉钉自定义机器人): the webhook URL carries access_token; a robot set to
# sign (加签) needs &timestamp=<ms>&sign=<base64(HMAC-SHA256(secret, f"{timestamp}\n{secret}"))>.
# 130101 is "sending too fast" (20 a minute); 310000 a bad signature, keyword or IP, and 300001
# an invalid token: permanent until staff fix the robot.
DINGTALK_MARKDOWN_MAX_BYTES = 4096
DINGTALK_RATE_LIMITED = {130101}
DINGTALK_PERMANENT = {300001, 310000}
ROBOT_PER_MINUTE = 20


def dingtalk_signed_url(url: str, secret: str, *, timestamp_ms: int | None = None) -> str:
    """The webhook URL with DingTalk's timestamp and signature appended (no secret: as is)."""
    if not secret:
        return url
    timestamp = str(timestamp_ms if timestamp_ms is not None else round(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest).decode())
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"


def _robot_post(url: str, payload: dict, *, rate_limited: set[int],
                permanent: set[int]) -> str:
    if not url.startswith(("http://", "https://")):
        raise PermanentDeliveryError("robot webhook URL must be http(s)")
    data = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=data, method="POST",  # noqa: S310
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            body = response.read(4096)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"robot answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryError(f"robot unreachable: {exc}") from exc
    try:
        answer = json.loads(body)
        errcode = int(answer.get("errcode", -1))
        errmsg = str(answer.get("errmsg", ""))[:200]
    except (ValueError, AttributeError, TypeError):
        raise DeliveryError("robot answered something that is not its JSON") from None
    if errcode == 0:
        return str(answer.get("msgid", "") or "ok")[:128]
    if errcode in rate_limited:
        raise RetryLater(f"errcode {errcode}: {errmsg}", after_s=60)
    if errcode in permanent:
        raise PermanentDeliveryError(f"errcode {errcode}: {errmsg}")
    raise DeliveryError(f"errcode {errcode}: {errmsg}")


def send_wecom(*, url: str, payload: dict) -> str:
    return _robot_post(url, payload, rate_limited=WECOM_RATE_LIMITED, permanent=WECOM_PERMANENT)


def send_dingtalk(*, url: str, secret: str, payload: dict) -> str:
    return _robot_post(dingtalk_signed_url(url, secret), payload,
                       rate_limited=DINGTALK_RATE_LIMITED, permanent=DINGTALK_PERMANENT)


def send_sms(*, message_id: int, mobile: str, text: str) -> str:
    if settings.SMS_BACKEND == "console":
        logger.warning("[SMS → %s] %s", mobile, text)  # the demo's "phone" is the console
        return f"console-{message_id}"
    if settings.SMS_BACKEND == "http":
        return _post_json(
            settings.SMS_GATEWAY_URL,
            {"mobile": mobile, "text": text, "id": message_id},
            token=settings.SMS_GATEWAY_TOKEN,
        )
    raise DeliveryError(f"unknown SMS_BACKEND {settings.SMS_BACKEND!r}")


GATEWAY_TIMEOUT_S = 10
GATEWAY_MAX_ANSWER = 65536
_local = threading.local()


def _connection(key: tuple[str, str, int]) -> tuple[http.client.HTTPConnection, bool]:
    """This thread's connection to the gateway (made on first use); and whether it was reused."""
    pool: dict = _local.__dict__.setdefault("pool", {})
    conn = pool.get(key)
    if conn is not None:
        return conn, True
    scheme, host, port = key
    cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    conn = cls(host, port, timeout=GATEWAY_TIMEOUT_S)
    pool[key] = conn
    return conn, False


def _drop(key: tuple[str, str, int]) -> None:
    conn = _local.__dict__.get("pool", {}).pop(key, None)
    if conn is not None:
        conn.close()


def close_connections() -> None:
    """Close this thread's gateway connections (tests, and a worker shutting down)."""
    for key in list(_local.__dict__.get("pool", {})):
        _drop(key)


def _post_json(url: str, payload: dict, *, token: str = "") -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError("gateway URL must be http(s)")
    key = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    data = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8",
               "Content-Length": str(len(data))}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    for _try in range(2):
        conn, reused = _connection(key)
        try:
            conn.request("POST", target, body=data, headers=headers)
            response = conn.getresponse()
            body = response.read(GATEWAY_MAX_ANSWER)
            status = response.status
            if response.will_close or not response.isclosed():  # closing, or answer too long
                _drop(key)
            break
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected) as exc:
            # Refused before an answer. On a reused connection this is the gateway having closed
            # it while idle (keep-alive timeout): nothing was delivered, so try once on a fresh
            # one. The message id lets a gateway drop a duplicate should it have got it anyway.
            _drop(key)
            if not reused:
                raise DeliveryError(f"gateway unreachable: {exc}") from exc
        except (OSError, http.client.HTTPException) as exc:  # includes timeouts: not retried here
            _drop(key)
            raise DeliveryError(f"gateway unreachable: {exc}") from exc
    else:  # pragma: no cover — the second try raises instead of looping
        raise DeliveryError("gateway unreachable")
    if not 200 <= status < 300:
        raise DeliveryError(f"gateway answered {status}")
    try:
        return str(json.loads(body).get("id", ""))[:128]
    except (ValueError, AttributeError):
        return ""
