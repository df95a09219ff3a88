"""Shared API schemas: the problem+json body, and the constrained input types every operation
uses for ids, text, mobiles, codes, points, prices, days and times of day."""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from annotated_types import GroupedMetadata
from django.utils import timezone
from ninja import Field, Schema
from pydantic import (
    AfterValidator,
    BeforeValidator,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from warmstation.core.errors import InvalidInput
from warmstation.core.inputs import (
    CLOCK_RE,
    DATE_MAX,
    DATE_MIN,
    ID_MAX,
    POINTS_MAX,
    PRICE_MAX,
    check_date,
    check_text,
    normalise_code,
    normalise_mobile,
    normalise_optional_phone,
    normalise_phone,
)
from warmstation.core.time import LOCAL


class LocalizedMessage(Schema):
    zh: str
    en: str


class ProblemOut(Schema):
    """application/problem+json (RFC 9457) with the message in Chinese and English."""

    type: str
    title: str
    status: int
    code: str
    detail: LocalizedMessage


# Status codes every authenticated operation may answer with (declared so that the OpenAPI
# schema lists them and schemathesis can hold us to it).
AUTH_ERRORS = {401: ProblemOut, 403: ProblemOut, 422: ProblemOut}


# --- Constrained input types: the edge's contract, shown in the OpenAPI document -------------
# Each wraps one normaliser of `core/inputs.py`, so a page and an operation accept the same
# values. A refusal becomes a validation error whose ctx carries the Chinese and the English
# message (see `on_validation_error` in config/api.py).


def _pydantic(check: Callable[..., Any], **kwargs: Any) -> Callable[[Any], Any]:
    def validate(value: Any) -> Any:
        try:
            return check(value, **kwargs)
        except InvalidInput as exc:
            raise PydanticCustomError(exc.code, exc.message_en,
                                      {"zh": exc.message_zh, "en": exc.message_en}) from None
    return validate


# Characters a single line may not hold: C0 and C1 controls (tab and newline included), DEL,
# U+2028/U+2029. Multi-line text lets tab, LF and CR through.
_LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"
_TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"


@dataclass(frozen=True)
class _Bounded(GroupedMetadata):
    """The metadata of a bounded text field: `Annotated[str, Line(128)]`."""

    max_length: int
    min_length: int = 0
    multiline: bool = False

    def __iter__(self) -> Iterator[object]:
        yield AfterValidator(_pydantic(check_text, max_length=self.max_length,
                                       **({"multiline": True} if self.multiline else {})))
        yield WithJsonSchema({"type": "string", "maxLength": self.max_length,
                              "minLength": self.min_length,
                              "pattern": _TEXT_PATTERN if self.multiline else _LINE_PATTERN})
        yield StringConstraints(min_length=self.min_length)



def Line(max_length: int, *, min_length: int = 0) -> _Bounded:  # noqa: N802 (reads as a type)
    """One line of text (a name, a title, an address): no control characters, bounded.
    Use as `Annotated[str, Line(128)]`."""
    return _Bounded(max_length, min_length)


def Text(max_length: int, *, min_length: int = 0) -> _Bounded:  # noqa: N802
    """Multi-line text (a case body, an answer, a note): tab and newline allowed, bounded.
    Use as `Annotated[str, Text(4000)]`."""
    return _Bounded(max_length, min_length, multiline=True)


def _digits_only(value: Any) -> Any:
    # A JSON number is not a mobile or a code: 13800000007 as a number loses nothing, but
    # 1.38e10 would; ask for the string the person typed.
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "Input should be a valid string")
    return value


Mobile = Annotated[
    str,
    BeforeValidator(_pydantic(normalise_mobile)),
    BeforeValidator(_digits_only),
    WithJsonSchema({"type": "string", "pattern": "^(\\+86)?1[3-9][0-9]{9}$",
                    "description": "mainland mobile; full-width digits, spaces, hyphens and "
                                   "+86 are accepted and normalised"}),
]
"""A mainland mobile number, normalised (NFKC, no spaces or hyphens, no +86) to 11 digits."""

# The pattern is the plain forms (every string matching it is accepted); spaces, parentheses
# and +86 are accepted too and tidied, as for Mobile.
_PHONE_SCHEMA = {"type": "string", "maxLength": 32,
                 "pattern": "^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}|[0-9]{3,12}|"
                            "[48]00-?[0-9]{3}-?[0-9]{4})( ?转 ?[0-9]{1,6})?$",
                 "description": "a telephone number: a landline with its area code and an "
                                "optional extension (010-69300001 转 123), a mobile, a 400/800 "
                                "line or a short service number (12345)",
                 "examples": ["010-69300001", "13800000000", "12345"]}
Phone = Annotated[str, BeforeValidator(_pydantic(normalise_phone)), BeforeValidator(_digits_only),
                  WithJsonSchema(_PHONE_SCHEMA)]
"""A telephone number, checked and tidied by core.inputs.normalise_phone (pages use the same)."""
OptionalPhone = Annotated[str, BeforeValidator(_pydantic(normalise_optional_phone)),
                          BeforeValidator(_digits_only),
                          WithJsonSchema({**_PHONE_SCHEMA,
                                          "pattern": f"^$|{_PHONE_SCHEMA['pattern']}"})]
"""A telephone number or "" (none)."""

Id = Annotated[int, Field(ge=1, le=ID_MAX)]
"""A database id: what a 64-bit signed integer column can hold."""

Points = Annotated[int, Field(ge=1, le=POINTS_MAX)]
"""Points in one award, offer or reversal."""

Price = Annotated[float, Field(ge=0, le=PRICE_MAX, allow_inf_nan=False)]
"""A price in yuan."""

_DATE_PATTERN = "^(20[0-9][0-9]|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"

Day = Annotated[
    date,
    AfterValidator(_pydantic(check_date)),
    WithJsonSchema({"type": "string", "format": "date", "pattern": _DATE_PATTERN,
                    "description": f"{DATE_MIN.isoformat()}..{DATE_MAX.isoformat()}"}),
]
"""A calendar day within DATE_MIN..DATE_MAX (so any arithmetic on it stays representable)."""


def _clock(value: Any) -> Any:
    if isinstance(value, time):
        return value
    if not isinstance(value, str) or not re.fullmatch(CLOCK_RE, value.strip()):
        raise PydanticCustomError("invalid_time", "Enter a time of day as HH:MM.",
                                  {"zh": "请按 时:分 填写时间（如 07:30）。",
                                   "en": "Enter a time of day as HH:MM (e.g. 07:30)."})
    return value.strip()


ClockTime = Annotated[
    time,
    BeforeValidator(_clock),
    WithJsonSchema({"type": "string", "pattern": f"^{CLOCK_RE}$", "example": "07:30"}),
]
"""A local time of day as HH:MM (or HH:MM:SS), never a number of seconds or a zone."""


@dataclass(frozen=True)
class _Digits(GroupedMetadata):
    """The metadata of a typed code: `Annotated[str, Code(6)]`."""

    length: int | None = None

    def __iter__(self) -> Iterator[object]:
        pattern = f"^[0-9]{{{self.length}}}$" if self.length else "^[0-9]{1,16}$"
        yield BeforeValidator(_pydantic(normalise_code, length=self.length))
        yield BeforeValidator(_digits_only)
        yield WithJsonSchema({"type": "string", "pattern": pattern})


def Code(length: int | None = None) -> _Digits:  # noqa: N802
    """Digits a person types from an SMS, a screen or a TOTP app (full-width and spaces are
    normalised away): exactly `length` ASCII digits once normalised. Use as
    `Annotated[str, Code(6)]`."""
    return _Digits(length)


# An ISO 8601 date-time as RFC 3339 profiles it: a date, `T`, a time (seconds and fraction
# optional), and an optional zone (`Z` or ±HH:MM / ±HHMM). pydantic alone would also take a
# number of seconds ("0.5"), a date alone or a space for the `T`.
_ISO_MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}"
                         r"(:[0-9]{2}(\.[0-9]{1,9})?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})?")


def _iso_moment(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and "T" in value.upper():
        # A query string decodes an unescaped "+" as a space: "…T08:00:00 08:00" was sent as
        # "…T08:00:00+08:00".
        value = re.sub(r"(?<=[0-9]) ([0-9]{2}:?[0-9]{2})$", r"+\1", value)
    if not isinstance(value, str) or not _ISO_MOMENT.fullmatch(value):
        raise PydanticCustomError(
            "invalid_datetime", "Enter a date and time in ISO 8601.",
            {"zh": "请按 ISO 8601 填写日期和时间（如 2026-01-01T08:00:00+08:00）。",
             "en": "Enter a date and time in ISO 8601 (e.g. 2026-01-01T08:00:00+08:00)."})
    return value


def _moment(value: Any) -> Any:
    if not isinstance(value, datetime):
        return value
    if timezone.is_naive(value):  # a local time, as people in Fangshan mean it
        value = timezone.make_aware(value, LOCAL)
    try:
        value = value.astimezone(UTC)
    except (OverflowError, ValueError):  # 0001-01-01T00:00+08:00 is before year 1 in UTC
        value = None
    if value is None or not DATE_MIN <= value.date() <= DATE_MAX:
        raise PydanticCustomError(
            "invalid_date", "The date must be between 2000-01-01 and 2100-12-31.",
            {"zh": "日期须在 2000-01-01 至 2100-12-31 之间。",
             "en": "The date must be between 2000-01-01 and 2100-12-31."})
    return value


Moment = Annotated[
    datetime,
    BeforeValidator(_iso_moment),
    AfterValidator(_moment),
    WithJsonSchema({"type": "string", "format": "date-time",
                    "pattern": "^(20[0-9][0-9]|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T"
                               "([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?"
                               "(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])?$"}),
]
"""An instant between 2000 and 2100, written in ISO 8601 (never a number of seconds); one
without a zone is read as Asia/Shanghai; kept in UTC (so a far-off offset such as -16:06 never
reaches the database)."""
