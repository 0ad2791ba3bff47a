"""What the compiler knows about the fields an expression reads: their value types, the
scale of decimals, options of selects, and where lookups and sub-tables lead."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from loom.metamodel.app import AppDocument
from loom.metamodel.entity import SYSTEM_FIELDS, EntitySpec
from loom.metamodel.fields import FieldSpec, FieldType
from loom.metamodel.salvage import UnknownTypeField


class ValueType(StrEnum):
    """The kinds of value an expression deals with."""

    ANY = "any"
    NULL = "null"
    BOOLEAN = "boolean"
    INTEGER = "integer"
    NUMBER = "number"
    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"
    LIST = "list"
    OBJECT = "object"

    @property
    def numeric(self) -> bool:
        return self in (ValueType.INTEGER, ValueType.NUMBER)

    @property
    def temporal(self) -> bool:
        return self in (ValueType.DATE, ValueType.DATETIME)

    @property
    def family(self) -> str:
        """Types that compare with each other without coercion share a family."""
        return "number" if self.numeric else self.value


_TEXT = {FieldType.TEXT, FieldType.TEXTAREA, FieldType.RICH_TEXT, FieldType.EMAIL,
         FieldType.PHONE, FieldType.URL, FieldType.SELECT, FieldType.SERIAL}
_DECIMAL = {FieldType.DECIMAL, FieldType.CURRENCY, FieldType.PERCENT}
_INTEGER = {FieldType.INTEGER, FieldType.RATING, FieldType.LOOKUP, FieldType.USER,
            FieldType.DEPARTMENT}


def value_type(kind: FieldType) -> ValueType:
    if kind in _TEXT:
        return ValueType.TEXT
    if kind in _DECIMAL:
        return ValueType.NUMBER
    if kind in _INTEGER:
        return ValueType.INTEGER
    if kind is FieldType.BOOLEAN:
        return ValueType.BOOLEAN
    if kind is FieldType.DATE:
        return ValueType.DATE
    if kind is FieldType.DATETIME:
        return ValueType.DATETIME
    if kind in (FieldType.MULTISELECT, FieldType.SUBTABLE):
        return ValueType.LIST
    return ValueType.OBJECT


@dataclass(frozen=True)
class FieldInfo:
    """One field as expressions see it."""

    path: str
    type: ValueType
    field_type: FieldType | None = None
    scale: int | None = None
    options: tuple[str, ...] = ()
    ref: str | None = None       # lookup target entity
    child: str | None = None     # sub-table child entity
    label: Any = None
    spec: FieldSpec | None = field(default=None, compare=False)  # options' labels, for words


@dataclass
class Scope:
    """Fields of one entity (and, through the app document, of the entities its lookups
    and sub-tables lead to). ``Scope.for_entity(app_doc, "lead")``."""

    fields: dict[str, FieldInfo]
    entity: str | None = None
    label: Any = None
    app: AppDocument | None = None
    _children: dict[str, Scope | None] = field(default_factory=dict, repr=False)

    @classmethod
    def for_entity(cls, app: AppDocument, entity: str) -> Scope:
        spec = app.entity(entity)
        if spec is None:
            raise KeyError(f"no entity {entity!r}")
        return cls.from_spec(spec, entity, app)

    @classmethod
    def from_spec(cls, spec: EntitySpec, entity: str | None = None,
                  app: AppDocument | None = None) -> Scope:
        fields: dict[str, FieldInfo] = {}
        for name, kind in SYSTEM_FIELDS.items():
            fields[name] = FieldInfo(name, value_type(kind), kind, label=spec.field_label(name))
        for name, field_spec in spec.fields.items():
            fields[name] = _info(name, field_spec, spec.field_label(name))
        return cls(fields, entity or spec.name, spec.label, app)

    @classmethod
    def of_types(cls, types: dict[str, ValueType | tuple[ValueType, int]]) -> Scope:
        """A scope from plain field types (tests, ad-hoc data)."""
        fields = {}
        for name, kind in types.items():
            scale = None
            if isinstance(kind, tuple):
                kind, scale = kind
            fields[name] = FieldInfo(name, kind, scale=scale)
        return cls(fields)

    def entity_scope(self, name: str) -> Scope | None:
        """The scope of another entity of the same app."""
        if name not in self._children:
            spec = self.app.entity(name) if self.app is not None else None
            self._children[name] = Scope.from_spec(spec, name, self.app) if spec else None
        return self._children[name]

    def lookup(self, path: str) -> FieldInfo | None:
        """The field a dot path reaches (``customer.region`` through a lookup,
        ``items.amount`` into a sub-table), or None."""
        head, _, rest = path.partition(".")
        info = self.fields.get(head)
        if info is None or not rest:
            return info
        target = info.ref or info.child
        inner = self.entity_scope(target) if target else None
        if inner is None:
            return None
        found = inner.lookup(rest)
        if found is None:
            return None
        kind = ValueType.LIST if info.child else found.type
        return FieldInfo(path, kind, found.field_type, found.scale, found.options, found.ref,
                         found.child, found.label, found.spec)

    def through_lookup(self, path: str) -> bool:
        """Whether ``path`` leaves the record through a lookup (``customer.region``): such
        a value is not inside the record, and the caller supplies it under the whole path."""
        head, _, rest = path.partition(".")
        info = self.fields.get(head)
        return bool(rest) and info is not None and info.ref is not None

    def suggest(self, path: str) -> str | None:
        """The closest known field name, for 'did you mean'."""
        head, _, rest = path.partition(".")
        if head in self.fields and rest:
            info = self.fields[head]
            target = info.ref or info.child
            inner = self.entity_scope(target) if target else None
            found = inner.suggest(rest) if inner else None
            return f"{head}.{found}" if found else None
        close = difflib.get_close_matches(head, list(self.fields), n=1, cutoff=0.6)
        return close[0] if close else None


def _info(name: str, spec: FieldSpec, label: Any) -> FieldInfo:
    kind = spec.storage_type() if spec.computed else spec.type
    scale = spec.decimal_scale() if kind in _DECIMAL else (0 if kind in _INTEGER else None)
    ref = spec.ref if spec.type is FieldType.LOOKUP else None
    child = spec.entity if spec.type is FieldType.SUBTABLE else None
    options = tuple(spec.option_values()) if spec.options else ()
    # a field whose type is unknown (a draft with a typo) may hold anything
    value = ValueType.ANY if isinstance(spec, UnknownTypeField) else value_type(kind)
    return FieldInfo(name, value, spec.type, scale, options, ref, child, label, spec)
