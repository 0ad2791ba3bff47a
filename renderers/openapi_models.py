"""The models of an app's OpenAPI document, named for the clients generated from it.

Generators name a class after a schema's ``title`` (or its component's key), so every
shape a client sees is a component whose title is its key, made of API names alone:
``Contact`` (a record as read), ``ContactCreate``, ``ContactUpdate``, ``ContactPage``,
``ContactBulkResult``, ``ContactRow`` (a line item sent with its parent) and
``ContactStageOption`` (a select field's values). Labels stay titles of properties, where no
generator takes a class name from them, so a model keeps its name across publishes that
leave its entity alone and the names never depend on the reader's language."""

from __future__ import annotations

import copy
from typing import Any

from loom.metamodel.app import AppDocument
from loom.metamodel.entity import EntitySpec
from loom.metamodel.fields import SUBTABLE_ROWS_MAX, FieldType
from loom.metamodel.i18n import localize
from loom.renderers.json_schema import FILE_SCHEMA, LOCATION_SCHEMA, record_schema

# What an entity's models end with, per use.
ENDINGS = {"read": "", "create": "Create", "update": "Update", "page": "Page", "row": "Row",
           "bulk": "BulkResult"}
OPTION = "Option"
# An entity whose name ends with one of these words gets "Record" added to its models, so
# they never meet another entity's (``contact_page`` → ContactPageRecord, not ContactPage).
_ENDING_WORDS = frozenset({"create", "update", "page", "row", "result", "option", "record"})

ROWS_READ = ("Its rows (line items: records of {child}), by id, at most {max}; a single "
             "record carries them, lists do not")
ROWS_WRITE = ("The complete new set of rows (at most {max}): a row with an id changes that "
              "row of this record (only the fields given; its version makes the change "
              "optimistic), a row without one is added, rows left out are deleted. Leave the "
              "field out to keep the rows as they are")


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A reference to component ``name``, or null; ``schema``'s annotations kept."""
    kept = {key: schema[key] for key in ("title", "description", "readOnly") if key in schema}
    return {"anyOf": [ref(name), {"type": "null"}], **kept}


def pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def titled(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "title": name}


# Shapes the same in every app (problems, deletes, imports, field values): also names no
# entity's model may take.
VALUE_MODELS: dict[str, dict[str, Any]] = {
    "File": titled("File", FILE_SCHEMA),
    "Location": titled("Location", LOCATION_SCHEMA),
    "Address": {"type": "object", "title": "Address", "additionalProperties": True},
    "Signature": {"type": "object", "title": "Signature", "additionalProperties": True},
}


class ModelNames:
    """The component names of one app's document: decided from API names only, entities in
    name order, so the same entity gets the same names whatever else the app holds (a name
    already taken — only by entities named alike but for underscores — gets a number)."""

    def __init__(self, doc: AppDocument, reserved: frozenset[str]) -> None:
        self.reserved = reserved
        self.taken = set(reserved)
        self.bases: dict[str, str] = {}
        self.options: dict[tuple[str, str], str] = {}
        for name in sorted(doc.entities):
            self.bases[name] = self._base(name)
        for name in sorted(doc.entities):
            for field_name, spec in sorted(doc.entities[name].fields.items()):
                if (spec.storage_type() in (FieldType.SELECT, FieldType.MULTISELECT)
                        and spec.option_values()):
                    self.options[name, field_name] = self._claim(
                        self.bases[name] + pascal(field_name) + OPTION)

    def model(self, entity: str, use: str) -> str:
        return self.bases[entity] + ENDINGS[use]

    def _base(self, entity: str) -> str:
        base = pascal(entity)
        if (entity.rsplit("_", 1)[-1] in _ENDING_WORDS
                or any(base + ending in self.reserved for ending in ENDINGS.values())):
            base += "Record"
        candidate, number = base, 1
        while any(candidate + ending in self.taken for ending in ENDINGS.values()):
            number += 1
            candidate = f"{base}{number}"
        self.taken.update(candidate + ending for ending in ENDINGS.values())
        return candidate

    def _claim(self, name: str) -> str:
        candidate, number = name, 1
        while candidate in self.taken:
            number += 1
            candidate = f"{name}{number}"
        self.taken.add(candidate)
        return candidate


def entity_models(doc: AppDocument, names: ModelNames) -> dict[str, dict[str, Any]]:
    """The components of every entity: its record as read, created and changed, a page of
    them, what a bulk create answers, its rows when it is a line item, its options."""
    schemas: dict[str, dict[str, Any]] = {}
    for name in sorted(doc.entities):
        entity = doc.entities[name]
        label = localize(entity.label, "en") or name
        read = names.model(name, "read")
        for use, description in (("read", f"A {label} record, as read"),
                                 ("create", f"A new {label} record"),
                                 ("update", f"Changes to a {label} record: the fields given")):
            schema = _record(doc, name, names, use)
            schemas[names.model(name, use)] = {**titled(names.model(name, use), schema),
                                               "description": description}
        schemas[names.model(name, "page")] = {
            "type": "object", "title": names.model(name, "page"),
            "description": f"A page of {label} records",
            "required": ["items", "next_cursor"], "properties": {
                "items": {"type": "array", "items": ref(read)},
                "next_cursor": {"type": ["string", "null"],
                                "description": "the next page's cursor; null on the last"},
                "count": {"type": "integer"}, "count_capped": {"type": "boolean"}}}
        schemas[names.model(name, "bulk")] = {
            "type": "object", "title": names.model(name, "bulk"),
            "description": f"The {label} records created, in the order sent",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": ref(read)}}}
        for field_name, spec in entity.fields.items():
            if (name, field_name) in names.options:
                option = names.options[name, field_name]
                schemas[option] = {"type": "string", "title": option,
                                   "enum": spec.option_values()}
        if any(spec.type is FieldType.SUBTABLE and spec.entity == name
               for other in doc.entities.values() for spec in other.fields.values()):
            schemas[names.model(name, "row")] = _row(doc, name, names)
    return schemas


def _record(doc: AppDocument, name: str, names: ModelNames, use: str) -> dict[str, Any]:
    entity = doc.entities[name]
    schema = record_schema(entity, mode="write" if use == "update" else use)
    schema.pop("title", None)
    _name_values(schema, name, entity, names)
    for field_name, spec in entity.fields.items():
        if spec.type is not FieldType.SUBTABLE or spec.entity not in doc.entities:
            continue
        target = names.model(spec.entity, "read" if use == "read" else "row")
        schema["properties"][field_name] = {
            "type": "array", "title": localize(spec.label, "en") or field_name,
            "maxItems": SUBTABLE_ROWS_MAX, "items": ref(target),
            "description": (ROWS_READ if use == "read" else ROWS_WRITE).format(
                child=spec.entity, max=SUBTABLE_ROWS_MAX)}
    return schema


def _row(doc: AppDocument, child: str, names: ModelNames) -> dict[str, Any]:
    """A row sent with its record: the child's writable fields, and which row it is."""
    schema = _record(doc, child, names, "update")
    schema["properties"] = {
        "id": {"type": "integer", "description": "a row of this record, to change; "
                                                 "leave it out for a new row"},
        "version": {"type": "integer", "description": "the row's version: a stale one is "
                                                      "a 409"},
        **schema["properties"]}
    name = names.model(child, "row")
    return {**titled(name, schema),
            "description": f"A row of {localize(doc.entities[child].label, 'en') or child}, "
                           "sent with its record"}


def _name_values(schema: dict[str, Any], name: str, entity: EntitySpec,
                 names: ModelNames) -> None:
    """Field values with a shape of their own point at its component instead of repeating
    it inline (where a generator would name a class after the parent and the field)."""
    for field_name, prop in schema["properties"].items():
        spec = entity.fields.get(field_name)
        if spec is None:
            continue
        kind = spec.storage_type()
        option = names.options.get((name, field_name))
        if kind is FieldType.SELECT and option:
            schema["properties"][field_name] = nullable(option, _without(prop, "enum"))
        elif kind is FieldType.MULTISELECT and option:
            prop["items"] = ref(option)
        elif kind in (FieldType.FILE, FieldType.IMAGE):
            prop["items"] = ref("File")
        elif kind is FieldType.LOCATION:
            schema["properties"][field_name] = nullable("Location", prop)
        elif kind is FieldType.ADDRESS:
            schema["properties"][field_name] = nullable("Address", prop)
        elif kind is FieldType.SIGNATURE:
            schema["properties"][field_name] = nullable("Signature", prop)


def _without(schema: dict[str, Any], key: str) -> dict[str, Any]:
    schema = copy.copy(schema)
    schema.pop(key, None)
    return schema
