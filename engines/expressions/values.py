"""Values as the language sees them: JSON Logic truthiness, JavaScript-like coercion and
equality, exact decimal arithmetic, and dates.

Numbers are ``int`` or ``decimal.Decimal``; a ``float`` from JSON is read through its
shortest text (``0.1`` is ``Decimal("0.1")``), so ``0.1 + 0.2 == 0.3`` holds. Blank is
``None``: arithmetic with a blank is blank and an ordering comparison with a blank is false.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Any

# Arithmetic precision: wide enough that products of two 18-digit amounts stay exact.
DECIMAL = Context(prec=40, rounding=ROUND_HALF_EVEN, Emax=60, Emin=-60,
                  traps=[InvalidOperation, DivisionByZero, Overflow])
MAX_INT_BITS = 200
MAX_NUMBER_TEXT = 100
NUMBER_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?")
DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")
DATETIME_TEXT = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?")


class ValueTooLarge(ArithmeticError):
    """A number outside the bounds the language allows."""


# --- truthiness ------------------------------------------------------------------------------

def truthy(value: Any) -> bool:
    """JSON Logic truthiness: false, 0, "", [] and blank are false; "0" and {} are true."""
    if value is True:
        return True
    if value is False or value is None:
        return False
    kind = value.__class__
    if kind is str or kind is list:
        return len(value) > 0
    if kind is int:
        return value != 0
    if kind is Decimal:
        return not (value.is_zero() or value.is_nan())
    if kind is float:
        return value == value and value != 0
    if isinstance(value, list | tuple):
        return len(value) > 0
    return True


# --- numbers ---------------------------------------------------------------------------------

def float_number(value: float) -> int | Decimal | None:
    if value != value or value in (float("inf"), float("-inf")):
        return None
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return Decimal(repr(value))


def text_number(text: str) -> int | Decimal | None:
    """JavaScript's Number(text): blank text is 0, anything not a number is None (NaN)."""
    text = text.strip()
    if not text:
        return 0
    if len(text) > MAX_NUMBER_TEXT or not NUMBER_TEXT.fullmatch(text):
        return None
    number = Decimal(text)
    if "." not in text and "e" not in text and "E" not in text:
        return int(number)
    return number


def to_number(value: Any) -> int | Decimal | None:
    """The number a value stands for, or None (blank, or not a number)."""
    kind = value.__class__
    if kind is int or kind is Decimal:
        if kind is Decimal and not value.is_finite():
            return None
        return value
    if kind is float:
        return float_number(value)
    if kind is bool:
        return int(value)
    if kind is str:
        return text_number(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, list | tuple):
        if not value:
            return 0
        if len(value) == 1:
            return to_number(js_text(value[0]))
    return None


def is_number(value: Any) -> bool:
    kind = value.__class__
    return kind is int or kind is Decimal or kind is float


def checked_int(value: int) -> int:
    if value.bit_length() > MAX_INT_BITS:
        raise ValueTooLarge("integer")
    return value


def add(a: int | Decimal, b: int | Decimal) -> int | Decimal:
    if a.__class__ is int and b.__class__ is int:
        return checked_int(a + b)
    return _decimal(DECIMAL.add, a, b)


def subtract(a: int | Decimal, b: int | Decimal) -> int | Decimal:
    if a.__class__ is int and b.__class__ is int:
        return checked_int(a - b)
    return _decimal(DECIMAL.subtract, a, b)


def multiply(a: int | Decimal, b: int | Decimal) -> int | Decimal:
    if a.__class__ is int and b.__class__ is int:
        return checked_int(a * b)
    return _decimal(DECIMAL.multiply, a, b)


def divide(a: int | Decimal, b: int | Decimal) -> int | Decimal:
    """Exact where it can be: 4 / 2 is 2, 1 / 4 is 0.25. Raises ZeroDivisionError."""
    if b == 0:
        raise ZeroDivisionError
    if a.__class__ is int and b.__class__ is int and a % b == 0:
        return a // b
    return _decimal(DECIMAL.divide, a, b)


def remainder(a: int | Decimal, b: int | Decimal) -> int | Decimal:
    """JavaScript's %: the sign follows the dividend."""
    if b == 0:
        raise ZeroDivisionError
    if a.__class__ is int and b.__class__ is int:
        result = abs(a) % abs(b)
        return -result if a < 0 else result
    return _decimal(DECIMAL.remainder, a, b)


def _decimal(operation: Any, a: int | Decimal, b: int | Decimal) -> Decimal:
    try:
        return operation(a, b)
    except (Overflow, InvalidOperation):
        raise ValueTooLarge("decimal") from None


def number_scale(value: int | Decimal) -> int:
    if value.__class__ is int:
        return 0
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


# --- text ------------------------------------------------------------------------------------

def decimal_text(value: Decimal) -> str:
    if value.is_zero():
        return "0"
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def float_text(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        return f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"
    return text


def js_text(value: Any) -> str:
    """Text of a value as JavaScript's String() gives it; blank is empty text."""
    kind = value.__class__
    if kind is str:
        return value
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return str(value)
    if kind is Decimal:
        return decimal_text(value)
    if kind is float:
        return float_text(value)
    if isinstance(value, list | tuple):
        return ",".join(js_text(item) for item in value)
    if isinstance(value, Mapping):
        return "[object Object]"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool | int | str):
        return js_text(bool(value) if isinstance(value, bool) else
                       int(value) if isinstance(value, int) else str(value))
    if isinstance(value, Decimal):
        return decimal_text(value)
    return str(value)


# --- dates -----------------------------------------------------------------------------------

def parse_date(text: str) -> date | None:
    if len(text) == 10 and DATE_TEXT.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    return None


def parse_datetime(text: str, zone: tzinfo) -> datetime | None:
    if len(text) > 40 or not DATETIME_TEXT.fullmatch(text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def to_temporal(value: Any, zone: tzinfo) -> date | datetime | None:
    """A date or an aware datetime from a value (ISO text is read), else None."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return parse_date(value) or parse_datetime(value, zone)
    return None


def to_date(value: Any, zone: tzinfo) -> date | None:
    """A calendar date: a datetime gives its date in ``zone``."""
    moment = to_temporal(value, zone)
    if isinstance(moment, datetime):
        return moment.astimezone(zone).date()
    return moment


def day_start(day: date, zone: tzinfo) -> datetime:
    """The instant a calendar day begins in ``zone``."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _temporal_pair(a: Any, b: Any, zone: tzinfo) -> tuple[Any, Any] | None:
    left, right = to_temporal(a, zone), to_temporal(b, zone)
    if left is None or right is None:
        return None
    left_dt, right_dt = isinstance(left, datetime), isinstance(right, datetime)
    if left_dt and not right_dt:
        left = left.astimezone(zone).date()
    elif right_dt and not left_dt:
        right = right.astimezone(zone).date()
    return left, right


def is_temporal(value: Any) -> bool:
    return isinstance(value, date)


# --- equality and order ----------------------------------------------------------------------

def loose_equals(a: Any, b: Any, zone: tzinfo = UTC) -> bool:
    """JSON Logic ``==`` (JavaScript's loose equality), with dates compared as dates."""
    ka, kb = a.__class__, b.__class__
    if ka is kb and (ka is str or ka is int or ka is Decimal or ka is bool):
        return a == b
    if a is None or b is None:
        return a is None and b is None
    if is_temporal(a) or is_temporal(b):
        pair = _temporal_pair(a, b, zone)
        return pair is not None and pair[0] == pair[1]
    a_container = isinstance(a, list | tuple | Mapping)
    b_container = isinstance(b, list | tuple | Mapping)
    if a_container or b_container:
        if a_container and b_container:
            return a is b
        return loose_equals(js_text(a) if a_container else a,
                            js_text(b) if b_container else b, zone)
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    left, right = to_number(a), to_number(b)
    return left is not None and right is not None and left == right


def strict_equals(a: Any, b: Any) -> bool:
    """JSON Logic ``===``: same kind and same value; lists and objects only to themselves."""
    ka, kb = _kind(a), _kind(b)
    if ka != kb:
        return False
    if ka == "number":
        return to_number(a) == to_number(b)
    if ka in ("list", "object"):
        return a is b
    return a == b


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value) or isinstance(value, int | Decimal):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, list | tuple):
        return "list"
    return "object"


def ordered(a: Any, b: Any, zone: tzinfo = UTC) -> tuple[Any, Any] | None:
    """The pair to compare for ``<``-like operators, or None when the comparison is false
    (a blank, or values without an order between them)."""
    if a is None or b is None:
        return None
    ka, kb = a.__class__, b.__class__
    if ka is kb and (ka is int or ka is Decimal or ka is str):
        return a, b
    if is_temporal(a) or is_temporal(b):
        return _temporal_pair(a, b, zone)
    if ka is str and kb is str:
        return a, b
    left, right = to_number(a), to_number(b)
    if left is None or right is None:
        return None
    return left, right


def less(a: Any, b: Any, zone: tzinfo = UTC) -> bool:
    pair = ordered(a, b, zone)
    return pair is not None and pair[0] < pair[1]


def less_or_equal(a: Any, b: Any, zone: tzinfo = UTC) -> bool:
    pair = ordered(a, b, zone)
    return pair is not None and pair[0] <= pair[1]


def add_days(value: date | datetime, days: int | Decimal) -> date | datetime:
    if isinstance(value, datetime):
        return value + timedelta(days=float(days))
    return value + timedelta(days=int(days))
