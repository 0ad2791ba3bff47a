"""Views' columns and forms as JSON for clients, in the reader's language.

Pure: the caller says which fields the reader may see and change (the permission layer
decided); hidden fields never appear. Conditions stay JSON Logic, so a browser evaluates
them with the same language (``loom-logic.js``) the server enforces.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from loom.metamodel.app import AppDocument
from loom.metamodel.entity import SYSTEM_FIELDS, EntitySpec
from loom.metamodel.fields import FieldSpec, FieldType
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
        return described

    def subtable(self, sub: SubtablePlacement) -> dict[str, Any]:
        field = self.spec.fields[sub.field]
        child = self.doc.entities[field.entity or ""]
        return {"field": sub.field, "entity": field.entity,
                "label": localize(sub.label or field.label or child.label, self.locale),
                "columns": columns(child, sub.columns, self.child_readable(sub) or _nothing,
                                   self.locale),
                "visible": _condition(sub.visible),
                "readonly": True if not self.writable(sub.field)
                else _condition(sub.readonly, default=False)}


def _nothing(_field: str) -> bool:
    return False


def _condition(value: Any, default: Any = True) -> Any:
    """A condition as the client evaluates it; no condition means ``default``."""
    return default if value is None else value
