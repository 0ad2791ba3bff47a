"""An app as one reader may use it: the entities they may read with the fields they see,
what they may do there, and the views, forms and dashboards they may open — localized, for
the web app to build its navigation and pages from.

Pure: the caller says what the reader may do (the permission layer decided, ``Reader``);
hidden fields and entities out of reach never appear. Roles, rules, flows and every other
role's permissions are the builders' (``…/metadata``), never part of this.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from loom.metamodel.app import AppDocument
from loom.metamodel.entity import SYSTEM_FIELDS, EntitySpec
from loom.metamodel.fields import NUMBER_TYPES, FieldSpec, FieldType
from loom.metamodel.i18n import localize
from loom.renderers.layouts import options

OPERATIONS = ("create", "read", "update", "delete", "export", "import")
FieldTest = Callable[[str], bool]


@dataclass(frozen=True)
class ReaderEntity:
    """What the reader may do with one entity they may read."""

    operations: frozenset[str]
    readable: FieldTest
    writable: FieldTest


@dataclass(frozen=True)
class Reader:
    """The reader as the permission layer sees them in one app."""

    roles: frozenset[str]
    builder: bool
    admin: bool
    entities: Mapping[str, ReaderEntity]  # only those they may read
    views: frozenset[str] = field(default_factory=frozenset)       # those they may open
    dashboards: frozenset[str] = field(default_factory=frozenset)  # those they may open


def reader_schema(doc: AppDocument, *, slug: str, version: int, reader: Reader,
                  locale: str) -> dict[str, Any]:
    """``GET /api/apps/{app}/schema``: this app as ``reader`` may use it."""
    views = _views(doc, reader, locale)
    forms = [{"name": name, "label": localize(form.label, locale), "entity": form.entity}
             for name, form in sorted(doc.forms.items()) if form.entity in reader.entities]
    return {
        "app": _app(doc, slug, version, locale, reader),
        "you": {"roles": sorted(reader.roles), "builder": reader.builder,
                "admin": reader.admin},
        "entities": [_entity(name, spec, reader.entities[name], views, forms, locale)
                     for name, spec in doc.entities.items() if name in reader.entities],
        "views": views,
        "forms": forms,
        "dashboards": [{"name": name, "label": localize(spec.label, locale)}
                       for name, spec in sorted(doc.dashboards.items(),
                                                key=lambda item: (item[1].order, item[0]))
                       if name in reader.dashboards],
    }


def _app(doc: AppDocument, slug: str, version: int, locale: str,
         reader: Reader) -> dict[str, Any]:
    info = doc.app
    app: dict[str, Any] = {"slug": slug, "label": localize(info.label, locale),
                           "timezone": info.timezone, "version": version}
    home = info.home
    if home in reader.views and doc.views[home].entity in reader.entities:
        app["home"] = {"view": home}
    elif home in reader.dashboards:
        app["home"] = {"dashboard": home}
    if info.description:
        app["description"] = localize(info.description, locale)
    return app


def _views(doc: AppDocument, reader: Reader, locale: str) -> list[dict[str, Any]]:
    """The views the reader may open, in their order."""
    found = []
    for name, view in sorted(doc.views.items(), key=lambda item: (item[1].order, item[0])):
        if name not in reader.views or view.entity not in reader.entities:
            continue
        described: dict[str, Any] = {"name": name, "label": localize(view.label, locale),
                                     "entity": view.entity, "kind": view.kind}
        if view.group_by:
            described["group_by"] = view.group_by
        found.append(described)
    return found


def _entity(name: str, spec: EntitySpec, rights: ReaderEntity, views: list[dict[str, Any]],
            forms: list[dict[str, Any]], locale: str) -> dict[str, Any]:
    own_forms = [form["name"] for form in forms if form["entity"] == name]
    described: dict[str, Any] = {
        "name": name, "label": localize(spec.label, locale),
        "title_field": spec.title(),
        "permissions": {op: op in rights.operations for op in OPERATIONS},
        "fields": [*(_field(field_name, field_spec, rights, locale)
                     for field_name, field_spec in spec.fields.items()
                     if rights.readable(field_name)),
                   *(_system_field(spec, field_name, locale) for field_name in SYSTEM_FIELDS)],
        "actions": [_action(action_name, action, locale)
                    for action_name, action in spec.actions.items()],
        "views": [view["name"] for view in views if view["entity"] == name],
    }
    if spec.plural_label:
        described["plural_label"] = localize(spec.plural_label, locale)
    if spec.description:
        described["description"] = localize(spec.description, locale)
    if own_forms:  # the one named like the entity, else the first
        described["default_form"] = name if name in own_forms else own_forms[0]
    return described


def _field(name: str, spec: FieldSpec, rights: ReaderEntity, locale: str) -> dict[str, Any]:
    described: dict[str, Any] = {
        "name": name, "label": localize(spec.label, locale) or name, "type": spec.type.value,
        "required": spec.required,
        "readonly": spec.computed or spec.readonly or not rights.writable(name)}
    if spec.description:
        described["description"] = localize(spec.description, locale)
    if spec.required_if is not None:
        described["required_if"] = spec.required_if
    if spec.options:
        described["options"] = [{key: value for key, value in option.items()
                                 if value is not None} for option in options(spec, locale)]
    described.update(_type_details(spec))
    return described


def _type_details(spec: FieldSpec) -> dict[str, Any]:
    """What a widget needs to know beyond the type: where a lookup leads, a sub-table's
    child entity, what a formula returns, a number's scale, limits."""
    details: dict[str, Any] = {}
    if spec.type is FieldType.LOOKUP and spec.ref:
        details["ref"] = spec.ref
    if spec.type is FieldType.SUBTABLE and spec.entity:
        details["entity"] = spec.entity
    if spec.type is FieldType.SERIAL and spec.format:
        details["format"] = spec.format
    if spec.type in (FieldType.FORMULA, FieldType.ROLLUP):
        details["returns"] = spec.storage_type().value
    if spec.storage_type() in NUMBER_TYPES:
        details["scale"] = spec.decimal_scale()
    for attribute in ("currency", "max_length", "min", "max", "max_rating", "accept"):
        value = getattr(spec, attribute)
        if value is not None:
            details[attribute] = value
    return details


def _system_field(spec: EntitySpec, name: str, locale: str) -> dict[str, Any]:
    return {"name": name, "label": localize(spec.field_label(name), locale),
            "type": SYSTEM_FIELDS[name].value, "required": False, "readonly": True,
            "system": True}


def _action(name: str, action: Any, locale: str) -> dict[str, Any]:
    described: dict[str, Any] = {"name": name, "label": localize(action.label, locale)}
    if action.condition is not None:
        described["condition"] = action.condition
    if action.confirm is not None:
        described["confirm"] = localize(action.confirm, locale)
    return described
