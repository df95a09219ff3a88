"""What the edge accepts: one normaliser per kind of input, used by the API schemas
(`core/schemas.py`) and the pages alike, so the same value is accepted or refused the same way.

Chinese input methods type full-width digits and spaces (`１３８ ０００ ０００ ０７`); NFKC turns
them into ASCII before anything is checked. Text may not carry NUL or other control characters
(PostgreSQL refuses NUL in text columns; the others break exports and logs); tab and newline are
allowed only in multi-line fields. Every number and date is bounded by what the database and the
calendar arithmetic can hold.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import connection, models
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from warmstation.core.errors import InvalidInput, NotFound

# The largest id a 64-bit signed integer column holds (PostgreSQL bigint, SQLite integer).
ID_MAX = 2**63 - 1
# Dates the system reasons about: far enough either way for any real record, and every month
# arithmetic (a month back, a year ahead) stays inside what `datetime.date` can represent.
DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2100, 12, 31)
# Points in one award, offer or reversal; prices in yuan.
POINTS_MAX = 1_000_000
PRICE_MAX = 100_000

# A local time of day as HH:MM or HH:MM:SS (pages and the API's ClockTime alike).
CLOCK_RE = "([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?"
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
# C0 controls, DEL, C1 controls; and the Unicode line/paragraph separators, which behave as
# newlines in JavaScript and spreadsheets. Tab, LF and CR are let through in multi-line text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def nfkc(value: object) -> str:
    """Full-width letters, digits and spaces become ASCII; surrounding space is dropped."""
    return unicodedata.normalize("NFKC", "" if value is None else str(value)).strip()


def _compact(value: object) -> str:
    """NFKC, then without the spaces and hyphens people type to group digits."""
    return re.sub(r"[\s\-]", "", nfkc(value))


def normalise_mobile(value: object, *, field: str = "mobile") -> str:
    """A mainland mobile number as the 11 ASCII digits we store, or InvalidInput (nothing is
    sent to a number that fails here). Accepts full-width digits, spaces, hyphens and +86."""
    mobile = _compact(value)
    if mobile.startswith("+86"):
        mobile = mobile[3:]
    elif mobile.startswith("0086"):
        mobile = mobile[4:]
    if not _MOBILE.fullmatch(mobile):
        raise InvalidInput(_("请输入正确的11位手机号。"), code="invalid_mobile",
                           field=field)
    return mobile


# A telephone number as people write it: digits grouped by spaces, hyphens or an area code in
# parentheses, an optional + country code, an optional extension (转 123, ext. 123, x123, #123).
_PHONE = re.compile(r"(\+?[0-9(][0-9() \-]*?)\s*(?:(?:转|分机|ext\.?|x|#)\s*([0-9]{1,6}))?",
                    re.IGNORECASE)
PHONE_MAX = 32


def normalise_phone(value: object, *, field: str = "phone") -> str:
    """A telephone number (a landline with its area code, a mobile, a 400/800 line, a short
    service number such as 12345), NFKC-normalised with its spacing tidied, or InvalidInput.
    A number without separators is 3..12 digits; one written in groups must read as a
    mainland number (0 + area code, 1[3-9] mobile, 400/800) or carry a + country code, so a
    date (9999-12-31) is not taken for a phone."""
    text = re.sub(r"\s+", " ", nfkc(value))
    match = _PHONE.fullmatch(text)
    ok = False
    if match and len(text) <= PHONE_MAX and text.count("(") == text.count(")"):
        main = match.group(1)
        digits = re.sub(r"[^0-9]", "", main)
        if main.startswith("+"):
            if digits.startswith("86"):
                rest = digits[2:]
                # after +86: a mobile, Beijing (10) + 8 digits, another area code + number
                ok = bool(re.fullmatch(r"1[3-9][0-9]{9}|10[0-9]{8}|[2-9][0-9]{8,10}|[48]00[0-9]{7}",
                                       rest))
            else:
                ok = 6 <= len(digits) <= 15
        elif re.fullmatch(r"[0-9]+", main):
            ok = 3 <= len(digits) <= 12
        else:
            ok = bool(re.fullmatch(r"0[0-9]{9,11}|1[3-9][0-9]{9}|[48]00[0-9]{7}", digits))
    if not ok:
        raise InvalidInput(_("请输入正确的电话号码（如 010-12345678、13800000000、400-123-4567）。"),
                           code="invalid_phone", field=field)
    return text


def validate_phone(value: object) -> None:
    """normalise_phone as a Django validator (model fields, so the admin refuses what the pages
    and the API refuse, with the same message)."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import get_language

    if value in (None, ""):
        return
    try:
        normalise_phone(value)
    except InvalidInput as exc:
        raise ValidationError(exc.message(get_language()), code="invalid_phone") from None


if TYPE_CHECKING:  # CharField is generic only in the stubs
    _CharField = models.CharField[str, str]
else:
    _CharField = models.CharField


class PhoneField(_CharField):
    """A telephone number column (a landline with area code and extension, a mobile, a 12345
    short number), checked by `validate_phone` wherever a ModelForm or full_clean runs (the
    admin). Validators are not part of the schema: it deconstructs as a plain CharField, so
    migrations never see a difference."""

    default_validators = [validate_phone]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", PHONE_MAX)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs


def normalise_optional_phone(value: object, *, field: str = "phone") -> str:
    """"" stays "" (a phone that is not required); anything else through normalise_phone."""
    return normalise_phone(value, field=field) if nfkc(value) else ""


def normalise_code(value: object, *, length: int | None = None, field: str = "code") -> str:
    """A code typed by a person (SMS code, redemption digits, TOTP): ASCII digits only."""
    code = _compact(value)
    if not code.isascii() or not code.isdigit() or (length and len(code) != length) \
            or len(code) > 16:
        raise InvalidInput(_("请输入正确的数字验证码。"), code="invalid_code", field=field)
    return code


def normalise_int(value: object, *, lo: int = 1, hi: int = ID_MAX, field: str = "id") -> int:
    """A whole number typed or passed in a URL or form (ids, quantities), within [lo, hi]."""
    raw = _compact(value)
    if not re.fullmatch(r"[+-]?[0-9]{1,19}", raw) or not lo <= int(raw) <= hi:
        raise InvalidInput(_("请输入有效的数字。"), code="invalid_number", field=field)
    return int(raw)


def normalise_date(value: object, *, field: str = "date") -> date:
    """An ISO date (YYYY-MM-DD, full-width digits allowed) within DATE_MIN..DATE_MAX."""
    raw = value.isoformat() if isinstance(value, date) else re.sub(r"\s", "", nfkc(value))
    try:
        day = date.fromisoformat(raw) if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw) \
            else None
    except ValueError:
        day = None
    if day is None:
        raise InvalidInput(_("请输入正确的日期（年-月-日）。"), code="invalid_date", field=field)
    return check_date(day, field=field)


def check_date(day: date, *, field: str = "date") -> date:
    if not DATE_MIN <= day <= DATE_MAX:
        raise InvalidInput(_("日期须在 2000-01-01 至 2100-12-31 之间。"), code="invalid_date",
                           field=field)
    return day


def normalise_month(value: object, *, field: str = "month") -> date:
    """A month typed as YYYY-MM (or a date in it): the first day of that month, in bounds."""
    raw = nfkc(value)
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}", raw):
        raw += "-01"
    return normalise_date(raw, field=field).replace(day=1)


def check_text(value: str, *, max_length: int, multiline: bool = False,
               field: str | None = None) -> str:
    """Refuse control characters (tab and newline only in multi-line text) and overlong text.
    The value is not otherwise changed: normalise first with `clean_text`."""
    if (_CONTROL if multiline else _CONTROL_LINE).search(value):
        raise InvalidInput(
            _("文本含有不允许的控制字符。") if multiline else
            _("此处只能填一行文字，不能含换行或控制字符。"),
            code="invalid_text", field=field)
    if len(value) > max_length:
        raise InvalidInput(
            f"文字过长：最多 {max_length} 个字符（现为 {len(value)} 个）。",
            f"Too long: at most {max_length} characters (this is {len(value)}).",
            code="too_long", field=field)
    return value


def clean_text(value: object, *, max_length: int, multiline: bool = False,
               field: str | None = None) -> str:
    """Text from a form or a body: NFC (composed, as typed; full-width punctuation is kept,
    it is ordinary Chinese text), surrounding space stripped, then `check_text`."""
    text = unicodedata.normalize("NFC", "" if value is None else str(value)).strip()
    if multiline:
        text = text.replace("\r\n", "\n")
    return check_text(text, max_length=max_length, multiline=multiline, field=field)


def model_value_check(sender: type[models.Model], instance: models.Model, raw: bool = False,
                      **kwargs: Any) -> None:
    """Last line of defence, connected to pre_save for every model of ours (core/apps.py): no
    column is written with a value the database cannot hold — text with NUL or another control
    character or longer than its max_length, a whole number outside the column's range, a
    decimal with more digits than it has room for, a NaN or infinite float — whatever path the
    value came by (a page, the API, a service, the admin).

    The edge (schemas, page forms) refuses such input first, with the field's own message; this
    keeps PostgreSQL (which answers NUL, overlong varchar and out-of-range numbers with an error,
    a 500) and SQLite (which stores them, or overflows) behaving the same. Multi-line rules apply
    to text here (tab and newline pass): the single-line rule belongs to the edge, which knows
    what the field is for."""
    if raw:  # loading fixtures
        return
    for field in sender._meta.concrete_fields:
        value = getattr(instance, field.attname, None)
        if value is None or isinstance(value, bool):
            continue
        kind = field.get_internal_type()
        if isinstance(value, str) and kind in _TEXT_KINDS:
            check_text(value, max_length=field.max_length or TEXT_COLUMN_MAX, multiline=True,
                       field=field.name)
        elif isinstance(value, int) and kind in _INT_KINDS:
            lo, hi = connection.ops.integer_field_range(kind)
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise InvalidInput(_("数值超出范围。"), code="out_of_range", field=field.name)
        elif isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput(_("数值超出范围。"), code="out_of_range", field=field.name)
        elif isinstance(value, Decimal) and isinstance(field, models.DecimalField):
            room = Decimal(10) ** (field.max_digits - field.decimal_places)
            if not value.is_finite() or abs(value) >= room:
                raise InvalidInput(_("数值超出范围。"), code="out_of_range", field=field.name)


_TEXT_KINDS = frozenset({"CharField", "TextField", "SlugField", "EmailField", "URLField"})
_INT_KINDS = frozenset({"IntegerField", "BigIntegerField", "SmallIntegerField",
                        "PositiveIntegerField", "PositiveBigIntegerField",
                        "PositiveSmallIntegerField", "AutoField", "BigAutoField",
                        "SmallAutoField"})
# A TextField without max_length still has a bound: nothing we accept is near it.
TEXT_COLUMN_MAX = 100_000


# --- the page side of the edge ---------------------------------------------------------------

# Form fields that are <textarea>s: tab and newline are text there. Every other field of every
# page form is one line.
MULTILINE_FORM_FIELDS = re.compile(
    r"(body|note|answer|description|question|reason|roster)(_[0-9]+)?")
# No single value a page form sends is longer (the longest field, a case body, is 4,000).
FORM_VALUE_MAX = 10_000


class InputContractMiddleware:
    """Pages: every query and form value is refused, before any view runs, when it holds NUL or
    another control character (tab and newline only in multi-line fields) or is beyond any
    field's length — with the refusal page (422) saying so in the page's language. The API
    holds its input to the same rules in its schemas (core/schemas.py), and Open311 in its
    parameter reader (its errors have the specification's format), so they are left alone.
    Per-field limits are the models' max_length, checked on save (`model_value_check`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The API, HSDS and Open311 answer refusals in their own formats, from their own checks.
        if not request.path.startswith(("/api/", "/hsds/", "/open311/")):
            try:
                for source in (request.GET, request.POST):
                    for name, values in source.lists():
                        multiline = bool(MULTILINE_FORM_FIELDS.fullmatch(name))
                        for value in values:
                            check_text(value, max_length=FORM_VALUE_MAX, multiline=multiline,
                                       field=name)
            except InvalidInput as exc:
                from django.shortcuts import render

                return render(request, "core/refused_input.html",
                              {"message": exc.message(getattr(request, "LANGUAGE_CODE", "")),
                               "field": exc.field}, status=exc.status)
        return self.get_response(request)


class IdConverter:
    """`<id:…>` in a page URL: a database id (1..ID_MAX). A longer number does not match the
    route (404) instead of overflowing the database's integer (a 500)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= ID_MAX:
            raise ValueError(value)
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))


def id_or_404(value: object) -> int:
    """An id named by a URL or a lookup: anything that cannot be one is simply not found (the
    same 404 as a missing or out-of-scope object, never a 500 from an overflowing integer)."""
    number = parse_id(value)
    if number is None:
        raise NotFound()
    return number


def parse_id(value: object) -> int | None:
    """An id picked in a page form (a select, a checkbox), or None when it is not one: pages
    ignore a choice that cannot exist rather than look it up (a 20-digit number overflows the
    database's integer; "²" passes str.isdigit but not int())."""
    try:
        return normalise_int(value)
    except InvalidInput:
        return None
