"""Numbers and dates as people write them — in a spreadsheet, a CSV export, a form — read
into exact values. The one reader of such text: field coercion (``values.coerce``) uses it
for every source, API and imports alike.

Only what has one meaning is read; anything else is refused, never guessed:

- full-width characters (``１２３４．５``, ``２０２５／８／１２``) are their ASCII twins;
- numbers: ``1234.5``, ``1,234.50`` (commas only between groups of three), a sign or
  accounting brackets (``(1,234.50)`` is negative), ``1.2万`` / ``3亿`` (ten thousand, a
  hundred million); money marks of the field's own currency (``¥1,234.50``, ``￥…``,
  ``1,234.50元``, ``RMB 1,234.50``) on currency fields; ``12.5%`` on percent fields (a
  percent field holds percentage points: ``12.5%`` is 12.5);
- dates year first: ``2025-08-12``, ``2025-8-12``, ``2025/8/12``, ``2025.8.12``,
  ``2025年8月12日``, ``20250812``; day/month orders (``8/12/2025``, ``12/8/2025``) and
  two-digit years are ambiguous and refused;
- date-times: one of those dates, then a time (``9:05``, ``09:05:30``, with ``上午``/``下午``
  or AM/PM), optionally a zone (``+08:00``, ``Z``); ISO 8601 as is.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation

# U+FF01..U+FF5E are the full-width forms of U+0021..U+007E; U+3000 is the ideographic space
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {
    0x3000: 0x20, 0xFFE5: 0xA5, 0x2212: 0x2D, 0xFFE0: 0xA2}
# money marks by currency: any of them, before or after the amount, is that currency
CURRENCY_MARKS: dict[str, tuple[str, ...]] = {
    "CNY": ("¥", "元", "RMB", "CNY", "人民币"),
    "USD": ("US$", "$", "USD"),
    "EUR": ("€", "EUR"),
    "GBP": ("£", "GBP"),
    "HKD": ("HK$", "HKD", "港币", "港元"),
    "JPY": ("¥", "円", "JPY", "日元"),
}
_MULTIPLIERS = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}
_PLAIN = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d*)?([eE][+-]?\d+)?$")
_DATE = re.compile(r"^(\d{4})(?:([-/.])(\d{1,2})\2(\d{1,2})|年(\d{1,2})月(\d{1,2})[日号]?)")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MERIDIEM = r"(上午|下午|AM|PM)"
_ZONE = r"(Z|[+-]\d{2}:?\d{2})"
# 9:05, 09:05:30.5 — or 9时5分, 9点05分30秒 — with 上午/下午 or AM/PM and a zone, all optional
_CLOCK = (r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?",
          r"(\d{1,2})[时点](\d{1,2})分(?:(\d{1,2})秒)?()")
_TIMES = [re.compile(rf"^(?:{_MERIDIEM}\s*)?{clock}\s*{_MERIDIEM}?\s*{_ZONE}?$",
                     re.IGNORECASE) for clock in _CLOCK]


def ascii_text(text: str) -> str:
    """Full-width letters, digits and signs as their ASCII forms; outer spaces dropped."""
    return text.translate(_FULL_WIDTH).strip()


def read_number(text: str, *, currency: str | None = None,
                percent: bool = False) -> Decimal | None:
    """The number ``text`` writes, or None when it writes none (or an ambiguous one).
    ``currency``: the field's currency, whose marks may stand around the amount;
    ``percent``: a trailing ``%`` is allowed (the number is percentage points)."""
    body = ascii_text(text).replace(" ", "")
    negative = body.startswith("(") and body.endswith(")")
    if negative:
        body = body[1:-1]
    if percent and body.endswith("%"):
        body = body[:-1]
    if currency is not None:
        body = _without_marks(body, currency)
    factor = Decimal(1)
    for word, multiple in _MULTIPLIERS.items():
        if body.endswith(word):
            body, factor = body[:-1], multiple
            break
    if not body or not _PLAIN.match(body) or not any(ch.isdigit() for ch in body):
        return None
    try:
        number = Decimal(body.replace(",", "")) * factor
    except InvalidOperation:
        return None
    return -number if negative else number


def _without_marks(body: str, currency: str) -> str:
    """The amount without its currency marks (a sign may stand before a leading mark)."""
    marks = sorted((*CURRENCY_MARKS.get(currency, ()), currency), key=len, reverse=True)
    sign = body[0] if body[:1] in ("+", "-") else ""
    rest = body[len(sign):]
    for mark in marks:
        if rest.upper().startswith(mark.upper()):
            rest = rest[len(mark):]
            break
    for mark in marks:
        if rest.upper().endswith(mark.upper()) and len(rest) > len(mark):
            rest = rest[:-len(mark)]
            break
    return sign + rest


def read_date(text: str) -> date | None:
    """The date ``text`` writes (year first), or None. A time of midnight may follow."""
    body = ascii_text(text)
    compact = _COMPACT_DATE.match(body)
    if compact:
        return _date_of(*compact.groups())
    day, rest = _date_part(body)
    if day is None:
        return None
    if rest:
        moment = _time_part(rest)
        if moment is None or moment[0] != time(0) or moment[1] is not None:
            return None
    return day


def read_datetime(text: str) -> datetime | None:
    """The date and time ``text`` writes, or None; naive unless it names a zone (a date
    alone is its midnight)."""
    body = ascii_text(text)
    try:  # ISO 8601 as it is (2025-08-12T09:30:00+08:00, …)
        return datetime.fromisoformat(body.replace("Z", "+00:00") if body.endswith("Z")
                                      else body)
    except ValueError:
        pass
    day, rest = _date_part(body)
    if day is None:
        return None
    if not rest:
        return datetime.combine(day, time(0))
    moment = _time_part(rest)
    if moment is None:
        return None
    clock, zone = moment
    return datetime.combine(day, clock, tzinfo=zone)


def _date_part(body: str) -> tuple[date | None, str]:
    found = _DATE.match(body)
    if not found:
        return None, ""
    year, _, month, day, zh_month, zh_day = found.groups()
    rest = body[found.end():]
    if rest and not (rest[0] in " T" or found.group(0).endswith(("日", "号"))):
        return None, ""  # "2025-8-123" or "2025/8/12x"
    return _date_of(year, month or zh_month, day or zh_day), rest.strip().removeprefix("T")


def _date_of(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _time_part(text: str) -> tuple[time, timezone | None] | None:
    found = next((m for m in (p.match(text.strip()) for p in _TIMES) if m), None)
    if not found:
        return None
    before, hour, minute, second, fraction, after, zone = found.groups()
    meridiem = (before or after or "").upper()
    if before and after:
        return None
    hours, minutes, seconds = int(hour), int(minute), int(second or 0)
    if meridiem:
        if not 1 <= hours <= 12:
            return None
        hours = hours % 12 + (12 if meridiem in ("PM", "下午") else 0)
    micros = int((fraction or "0").ljust(6, "0"))
    try:
        return time(hours, minutes, seconds, micros), _zone(zone) if zone else None
    except ValueError:  # 25:00, 9:61, a zone beyond a day
        return None


def _zone(text: str) -> timezone:
    if text.upper() == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
