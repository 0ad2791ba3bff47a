"""Field values: turning what a person or a client sent into the typed value a field holds.

One function per family of types; each returns the value or raises ``BadValue`` with the
message key to show. The same coercion serves the API, the web forms and imports: numbers
and dates written as text are read as people write them (``written.py``: ``1,234.50``,
``¥1,234.50``, ``2025/8/12``, ``2025年8月12日``, full-width digits) wherever the meaning is
unambiguous. Every value is also bounded by what its column holds: ids are 64-bit and
positive, whole numbers stay within 18 digits, decimals within the field's precision, text
within its length, instants within the calendar in every time zone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from loom.engines.field_values.written import ascii_text, read_date, read_datetime, read_number
from loom.metamodel.fields import FieldSpec, FieldType
from loom.metamodel.i18n import register_messages

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{3,24}$")
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "是", "对", "真", "√", "✓", "✔"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "否", "错", "假", "×", "✗", "✘"})
ADDRESS_KEYS = frozenset({"country", "province", "city", "district", "street", "postcode",
                          "detail"})
MAX_TEXT = 100_000
# Record ids are 64-bit integers in both databases: a larger number names no record, and
# sending it to the database would fail instead of finding nothing.
MAX_ID = 2**63 - 1
DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
# Stored instants, in UTC: a day inside what Python can hold, so that every time zone can
# show them (0001-01-01 00:00 in Shanghai would be before year 1 in UTC).
MOMENT_RANGE = (datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, 23, 59, 59, 999999,
                                                         tzinfo=UTC))


register_messages({
    "nul_character": {"en": "{label} contains a NUL character, which cannot be stored",
                      "zh-CN": "{label}包含无法保存的 NUL 字符"},
})


class BadValue(Exception):
    """A value that does not fit its field; ``key`` names the catalog message."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def is_record_id(value: Any) -> bool:
    """Could ``value`` be the id of a stored row?"""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def is_blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def coerce(spec: FieldSpec, value: Any, *, tz: tzinfo = DEFAULT_TZ) -> Any:
    """The typed value of ``value`` for a field of ``spec``; blank input becomes None."""
    if isinstance(value, str) and spec.type not in (FieldType.JSON,):
        value = value.strip() if spec.type not in _KEEP_SPACES else value
    if is_blank(value) and spec.type is not FieldType.BOOLEAN:
        return None
    if value is None:
        return None
    handler = _HANDLERS.get(spec.storage_type() if spec.computed else spec.type, _text)
    return handler(spec, value, tz)


def _text(spec: FieldSpec, value: Any, _tz: tzinfo) -> str:
    if not isinstance(value, str):
        if spec.type is FieldType.PHONE and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        else:
            raise BadValue("not_text")
    limit = spec.max_length or MAX_TEXT
    if len(value) > limit:
        raise BadValue("too_long", max=limit)
    _refuse_nul(value)
    return value


def _refuse_nul(text: str) -> None:
    # PostgreSQL text cannot hold U+0000; refuse it on every database alike
    if "\x00" in text:
        raise BadValue("nul_character")


def _email(spec: FieldSpec, value: Any, tz: tzinfo) -> str:
    text = _text(spec, value, tz)
    if not EMAIL.match(text):
        raise BadValue("not_an_email")
    return text


def _phone(spec: FieldSpec, value: Any, tz: tzinfo) -> str:
    text = _text(spec, value, tz)
    if not PHONE.match(text) or sum(ch.isdigit() for ch in text) < 4:
        raise BadValue("not_a_phone")
    return text


def _url(spec: FieldSpec, value: Any, tz: tzinfo) -> str:
    text = _text(spec, value, tz)
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise BadValue("not_a_url")
    return text


def _select(spec: FieldSpec, value: Any, tz: tzinfo) -> str:
    text = _text(spec, value, tz)
    choices = spec.option_values()
    if text not in choices:
        raise BadValue("not_an_option", value=text, options=", ".join(choices))
    return text


def _multiselect(spec: FieldSpec, value: Any, tz: tzinfo) -> list[str]:
    if isinstance(value, str):
        value = [part.strip() for part in re.split(r"[;,，；]", value) if part.strip()]
    if not isinstance(value, list):
        raise BadValue("not_a_list")
    chosen: list[str] = []
    for item in value:
        text = _select(spec, item, tz)
        if text not in chosen:
            chosen.append(text)
    return chosen


def _integer(spec: FieldSpec, value: Any, _tz: tzinfo) -> int:
    number = _number(spec, value, "not_an_integer")
    if number != number.to_integral_value():
        raise BadValue("not_an_integer", value=_shown(value))
    result = int(number)
    if abs(result) >= 10**18:
        raise BadValue("too_large", max=10**18 - 1)
    _check_range(spec, number)
    return result


def _decimal(spec: FieldSpec, value: Any, _tz: tzinfo) -> Decimal:
    number = _number(spec, value, "not_a_number")
    scale, digits = spec.decimal_scale(), spec.decimal_digits()
    exponent = number.normalize().as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    if decimals > scale or abs(number) >= Decimal(10) ** (digits - scale):
        raise BadValue("too_many_digits", digits=digits - scale, scale=scale)
    _check_range(spec, number)
    return number.quantize(Decimal(1).scaleb(-scale))


def _number(spec: FieldSpec | None, value: Any, key: str) -> Decimal:
    """A number given as one, or written as text the way people write it (``written``)."""
    if isinstance(value, bool):
        raise BadValue(key, value=_shown(value))
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        kind = spec.type if spec is not None else None
        read = read_number(value, currency=(spec.currency or "CNY") if kind is
                           FieldType.CURRENCY else None, percent=kind is FieldType.PERCENT)
        if read is None:
            raise BadValue(key, value=_shown(value))
        number = read
    else:
        raise BadValue(key, value=_shown(value))
    if not number.is_finite():
        raise BadValue(key, value=_shown(value))
    return number


def _shown(value: Any) -> str:
    """A refused value as the message quotes it: short, on one line."""
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:39] + "…"


def _check_range(spec: FieldSpec, number: Decimal) -> None:
    if spec.min is not None and number < spec.min:
        raise BadValue("too_small", min=spec.min)
    if spec.max is not None and number > spec.max:
        raise BadValue("too_large", max=spec.max)


def _boolean(_spec: FieldSpec, value: Any, _tz: tzinfo) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = ascii_text(value).lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise BadValue("not_boolean")


def _date(_spec: FieldSpec, value: Any, _tz: tzinfo) -> date:
    if isinstance(value, datetime):
        raise BadValue("not_a_date", value=_shown(value.isoformat()))
    if isinstance(value, date):
        return value
    day = read_date(value) if isinstance(value, str) else None
    if day is None:
        raise BadValue("not_a_date", value=_shown(value))
    return day


def _datetime(_spec: FieldSpec, value: Any, tz: tzinfo) -> datetime:
    moment = value if isinstance(value, datetime) else \
        read_datetime(value) if isinstance(value, str) else None
    if moment is None:
        raise BadValue("not_a_datetime", value=_shown(value))
    if moment.tzinfo is None:  # a wall-clock time means the app's time zone
        moment = moment.replace(tzinfo=tz)
    try:
        stored: datetime | None = moment.astimezone(UTC)
    except OverflowError:  # beyond Python's calendar once in UTC
        stored = None
    if stored is None or not MOMENT_RANGE[0] <= stored <= MOMENT_RANGE[1]:
        raise BadValue("moment_out_of_range", first=MOMENT_RANGE[0].date().isoformat(),
                       last=MOMENT_RANGE[1].date().isoformat())
    return stored


def _reference(spec: FieldSpec, value: Any, _tz: tzinfo) -> int | str:
    """An id, or for users an email / for departments a name, resolved by the pipeline.
    An id is a whole number a 64-bit key can hold, from 1: anything else names no record
    and is refused here, before a formula or rule could look it up."""
    if isinstance(value, Mapping) and "id" in value:
        value = value["id"]
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)  # not "²", which isdigit() but int() refuses
    if isinstance(value, int) and not isinstance(value, bool):
        if not is_record_id(value):
            raise BadValue("not_a_record_id", value=_shown(value), max=MAX_ID)
        return value
    if isinstance(value, str) and spec.type is not FieldType.LOOKUP:
        _refuse_nul(value)
        return value
    raise BadValue("not_a_record_id", value=_shown(value), max=MAX_ID)


def _rating(spec: FieldSpec, value: Any, tz: tzinfo) -> int:
    top = spec.max_rating or 5
    try:
        number = _integer(spec, value, tz)
    except BadValue:
        raise BadValue("rating_range", max=top) from None
    if not 0 <= number <= top:
        raise BadValue("rating_range", max=top)
    return number


def _files(_spec: FieldSpec, value: Any, _tz: tzinfo) -> list[dict[str, Any]]:
    items = [value] if isinstance(value, Mapping) else value
    if not isinstance(items, list):
        raise BadValue("not_a_list")
    files = []
    for item in items:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str) or not (
                isinstance(item.get("url"), str) or isinstance(item.get("key"), str)):
            raise BadValue("not_an_object")
        files.append({k: item[k] for k in ("name", "url", "key", "size", "type") if k in item})
    return files


def _signature(_spec: FieldSpec, value: Any, _tz: tzinfo) -> dict[str, Any]:
    if isinstance(value, str):
        value = {"image": value}
    if not isinstance(value, Mapping):
        raise BadValue("not_an_object")
    image = value.get("image") or value.get("key")
    if not isinstance(image, str) or not image:
        raise BadValue("not_an_object")
    return {k: value[k] for k in ("image", "key", "signer", "signed_at") if k in value}


def _address(_spec: FieldSpec, value: Any, _tz: tzinfo) -> dict[str, str]:
    if not isinstance(value, Mapping) or not set(value) <= ADDRESS_KEYS:
        raise BadValue("not_an_object")
    if not all(isinstance(v, str) for v in value.values()):
        raise BadValue("not_an_object")
    return dict(value)


def _location(_spec: FieldSpec, value: Any, _tz: tzinfo) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise BadValue("bad_location")
    try:
        lat = _number(None, value.get("lat"), "bad_location")
        lng = _number(None, value.get("lng"), "bad_location")
    except BadValue:
        raise BadValue("bad_location") from None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise BadValue("bad_location")
    location: dict[str, Any] = {"lat": lat, "lng": lng}
    if isinstance(value.get("address"), str):
        location["address"] = value["address"]
    return location


def _json(_spec: FieldSpec, value: Any, _tz: tzinfo) -> Any:
    return value


_KEEP_SPACES = frozenset({FieldType.TEXTAREA, FieldType.RICH_TEXT})
_HANDLERS: dict[FieldType, Callable[[FieldSpec, Any, tzinfo], Any]] = {
    FieldType.TEXT: _text, FieldType.TEXTAREA: _text, FieldType.RICH_TEXT: _text,
    FieldType.SERIAL: _text,
    FieldType.EMAIL: _email, FieldType.PHONE: _phone, FieldType.URL: _url,
    FieldType.SELECT: _select, FieldType.MULTISELECT: _multiselect,
    FieldType.INTEGER: _integer, FieldType.DECIMAL: _decimal, FieldType.CURRENCY: _decimal,
    FieldType.PERCENT: _decimal, FieldType.RATING: _rating, FieldType.BOOLEAN: _boolean,
    FieldType.DATE: _date, FieldType.DATETIME: _datetime,
    FieldType.LOOKUP: _reference, FieldType.USER: _reference, FieldType.DEPARTMENT: _reference,
    FieldType.FILE: _files, FieldType.IMAGE: _files, FieldType.SIGNATURE: _signature,
    FieldType.ADDRESS: _address, FieldType.LOCATION: _location, FieldType.JSON: _json,
}


def to_json(value: Any) -> Any:
    """A stored value as JSON data (decimals stay exact for the JSON encoder)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value
