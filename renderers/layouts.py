"""Views' columns and forms as JSON for clients, in the reader's language.

Pure: the caller says which fields the reader may see and change (the permission layer
decided); hidden fields never appear. Conditions stay JSON Logic, so a browser evaluates
them with the same language (``loom-logic.js``) the server enforces.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from loom.engines.expressions import ExpressionError, parse_formula
from loom.metamodel.app import AppDocument
from loom.metamodel.entity import SYSTEM_FIELDS, EntitySpec
from loom.metamodel.fields import SUBTABLE_ROWS_MAX, FieldSpec, FieldType
from loom.metamodel.forms import FieldPlacement, FormSpec, SectionSpec, SubtablePlacement
from loom.metamodel.i18n import localize

FieldTest = Callable[[str], bool]


def column(spec: EntitySpec, name: str, locale: str) -> dict[str, Any]:
    """A column: its name, label and type, and a select's options."""
    field = spec.fields.get(name)
    kind = field.storage_type() if field is not None and field.computed else (
        field.type if field is not None else SYSTEM_FIELDS[name])
    described: dict[str, Any] = {"name": name, "label": localize(spec.field_label(name), locale),
                                 "type": kind.value}
    if field is not None:
        described.update(_extras(field, locale))
    return described


def _extras(field: FieldSpec, locale: str) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    if field.options:
        extras["options"] = options(field, locale)
    if field.type is FieldType.LOOKUP and field.ref:
        extras["ref"] = field.ref
    return extras


def options(field: FieldSpec, locale: str) -> list[dict[str, Any]]:
    return [{"value": o.value, "label": localize(o.label, locale) or o.value,
             "category": o.category}
            for o in field.options or []]


def columns(spec: EntitySpec, names: list[str], readable: FieldTest,
            locale: str) -> list[dict[str, Any]]:
    return [column(spec, name, locale) for name in names
            if name in SYSTEM_FIELDS or readable(name)]


def form_json(name: str, form: FormSpec, doc: AppDocument, readable: FieldTest,
              writable: FieldTest, locale: str,
              children: Mapping[str, FieldTest | None] | None = None) -> dict[str, Any]:
    """The form as a client draws it: labels localized, hidden fields absent, fields the
    reader may not change read-only, conditions as JSON Logic. ``children`` says which
    fields of each sub-table's entity the reader may see (None: not that entity at all;
    absent: all of them)."""
    spec = doc.entities[form.entity]
    layout = _Layout(doc, spec, readable, writable, locale, children or {})
    body: dict[str, Any] = {
        "name": name, "entity": form.entity, "label": localize(form.label, locale),
        "description": localize(form.description, locale) if form.description else None,
        "entity_label": localize(spec.label, locale),
    }
    if form.tabs:
        body["tabs"] = [{"name": tab.name, "label": localize(tab.label, locale),
                         "visible": _condition(tab.visible),
                         "sections": [layout.section(s) for s in tab.sections]}
                        for tab in form.tabs]
    else:
        body["sections"] = [layout.section(s) for s in form.sections]
    body["formulas"] = formulas(spec, readable)
    body["related"] = [{"name": r.key, "entity": r.entity, "via": r.via,
                        "label": localize(r.label or doc.entities[r.entity].plural_label
                                          or doc.entities[r.entity].label, locale),
                        "limit": r.limit} for r in form.related]
    return body


class _Layout:
    def __init__(self, doc: AppDocument, spec: EntitySpec, readable: FieldTest,
                 writable: FieldTest, locale: str,
                 children: Mapping[str, FieldTest | None]) -> None:
        self.doc, self.spec, self.locale = doc, spec, locale
        self.readable, self.writable, self.children = readable, writable, children

    def child_readable(self, sub: SubtablePlacement) -> FieldTest | None:
        entity = self.spec.fields[sub.field].entity or ""
        if entity not in self.children:
            return lambda _field: True
        return self.children[entity]

    def section(self, section: SectionSpec) -> dict[str, Any]:
        return {"name": section.name, "label": localize(section.label, self.locale),
                "columns": section.columns, "collapsed": section.collapsed,
                "visible": _condition(section.visible),
                "fields": [self.field(p) for p in section.placements()
                           if p.field in SYSTEM_FIELDS or self.readable(p.field)],
                "subtables": [self.subtable(s) for s in section.subtables
                              if self.readable(s.field) and self.child_readable(s) is not None]}

    def field(self, placement: FieldPlacement) -> dict[str, Any]:
        name = placement.field
        described = column(self.spec, name, self.locale)
        field = self.spec.fields.get(name)
        if placement.label is not None:
            described["label"] = localize(placement.label, self.locale)
        locked = field is None or field.computed or field.readonly or not self.writable(name)
        required: Any = False
        if field is not None and field.required:
            required = True
        elif placement.required is not None:
            required = _condition(placement.required)
        elif field is not None and field.required_if is not None:
            required = field.required_if
        described.update(
            span=placement.span, help=localize(placement.help, self.locale) or None,
            visible=_condition(placement.visible), required=required,
            readonly=True if locked else _condition(placement.readonly, default=False))
        if field is not None:
            described.update(behaviour(self.spec, field))
        return described

    def subtable(self, sub: SubtablePlacement) -> dict[str, Any]:
        field = self.spec.fields[sub.field]
        child = self.doc.entities[field.entity or ""]
        readable = self.child_readable(sub) or _nothing
        shown = columns(child, sub.columns, readable, self.locale)
        for described in shown:
            if (spec := child.fields.get(described["name"])) is not None:
                described.update(behaviour(child, spec))
                if spec.computed or spec.readonly:
                    described["readonly"] = True
        return {"field": sub.field, "entity": field.entity, "link_field": field.link_field,
                "label": localize(sub.label or field.label or child.label, self.locale),
                "columns": shown, "max_rows": SUBTABLE_ROWS_MAX,
                "formulas": formulas(child, readable),
                "visible": _condition(sub.visible),
                "readonly": True if not self.writable(sub.field)
                else _condition(sub.readonly, default=False)}


def behaviour(spec: EntitySpec, field: FieldSpec) -> dict[str, Any]:
    """What a form needs to fill a field in the browser: its default (a value, or a
    condition-language expression), its limits, and how a computed field is computed —
    a formula as its JSON Logic tree, a roll-up over one of the form's sub-tables."""
    found: dict[str, Any] = {}
    if field.default is not None and not field.computed:
        found["default"] = _plain(field.default)
    limits = {"min": field.min, "max": field.max, "max_length": field.max_length,
              "max_rating": field.max_rating, "accept": field.accept}
    found.update({key: _plain(value) for key, value in limits.items() if value is not None})
    if field.storage_type() in (FieldType.DECIMAL, FieldType.CURRENCY, FieldType.PERCENT):
        found["scale"] = field.decimal_scale()
    if field.type is FieldType.ROLLUP and field.rollup is not None:
        over = next((name for name, f in spec.fields.items()
                     if f.type is FieldType.SUBTABLE and f.entity == field.rollup.entity
                     and f.link_field == field.rollup.link_field), None)
        if over is not None:
            found["rollup"] = {"subtable": over, "function": field.rollup.function,
                               "field": field.rollup.field,
                               "filter": _plain(field.rollup.filter)}
    return found


def formulas(spec: EntitySpec, readable: FieldTest) -> list[dict[str, Any]]:
    """The entity's formulas the reader may see, as JSON Logic trees for the browser to
    recompute while a form is filled in (the server computes what is saved)."""
    found = []
    for name, field in spec.fields.items():
        if field.type is not FieldType.FORMULA or not field.formula or not readable(name):
            continue
        try:
            tree = parse_formula(field.formula)[0]
        except ExpressionError:
            continue  # a published formula parses; this guards a hand-edited document
        found.append({"field": name, "tree": _plain(tree)})
    return found


def _plain(value: Any) -> Any:
    """Exact numbers as JSON numbers a browser reads (a tree's decimals included)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _nothing(_field: str) -> bool:
    return False


def _condition(value: Any, default: Any = True) -> Any:
    """A condition as the client evaluates it; no condition means ``default``."""
    return default if value is None else value
