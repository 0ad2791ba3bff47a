"""JSON Schema of an entity's records, as the API reads and writes them."""

from __future__ import annotations

import copy
from typing import Any

from loom.engines.field_values.coercion import MAX_ID
from loom.metamodel.entity import EntitySpec
from loom.metamodel.fields import FieldSpec, FieldType
from loom.metamodel.i18n import localize

FILE_SCHEMA: dict[str, Any] = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string"}, "url": {"type": "string"}, "key": {"type": "string"},
    "size": {"type": "integer"}, "type": {"type": "string"}}}
LOCATION_SCHEMA: dict[str, Any] = {"type": "object", "required": ["lat", "lng"], "properties": {
    "lat": {"type": "number", "minimum": -90, "maximum": 90},
    "lng": {"type": "number", "minimum": -180, "maximum": 180},
    "address": {"type": "string"}}}

SYSTEM_PROPERTIES: dict[str, dict[str, Any]] = {
    "id": {"type": "integer", "readOnly": True},
    "version": {"type": "integer", "readOnly": True},
    "created_at": {"type": "string", "format": "date-time", "readOnly": True},
    "updated_at": {"type": "string", "format": "date-time", "readOnly": True},
    "created_by": {"type": ["integer", "null"], "readOnly": True},
    "updated_by": {"type": ["integer", "null"], "readOnly": True},
}


def value_schema(spec: FieldSpec) -> dict[str, Any]:
    """The JSON Schema of one field's value (blank is null)."""
    kind = spec.storage_type()
    schema: dict[str, Any]
    if kind in (FieldType.INTEGER, FieldType.RATING):
        schema = {"type": "integer"}
    elif kind in (FieldType.DECIMAL, FieldType.CURRENCY, FieldType.PERCENT):
        schema = {"type": "number"}
    elif kind is FieldType.BOOLEAN:
        schema = {"type": "boolean"}
    elif kind is FieldType.DATE:
        schema = {"type": "string", "format": "date"}
    elif kind is FieldType.DATETIME:
        schema = {"type": "string", "format": "date-time"}
    elif kind is FieldType.SELECT:
        schema = {"type": "string", "enum": spec.option_values()}
    elif kind is FieldType.MULTISELECT:
        schema = {"type": "array", "items": {"type": "string", "enum": spec.option_values()},
                  "uniqueItems": True}
    elif kind is FieldType.EMAIL:
        schema = {"type": "string", "format": "email"}
    elif kind is FieldType.URL:
        schema = {"type": "string", "format": "uri"}
    elif kind in (FieldType.LOOKUP, FieldType.USER, FieldType.DEPARTMENT):
        schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID,
                  "description": f"id of the referenced {spec.ref or kind.value}"}
    elif kind in (FieldType.FILE, FieldType.IMAGE):
        schema = {"type": "array", "items": copy.deepcopy(FILE_SCHEMA)}
    elif kind in (FieldType.ADDRESS, FieldType.SIGNATURE):
        schema = {"type": "object"}
    elif kind is FieldType.LOCATION:
        schema = copy.deepcopy(LOCATION_SCHEMA)
    elif kind is FieldType.JSON:
        schema = {}
    else:
        schema = {"type": "string"}
        if spec.max_length:
            schema["maxLength"] = spec.max_length
    if spec.min is not None and schema.get("type") in ("integer", "number"):
        schema["minimum"] = float(spec.min)
    if spec.max is not None and schema.get("type") in ("integer", "number"):
        schema["maximum"] = float(spec.max)
    if schema and "type" in schema:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return schema


def record_schema(entity: EntitySpec, *, mode: str = "read",
                  locale: str = "en") -> dict[str, Any]:
    """``read``: what the API returns; ``write``: what it accepts (computed and system
    fields are read-only)."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    if mode == "read":
        properties.update(SYSTEM_PROPERTIES)
    for name, spec in entity.stored_fields().items():
        if mode == "write" and spec.computed:
            continue
        schema = value_schema(spec)
        schema["title"] = localize(spec.label, locale) or name
        if spec.computed or spec.readonly:
            schema["readOnly"] = True
        properties[name] = schema
        if mode == "create" and spec.required and not spec.computed and spec.default is None:
            required.append(name)
    schema = {"type": "object", "title": localize(entity.label, locale),
              "properties": properties}
    if mode in ("write", "create"):
        schema["additionalProperties"] = False
    if required:
        schema["required"] = required
    return schema
