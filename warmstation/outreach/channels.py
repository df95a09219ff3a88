"""Delivery channels. A channel sends one message or raises DeliveryError; the outbox decides
about retries. The SMS channel is chosen by settings.SMS_BACKEND:

- "console": the demo. The message is logged (and stays visible in the admin's outbox list).
- "http": a production SMS gateway. POST JSON {"mobile", "text", "id"} to SMS_GATEWAY_URL with
  `Authorization: Bearer SMS_GATEWAY_TOKEN`; any 2xx is accepted, its JSON "id" kept.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

from django.conf import settings

logger = logging.getLogger("warmstation.outbox")


class DeliveryError(Exception):
    pass


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


def _post_json(url: str, payload: dict, *, token: str = "") -> str:
    if not url.startswith(("http://", "https://")):
        raise DeliveryError("gateway URL must be http(s)")
    data = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            body = response.read(4096)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"gateway answered {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryError(f"gateway unreachable: {exc}") from exc
    try:
        return str(json.loads(body).get("id", ""))[:128]
    except (ValueError, AttributeError):
        return ""
