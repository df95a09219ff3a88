"""Log lines: structured (one JSON object a line) and never holding a full mobile or ID number.

Logs leave the application's protections (they go to the journal, to a collector, to whoever
debugs a problem), so every line is masked on its way out, whatever logger wrote it — ours,
Django's (`Not Found: /…` with a number in the path), a library's — and its traceback too:
`MaskPersonalData` is a handler filter (config/settings.py LOGGING). The patterns are the
mainland mobile (11 digits from 13x–19x, optionally after +86) and the 18-character resident ID
number, neither inside a longer run of digits (an order number is left alone).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from warmstation.core.masking import mask_id_number, mask_mobile

_ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}[01]\d[0-3]\d\d{3}[\dXx](?![0-9A-Za-z])"
)
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[ -]?)?(1[3-9]\d{9})(?![0-9])")

# Attributes every LogRecord has that are not free text worth scanning.
_PLAIN = {
    "name",
    "levelname",
    "levelno",
    "pathname",
    "filename",
    "module",
    "funcName",
    "lineno",
    "created",
    "msecs",
    "relativeCreated",
    "thread",
    "threadName",
    "processName",
    "process",
    "taskName",
    "args",
    "msg",
    "exc_info",
    "exc_text",
    "stack_info",
}


def mask_text(text: str) -> str:
    """`13800000001` → `138****0001`, `110111199001011234` → `110111********1234`."""
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)
    return _MOBILE.sub(lambda m: mask_mobile(m.group(1)), text)


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mask_value(v) for v in value)
    if value is None or isinstance(value, bool | int | float):
        return value
    # An object (django.request's `request`): its text, as a formatter would print it.
    return mask_text(str(value))


class MaskPersonalData(logging.Filter):
    """Renders the message (so a number passed as an argument is caught too), masks it, its
    traceback and any `extra` text, and lets the record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 — a broken format string: log what there is
            message = str(record.msg)
        record.msg, record.args = mask_text(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            # Formatters print exc_text when exc_info is gone (the JSON one would otherwise
            # format the traceback again, unmasked).
            record.exc_text, record.exc_info = mask_text(record.exc_text), None
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key not in _PLAIN and not key.startswith("_"):
                record.__dict__[key] = _mask_value(value)
        return True


class JsonFormatter(_JsonFormatter):
    """`{"time", "level", "logger", "message", …extra, "exc_info"?}` on one line, UTF-8 (Chinese
    stays readable)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)
