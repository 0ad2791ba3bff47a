"""A stored value as a person reads it in a sentence (a notification, an email, a task):
options by their label in the reader's language, yes/no, dates and times in the app's time
zone, amounts with their currency and thousands separators."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from loom.metamodel.fields import FieldSpec, FieldType
from loom.metamodel.i18n import list_text, localize, message

CURRENCY_SIGNS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "JP¥",
                  "HKD": "HK$", "TWD": "NT$", "KRW": "₩", "SGD": "S$"}
DATETIME_FORMAT = "%Y-%m-%d %H:%M"


def value_text(field: FieldSpec | None, value: Any, locale: str, zone: tzinfo) -> str:
    """``value`` of ``field`` as words in ``locale``; blank is empty text."""
    if value is None:
        return ""
    kind = field.storage_type() if field is not None else None
    if field is not None and kind in (FieldType.SELECT, FieldType.MULTISELECT):
        items = value if isinstance(value, list) else [value]
        return list_text((localize(field.option_label(item), locale) for item in items),
                         locale)
    if isinstance(value, bool):
        return message("value_yes" if value else "value_no").render(locale)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(zone).strftime(DATETIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    if field is not None and kind in (FieldType.CURRENCY, FieldType.DECIMAL,
                                      FieldType.PERCENT):
        return _number_text(field, kind, value)
    if isinstance(value, list):
        return list_text((str(item) for item in value), locale)
    return str(value)


def _number_text(field: FieldSpec, kind: FieldType, value: Any) -> str:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if kind is FieldType.PERCENT:  # stored as the number of percent: 30 is 30%
        return f"{number.normalize():f}%"
    grouped = f"{number:,.{field.decimal_scale()}f}"
    if kind is not FieldType.CURRENCY:
        return grouped
    code = field.currency or "CNY"
    minus, grouped = ("-", grouped[1:]) if grouped.startswith("-") else ("", grouped)
    sign = CURRENCY_SIGNS.get(code)
    return f"{minus}{sign}{grouped}" if sign else f"{minus}{code} {grouped}"
