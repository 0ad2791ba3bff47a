"""OpenAPI pieces: the problem+json document every refusal carries (shared with the
platform's own OpenAPI), and an app's own document: its record endpoints with the real
field schemas."""

from __future__ import annotations

from typing import Any

from loom.metamodel.app import AppDocument
from loom.metamodel.entity import EntitySpec
from loom.metamodel.fields import SUBTABLE_ROWS_MAX, FieldType
from loom.metamodel.i18n import localize
from loom.renderers.json_schema import record_schema
from loom.renderers.spreadsheets import CSV_TYPE, XLSX_TYPE

PROBLEM = {"$ref": "#/components/schemas/Problem"}
# RFC 9457 problem details as loom.platform.api.problems writes them; extension members
# (request_id, what changed under a 409, …) may follow.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object", "title": "Problem",
    "required": ["type", "title", "status", "detail", "errors"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"},
        "status": {"type": "integer"}, "detail": {"type": "string"},
        "instance": {"type": "string"}, "request_id": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "message"], "properties": {
                "field": {"type": ["string", "null"]}, "message": {"type": "string"},
                "code": {"type": "string"}, "index": {"type": "integer"}}}}}}
PROBLEM_DESCRIPTIONS = {
    400: "The request cannot be understood (malformed JSON, a bad parameter or header)",
    401: "Not authenticated: send Authorization: Bearer <token>",
    403: "Permission denied",
    404: "Not found",
    409: "Conflict: a stale version, a duplicate, or a state that does not allow it",
    413: "The request body is too large",
    415: "The body is not of a media type this operation reads",
    507: "The server has no room left to keep it (its disk is full); nothing was kept",
    422: "Invalid: every problem, one entry per field",
    428: "Precondition required: send If-Match: \"<version>\" (the record's ETag)",
    429: "Too many requests: wait for Retry-After seconds",
    503: "The database is busy with other work (nothing was changed): try again after "
         "Retry-After seconds",
}
BODY_REFUSALS = (400, 413, 422)  # what any operation that reads a body may answer
BUSY = 503
# The version a change or delete of a record expects, as read (the record's ETag); an app
# requires it unless its require_if_match is false (then 428 without it).
IF_MATCH: dict[str, Any] = {
    "name": "If-Match", "in": "header", "required": False, "example": '"1"',
    "schema": {"type": "string", "pattern": '^(W/)?"?[0-9]+"?$'},
    "description": "The record's version as read, e.g. \"3\" (its ETag); required unless "
                   "the app's require_if_match is false (428 without it)"}


def problem_responses(*codes: int) -> dict[str, Any]:
    """OpenAPI responses for refusals: problem+json under each status code, and the 503 of
    a busy database that any operation may meet."""
    return {str(code): {"description": PROBLEM_DESCRIPTIONS.get(code, "Problem"),
                        "content": {"application/problem+json": {"schema": PROBLEM}}}
            for code in sorted({*codes, BUSY})}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


IMPORT_REPORT: dict[str, Any] = {"type": "object", "properties": {
    "rows": {"type": "integer"}, "created": {"type": "integer"},
    "updated": {"type": "integer"}, "refused": {"type": "integer"},
    "errors": {"type": "array", "items": {"type": "object", "properties": {
        "row": {"type": "integer"}, "field": {"type": ["string", "null"]},
        "column": {"type": ["string", "null"]}, "message": {"type": "string"}}}}}}


_GROUP = {"type": "object", "properties": {
    "entity": {"type": "string"}, "label": {"type": "string"}, "field": {"type": "string"},
    "field_label": {"type": "string"}, "count": {"type": "integer"}}}
_EFFECTS = {"deletes": {"type": "array", "items": _GROUP,
                        "description": "records that go with it (cascade), per entity"},
            "clears": {"type": "array", "items": _GROUP,
                       "description": "references cleared (set null), per lookup"}}
DELETE_RESULT: dict[str, Any] = {"type": "object", "properties": {
    "entity": {"type": "string"}, "id": {"type": "integer"},
    "recycle_bin_id": {"type": "integer", "description": "restore it with POST "
                       "/api/apps/{app}/recycle-bin/{id}/restore"}, **_EFFECTS}}
DELETE_IMPACT: dict[str, Any] = {"type": "object", "properties": {
    "entity": {"type": "string"}, "id": {"type": "integer"},
    "allowed": {"type": "boolean"}, **_EFFECTS,
    "restricts": {"type": "array", "items": _GROUP,
                  "description": "references that refuse the delete (restrict)"},
    "named_by": {"type": "array", "items": {"type": "object", "description":
                 "rules, flows, record actions and roles that find one of the records by "
                 "a value"}},
    "errors": {"type": "array", "items": {"type": "object"}}}}


def _sheet_paths(base: str, name: str, label: str) -> dict[str, Any]:
    """Export as CSV/XLSX and import from one (see README, "Importing and exporting")."""
    def query(param: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"name": param, "in": "query", "schema": schema}

    text = {"type": "string"}
    return {
        f"{base}/export": {"get": {
            "summary": f"Export {label} records as CSV or XLSX", "tags": [name],
            "parameters": [query("format", {"enum": ["csv", "xlsx"]}), query("filter", text),
                           query("sort", text), query("fields", text),
                           query("header", {"enum": ["labels", "names"]}),
                           query("values", {"enum": ["labels", "raw"]})],
            "responses": {"200": {"description": "The records", "content": {
                CSV_TYPE: {"schema": text},
                XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
                **problem_responses(400, 401, 403, 404, 422)}}},
        f"{base}/import": {"post": {
            "summary": f"Import {label} records from a CSV or XLSX file", "tags": [name],
            "parameters": [query("mode", {"enum": ["create", "upsert"]}), query("key", text),
                           query("dry_run", {"type": "boolean"}),
                           query("all_or_nothing", {"type": "boolean"})],
            "requestBody": {"required": True, "content": {
                "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                                   "properties": {"file": {
                                                       "type": "string",
                                                       "format": "binary"}}}},
                CSV_TYPE: {"schema": text},
                XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
            "responses": {"200": {"description": "The per-row report", **_json(
                IMPORT_REPORT)}, **problem_responses(400, 401, 403, 404, 413, 415, 422)}}},
    }


ROWS_READ = ("Its rows (line items: records of {child}), by id, at most {max}; a single "
             "record carries them, lists do not")
ROWS_WRITE = ("The complete new set of rows (at most {max}): a row with an id changes that "
              "row of this record (only the fields given; its version makes the change "
              "optimistic), a row without one is added, rows left out are deleted. Leave the "
              "field out to keep the rows as they are")


def _with_rows(schema: dict[str, Any], entity: EntitySpec, mode: str) -> dict[str, Any]:
    """``schema`` with the inline rows of the entity's subtable fields."""
    for name, field in entity.fields.items():
        if field.type is not FieldType.SUBTABLE or not field.entity:
            continue
        target = field.entity if mode == "read" else f"{field.entity}_row"
        schema["properties"][name] = {
            "type": "array", "title": localize(field.label, "en") or name,
            "maxItems": SUBTABLE_ROWS_MAX,
            "items": {"$ref": f"#/components/schemas/{target}"},
            "description": (ROWS_READ if mode == "read" else ROWS_WRITE).format(
                child=field.entity, max=SUBTABLE_ROWS_MAX)}
    return schema


def _row_schema(child: EntitySpec) -> dict[str, Any]:
    """A row sent with its record: the child's writable fields, and which row it is."""
    schema = record_schema(child, mode="write")
    schema["properties"] = {
        "id": {"type": "integer", "description": "a row of this record, to change; "
                                                 "leave it out for a new row"},
        "version": {"type": "integer", "description": "the row's version: a stale one is "
                                                      "a 409"},
        **schema["properties"]}
    return schema


def app_openapi(slug: str, version: int, doc: AppDocument) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    for name, entity in doc.entities.items():
        ref = {"$ref": f"#/components/schemas/{name}"}
        schemas[name] = _with_rows(record_schema(entity, mode="read"), entity, "read")
        schemas[f"{name}_create"] = _with_rows(record_schema(entity, mode="create"), entity,
                                               "create")
        schemas[f"{name}_update"] = _with_rows(record_schema(entity, mode="write"), entity,
                                               "write")
        for field in entity.fields.values():
            if field.type is FieldType.SUBTABLE and field.entity in doc.entities:
                schemas[f"{field.entity}_row"] = _row_schema(doc.entities[field.entity])
        label = localize(entity.label, "en")
        base = f"/api/apps/{slug}/records/{name}"
        record_id = {"name": "record_id", "in": "path", "required": True,
                     "schema": {"type": "integer"}}
        if_match = {**IF_MATCH, "required": doc.app.require_if_match}
        paths[base] = {
            "get": {"summary": f"List {label} records", "tags": [name], "parameters": [
                {"name": "filter", "in": "query", "schema": {"type": "string"},
                 "description": "JSON Logic condition"},
                {"name": "sort", "in": "query", "schema": {"type": "string"}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                            "maximum": 1000}},
                {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                {"name": "fields", "in": "query", "schema": {"type": "string"}},
                {"name": "count", "in": "query", "schema": {"type": "boolean"}}],
                "responses": {"200": {"description": "A page", **_json({
                    "type": "object", "properties": {
                        "items": {"type": "array", "items": ref},
                        "next_cursor": {"type": ["string", "null"]},
                        "count": {"type": "integer"}, "count_capped": {"type": "boolean"}}})},
                    **problem_responses(400, 401, 403, 404, 422)}},
            "post": {"summary": f"Create a {label}", "tags": [name],
                     "requestBody": {"required": True, **_json(
                         {"$ref": f"#/components/schemas/{name}_create"})},
                     "responses": {"201": {"description": "Created", **_json(ref)},
                                   **problem_responses(401, 403, 404, 409,
                                                       *BODY_REFUSALS)}},
        }
        paths[f"{base}/_bulk"] = {"post": {
            "summary": f"Create many {label} records, all or none", "tags": [name],
            "requestBody": {"required": True, **_json({"type": "array", "items": {
                "$ref": f"#/components/schemas/{name}_create"}})},
            "responses": {"201": {"description": "Created", **_json({
                "type": "object", "properties": {"items": {"type": "array", "items": ref}}})},
                **problem_responses(401, 403, 404, 409, *BODY_REFUSALS)}}}
        paths.update(_sheet_paths(base, name, label))
        paths[f"{base}/{{record_id}}"] = {
            "parameters": [record_id],
            "get": {"summary": f"Read a {label}", "tags": [name],
                    "responses": {"200": {"description": "The record", **_json(ref)},
                                  **problem_responses(401, 403, 404, 422)}},
            "patch": {"summary": f"Change a {label}", "tags": [name], "parameters": [if_match],
                      "requestBody": {"required": True, **_json(
                          {"$ref": f"#/components/schemas/{name}_update"})},
                      "responses": {"200": {"description": "Changed", **_json(ref)},
                                    **problem_responses(401, 403, 404, 409, 428,
                                                        *BODY_REFUSALS)}},
            "delete": {"summary": f"Delete a {label}", "tags": [name],
                       "parameters": [if_match],
                       "responses": {"200": {"description": "Deleted, with what went with "
                                             "it; kept in the recycle bin",
                                             **_json(DELETE_RESULT)},
                                     **problem_responses(400, 401, 403, 404, 409, 422, 428)}},
        }
        paths[f"{base}/{{record_id}}/delete-impact"] = {
            "parameters": [record_id],
            "get": {"summary": f"What deleting a {label} would do (changes nothing)",
                    "tags": [name],
                    "responses": {"200": {"description": "The impact", **_json(DELETE_IMPACT)},
                                  **problem_responses(401, 403, 404, 422)}}}
    return {"openapi": "3.1.0",
            "info": {"title": f"{localize(doc.app.label, 'en')} records",
                     "version": str(version)},
            "paths": paths,
            "components": {"schemas": schemas, "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}]}
