"""The columns of a sheet of records (CSV or XLSX): which field each one holds, how it is
headed (API name, or label in the reader's language), how a stored value is shown in a cell
and how a cell is read back as the value the records API takes. Exports and imports share
this module, so what one writes the other reads.

A lookup is shown by a field of the referenced record that names it — its unique field,
else its title — and headed ``customer.code`` (``客户.编码`` with labels); a referenced
record the reader may not see is shown by its id as ``#42``. Users are shown by email,
departments by name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from loom.metamodel.entity import SYSTEM_FIELD_LABELS, SYSTEM_FIELDS, EntitySpec
from loom.metamodel.fields import REFERENCE_TYPES, TEXT_TYPES, FieldSpec, FieldType
from loom.metamodel.i18n import LOCALES, localize
from loom.platform.compiled.app import AppRuntime
from loom.platform.transfer.sheets import PercentCell

SEPARATOR = "."
LIST_SEPARATOR = "; "
# Cells a spreadsheet would run as a formula (CSV injection): shown behind a quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
OBJECT_TYPES = frozenset({FieldType.JSON, FieldType.ADDRESS, FieldType.LOCATION,
                          FieldType.FILE, FieldType.IMAGE, FieldType.SIGNATURE})
NAMING_TYPES = frozenset({FieldType.TEXT, FieldType.SERIAL, FieldType.EMAIL, FieldType.PHONE,
                          FieldType.URL, FieldType.INTEGER})
BOOLEAN_LABELS = {"zh-CN": ("是", "否"), "en": ("Yes", "No")}
RECORD_ID = re.compile(r"^#(\d{1,18})$")


@dataclass(frozen=True)
class Column:
    """A field of the sheet's entity; for a lookup, ``via`` names the referenced entity's
    field that identifies the record (``customer.code``)."""

    field: str
    via: str | None = None

    @property
    def name(self) -> str:
        return f"{self.field}{SEPARATOR}{self.via}" if self.via else self.field


def field_spec(spec: EntitySpec, name: str) -> FieldSpec | None:
    """The spec of a field, or of a system field (``created_by`` is a user, …)."""
    if name in spec.fields:
        return spec.fields[name]
    kind = SYSTEM_FIELDS.get(name)
    return FieldSpec(type=kind) if kind is not None else None


def naming_field(runtime: AppRuntime, entity: str) -> str | None:
    """The field that names a record of ``entity`` in a sheet: its first unique field of a
    text-like or whole-number type, else its title field."""
    spec = runtime.entity(entity)
    for name, field in spec.stored_fields().items():
        if (field.unique or field.type is FieldType.SERIAL) and field.type in NAMING_TYPES:
            return name
    title = spec.title()
    return title if title in spec.stored_fields() else None


def header(runtime: AppRuntime, entity: str, column: Column, *, labels: bool,
           locale: str) -> str:
    """The column's header: its name, or its label in ``locale``."""
    if not labels:
        return column.name
    spec = runtime.entity(entity)
    text = localize(spec.field_label(column.field), locale) or column.field
    if column.via:
        target = runtime.entity(spec.fields[column.field].ref or "")
        text += SEPARATOR + (localize(target.field_label(column.via), locale) or column.via)
    return text


# --- headers read back ---------------------------------------------------------------------

def _key(text: str) -> str:
    return text.strip().rstrip("*").strip().casefold()


def _names(spec: EntitySpec) -> dict[str, str]:
    """Every way a field may be headed (API name, labels in each language) → its name.
    API names win over labels that happen to spell another field's name."""
    found: dict[str, str] = {}
    for name in [*spec.fields, *SYSTEM_FIELDS]:
        label = spec.field_label(name) if name in spec.fields else SYSTEM_FIELD_LABELS[name]
        for locale in LOCALES:
            found.setdefault(_key(localize(label, locale)), name)
    for name in [*spec.fields, *SYSTEM_FIELDS]:
        found[_key(name)] = name
    return found


def match_header(runtime: AppRuntime, entity: str, text: str) -> Column | None:
    """The column a header names (``name``, ``名称``, ``customer.code``, ``客户.编码``), or
    None when it names nothing of the entity."""
    spec = runtime.entity(entity)
    names = _names(spec)
    if _key(text) in names:
        return Column(names[_key(text)])
    head, dot, rest = text.partition(SEPARATOR)
    field = spec.fields.get(names.get(_key(head), ""))
    if not dot or field is None or field.type is not FieldType.LOOKUP or not field.ref:
        return None
    target = _names(runtime.entity(field.ref))
    via = target.get(_key(rest))
    if via is None or via not in runtime.entity(field.ref).stored_fields():
        return None
    return Column(names[_key(head)], via)


# --- values shown in cells -----------------------------------------------------------------

@dataclass(frozen=True)
class CellStyle:
    """How values are shown: option labels or raw values, in which language and time zone,
    and whether cells are all text (CSV) or keep their types (XLSX)."""

    labels: bool
    locale: str
    tz: tzinfo
    text: bool = True


def display(field: FieldSpec | None, value: Any, style: CellStyle) -> Any:
    """A stored value as a cell: text for CSV; for XLSX numbers, dates and booleans kept."""
    if value is None:
        return None
    kind = field.storage_type() if field is not None else None
    if kind in (FieldType.SELECT, FieldType.MULTISELECT) and field is not None:
        shown = [_option_label(field, v, style) for v in
                 (value if isinstance(value, list) else [value])]
        return LIST_SEPARATOR.join(shown) if isinstance(value, list) else shown[0]
    if isinstance(value, bool):
        if style.labels:
            yes, no = BOOLEAN_LABELS.get(style.locale, BOOLEAN_LABELS["en"])
            return yes if value else no
        return ("true" if value else "false") if style.text else value
    if isinstance(value, datetime):
        local = value.astimezone(style.tz) if value.tzinfo else value.replace(
            tzinfo=UTC).astimezone(style.tz)
        return local.isoformat() if style.text else local.replace(tzinfo=None)
    if isinstance(value, date):
        return value.isoformat() if style.text else value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, int | Decimal):
        return str(value) if style.text else value
    text = str(value)
    if style.text and text.startswith(FORMULA_START):
        return "'" + text
    return text


def _option_label(field: FieldSpec, value: str, style: CellStyle) -> str:
    if style.labels:
        for option in field.options or []:
            if option.value == value:
                return localize(option.label, style.locale) or value
    return value


# --- cells read back -----------------------------------------------------------------------

class Blank:
    """An empty cell: not given (defaults apply on create; unchanged on update)."""


BLANK = Blank()


def read_cell(field: FieldSpec, value: Any) -> Any:
    """A cell as the value the records API takes for ``field``: options by label or value,
    JSON text for object fields, ``#42`` as a record id, Excel's numbers and dates as the
    field's kind. The pipeline then coerces and checks it like any API input."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return BLANK
    kind = field.storage_type()
    if isinstance(value, PercentCell):  # 12.5% is 12.5 in a percent field, else 0.125
        value = _excel_number(value.fraction)
        value = (value * 100).normalize() if kind is FieldType.PERCENT else value
    if isinstance(value, float):
        value = _excel_number(value)
    if kind in (FieldType.SELECT, FieldType.MULTISELECT) and isinstance(value, str):
        parts = [p for p in re.split(r"[;,，；]", value) if p.strip()] \
            if kind is FieldType.MULTISELECT else [value]
        chosen = [_option_value(field, part.strip()) for part in parts]
        return chosen if kind is FieldType.MULTISELECT else chosen[0]
    if kind in OBJECT_TYPES and isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value, parse_float=Decimal)
        except ValueError:
            return value  # refused by the field's coercion, with its message
    if kind in REFERENCE_TYPES:
        if isinstance(value, str) and RECORD_ID.match(value.strip()):
            return int(value.strip()[1:])
        return str(value) if isinstance(value, Decimal) else value
    if kind is FieldType.DATE and isinstance(value, datetime) and \
            value.time() == datetime.min.time():
        return value.date()  # a date cell of a workbook
    if kind in TEXT_TYPES or kind in (FieldType.TEXTAREA, FieldType.RICH_TEXT):
        return _text_of(value)
    return value


def _excel_number(value: float) -> Decimal:
    # a spreadsheet keeps 15 significant digits: 0.1 + 0.2 is 0.3 there, and here
    return Decimal(format(value, ".15g"))


def _text_of(value: Any) -> Any:
    if isinstance(value, str):
        if value.startswith("'") and value[1:].startswith(FORMULA_START):
            return value[1:]  # the quote an export put before a formula-like text
        return value
    if isinstance(value, bool):
        return value  # refused as text, with the field's message
    if isinstance(value, Decimal):
        return str(int(value)) if value == value.to_integral_value() else str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _option_value(field: FieldSpec, text: str) -> str:
    wanted = text.casefold()
    for option in field.options or []:
        if option.value == text:
            return text
    for option in field.options or []:
        labels = [option.label] if isinstance(option.label, str) else \
            list((option.label or {}).values())
        if option.value.casefold() == wanted or any(
                str(label).casefold() == wanted for label in labels):
            return option.value
    return text  # not an option: the pipeline says so, listing the options
