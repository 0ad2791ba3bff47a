"""Sorting and keyset pagination over an entity table.

Pages are addressed by the sort values of the last row seen (a cursor), never by OFFSET,
so page 1000 costs what page 1 costs and rows inserted meanwhile neither repeat nor vanish.
Blanks sort last in both directions, identically on SQLite and PostgreSQL; ``id`` breaks ties.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, false, literal, or_
from sqlalchemy.sql import ColumnElement

from loom.engines.field_values.coercion import BadValue, coerce, is_record_id, to_json
from loom.metamodel.entity import SYSTEM_FIELDS, EntitySpec
from loom.metamodel.errors import BadRequest
from loom.metamodel.fields import REFERENCE_TYPES, FieldSpec, FieldType
from loom.metamodel.i18n import message, register_messages

UNSORTABLE = frozenset({FieldType.MULTISELECT, FieldType.JSON, FieldType.ADDRESS,
                        FieldType.LOCATION, FieldType.FILE, FieldType.IMAGE,
                        FieldType.SIGNATURE, FieldType.SUBTABLE})

register_messages({
    "sort_unknown": {"en": "Cannot sort by '{name}': {entity} has no such field",
                     "zh-CN": "无法按“{name}”排序：{entity}没有该字段"},
    "sort_unsortable": {"en": "Cannot sort by '{name}' ({type} values have no order)",
                        "zh-CN": "无法按“{name}”排序（{type} 类型的值没有顺序）"},
    "bad_cursor": {"en": "The cursor is not valid for this list; start again without it",
                   "zh-CN": "分页游标对此列表无效，请不带游标重新开始"},
})


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool = False


def parse_sort(text: str | None, spec: EntitySpec) -> list[SortKey]:
    """``-amount,name`` → [amount desc, name asc, id asc]; ``id`` always ends the keys."""
    keys: list[SortKey] = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        descending = part.startswith("-")
        name = part.lstrip("+-").strip()
        field = spec.fields.get(name)
        if field is None and name not in SYSTEM_FIELDS:
            raise BadRequest(message("sort_unknown", name=name, entity=spec.label))
        if field is not None and (field.type in UNSORTABLE or not field.has_column):
            raise BadRequest(message("sort_unsortable", name=name, type=field.type.value))
        if name == "id":
            keys.append(SortKey("id", descending))
            return keys
        keys.append(SortKey(name, descending))
    keys.append(SortKey("id", False))
    return keys


def _nullable(column: ColumnElement[Any]) -> bool:
    return getattr(column, "nullable", True) is not False


def order_by(columns: Any, keys: list[SortKey]) -> list[Any]:
    clauses = []
    for key in keys:
        column = columns[key.field]
        clause = column.desc() if key.descending else column.asc()
        # NULLS LAST only where there can be blanks: on a NOT NULL column (id) it would
        # only keep SQLite from reading an index in order
        clauses.append(clause.nulls_last() if _nullable(column) else clause)
    return clauses


def _after(column: ColumnElement[Any], value: Any, descending: bool) -> ColumnElement[bool]:
    if value is None:
        return false()  # blanks come last: nothing but other blanks follows a blank
    # bound as a value of the column's type: SQLAlchemy refuses `column > True` itself
    bound = literal(value, column.type)
    beyond = column < bound if descending else column > bound
    return or_(beyond, column.is_(None)) if _nullable(column) else beyond


def _same(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def after_cursor(columns: Any, keys: list[SortKey], values: list[Any]) -> ColumnElement[bool]:
    """Rows that sort strictly after the row whose sort values are ``values``."""
    branches = []
    for position, key in enumerate(keys):
        equal_prefix = [_same(columns[k.field], values[i]) for i, k in enumerate(keys[:position])]
        branches.append(and_(*equal_prefix,
                             _after(columns[key.field], values[position], key.descending)))
    return or_(*branches)


@dataclass(frozen=True)
class Continuation:
    """The rows after a cursor as an index can find them: ``ranged`` — bounded on the
    first sort key (``amount <= :v AND (…)``: an index range starting at the cursor, not a
    scan filtering out every row before it) — and then, when the first key may be blank
    and the cursor's is not, ``blanks``: the rows whose first key is blank, which sort
    after all of them (read only once ``ranged`` runs out)."""

    ranged: ColumnElement[bool]
    blanks: ColumnElement[bool] | None


def continuation(columns: Any, keys: list[SortKey], values: list[Any]) -> Continuation:
    first, value = columns[keys[0].field], values[0]
    after = after_cursor(columns, keys, values)
    if value is None:  # within the blanks already: `first IS NULL AND …` is a range
        return Continuation(after, None)
    bound = literal(value, first.type)
    ranged = and_(first <= bound if keys[0].descending else first >= bound, after)
    return Continuation(ranged, first.is_(None) if _nullable(first) else None)


def _signature(keys: list[SortKey]) -> str:
    return ",".join(("-" if k.descending else "") + k.field for k in keys)


def encode_cursor(keys: list[SortKey], row: Any) -> str:
    payload = {"s": _signature(keys), "v": [to_json(row[k.field]) for k in keys]}
    raw = json.dumps(payload, separators=(",", ":"), default=str, ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _system_spec(name: str) -> FieldSpec:
    if name == "version":  # a 32-bit column
        return FieldSpec(type=FieldType.INTEGER, min=Decimal(1), max=Decimal(2**31 - 1))
    return FieldSpec(type=SYSTEM_FIELDS[name])


def _cursor_value(field: FieldSpec, raw: Any) -> Any:
    """A sort value read back from a cursor. Cursors come back from clients, so each value
    must fit its column: out of range, the database would fail instead of finding rows."""
    value = coerce(field, raw)
    if field.type in REFERENCE_TYPES and not is_record_id(value):
        raise ValueError("not a record id")
    return value


def decode_cursor(text: str, keys: list[SortKey], spec: EntitySpec) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        payload = json.loads(raw)
        if payload["s"] != _signature(keys) or len(payload["v"]) != len(keys):
            raise ValueError("cursor of another sort")
        values = []
        for key, value in zip(keys, payload["v"], strict=True):
            field = spec.fields.get(key.field) or _system_spec(key.field)
            values.append(None if value is None else _cursor_value(field, value))
        return values
    except (ValueError, KeyError, TypeError, binascii.Error, BadValue, UnicodeDecodeError):
        raise BadRequest(message("bad_cursor")) from None

