"""OpenAPI pieces: the problem+json document every refusal carries (shared with the
platform's own OpenAPI), and an app's own document: its record endpoints with the real
field schemas, as components named for the clients generated from it
(renderers/openapi_models.py)."""

from __future__ import annotations

from typing import Any

from loom.metamodel.app import AppDocument
from loom.metamodel.i18n import localize
from loom.renderers.openapi_models import VALUE_MODELS, ModelNames, entity_models, ref
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
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldProblem"}}}}
FIELD_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object", "title": "FieldProblem", "required": ["field", "message"],
    "description": "One problem: the field it is about (null: the record as a whole)",
    "properties": {"field": {"type": ["string", "null"]}, "message": {"type": "string"},
                   "code": {"type": "string"}, "index": {"type": "integer"}}}
# the components a document that answers problems carries
PROBLEM_SCHEMAS: dict[str, dict[str, Any]] = {"Problem": PROBLEM_SCHEMA,
                                              "FieldProblem": FIELD_PROBLEM_SCHEMA}
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


def _object(title: str, properties: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"type": "object", "title": title, "properties": properties, **more}


_GROUP = _object("DeleteGroup", {
    "entity": {"type": "string"}, "label": {"type": "string"}, "field": {"type": "string"},
    "field_label": {"type": "string"}, "count": {"type": "integer"}},
    description="Records of one entity (through one lookup) that a delete reaches")
_EFFECTS = {"deletes": {"type": "array", "items": ref("DeleteGroup"),
                        "description": "records that go with it (cascade), per entity"},
            "clears": {"type": "array", "items": ref("DeleteGroup"),
                       "description": "references cleared (set null), per lookup"}}
# Shapes every app's document shares, by component name (no entity's model takes one).
SHARED_MODELS: dict[str, dict[str, Any]] = {
    **PROBLEM_SCHEMAS,
    **VALUE_MODELS,
    "DeleteGroup": _GROUP,
    "DeleteResult": _object("DeleteResult", {
        "entity": {"type": "string"}, "id": {"type": "integer"},
        "recycle_bin_id": {"type": "integer", "description": "restore it with POST "
                           "/api/apps/{app}/recycle-bin/{id}/restore"}, **_EFFECTS}),
    "DeleteImpact": _object("DeleteImpact", {
        "entity": {"type": "string"}, "id": {"type": "integer"},
        "allowed": {"type": "boolean"}, **_EFFECTS,
        "restricts": {"type": "array", "items": ref("DeleteGroup"),
                      "description": "references that refuse the delete (restrict)"},
        "named_by": {"type": "array", "items": ref("MetadataReference"), "description":
                     "rules, flows, record actions and roles that find one of the records "
                     "by a value"},
        "errors": {"type": "array", "items": ref("FieldProblem")}}),
    "MetadataReference": _object("MetadataReference", {
        "kind": {"type": "string"}, "name": {"type": "string"}, "label": {"type": "string"},
        "entity": {"type": "string"}, "id": {"type": "integer"},
        "field": {"type": ["string", "null"]}, "value": {}, "path": {"type": "string"}},
        description="A rule, flow, record action or role that names a record by a value"),
    "ImportReport": _object("ImportReport", {
        "rows": {"type": "integer"}, "created": {"type": "integer"},
        "updated": {"type": "integer"}, "refused": {"type": "integer"},
        "errors": {"type": "array", "items": ref("ImportRowError")}}),
    "ImportRowError": _object("ImportRowError", {
        "row": {"type": "integer"}, "field": {"type": ["string", "null"]},
        "column": {"type": ["string", "null"]}, "message": {"type": "string"}}),
    "Operation": _object("Operation", {
        "id": {"type": "integer"}, "kind": {"type": "string"},
        "status": {"type": "string"}, "url": {"type": "string"},
        "progress": {"type": "object", "additionalProperties": True},
        "result": {"type": ["object", "null"], "additionalProperties": True}},
        required=["id", "kind", "status", "url"],
        description="Work that goes on in the background (GET /api/operations/{id})"),
    "SheetUpload": _object("SheetUpload", {
        "file": {"type": "string", "format": "binary", "description": "A .csv or .xlsx file"}},
        required=["file"]),
    # query parameters' choices
    "ExportFormat": {"type": "string", "title": "ExportFormat", "enum": ["csv", "xlsx"]},
    "ExportHeader": {"type": "string", "title": "ExportHeader", "enum": ["labels", "names"],
                     "description": "the header row: field labels or API names"},
    "ExportValues": {"type": "string", "title": "ExportValues", "enum": ["labels", "raw"],
                     "description": "options and references as labels, or as stored"},
    "ImportMode": {"type": "string", "title": "ImportMode", "enum": ["create", "upsert"]},
}
SHEET_BODY_NOTE = (f"The file as the multipart form field 'file'; the raw body with "
                   f"Content-Type {CSV_TYPE} or {XLSX_TYPE} is read too")


def _query(param: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    out = {"name": param, "in": "query", "schema": schema}
    return {**out, "description": description} if description else out


def _sheet_paths(base: str, name: str, label: str) -> dict[str, Any]:
    """Export as CSV/XLSX and import from one (see README, "Importing and exporting")."""
    text = {"type": "string"}
    return {
        f"{base}/export": {"get": {
            "summary": f"Export {label} records as CSV or XLSX", "tags": [name],
            "operationId": f"{name}_export",
            "parameters": [_query("format", ref("ExportFormat")),
                           _query("filter", text), _query("sort", text),
                           _query("fields", text), _query("header", ref("ExportHeader")),
                           _query("values", ref("ExportValues"))],
            "responses": {"200": {"description": "The records", "content": {
                CSV_TYPE: {"schema": text},
                XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
                **problem_responses(400, 401, 403, 404, 422)}}},
        f"{base}/import": {"post": {
            "summary": f"Import {label} records from a CSV or XLSX file", "tags": [name],
            "operationId": f"{name}_import", "description": SHEET_BODY_NOTE,
            "parameters": [_query("mode", ref("ImportMode")),
                           _query("key", text), _query("dry_run", {"type": "boolean"}),
                           _query("all_or_nothing", {"type": "boolean"})],
            "requestBody": {"required": True, "content": {
                "multipart/form-data": {"schema": ref("SheetUpload")}}},
            "responses": {"200": {"description": "The per-row report",
                                  **_json(ref("ImportReport"))}, "202": {
                    "description": "A large file: imported in the background; follow the "
                                   "operation at Location (its result is the report)",
                    "headers": {"Location": {"schema": text}},
                    **_json(ref("Operation"))},
                **problem_responses(400, 401, 403, 404, 413, 415, 422)}}},
    }


def _record_paths(slug: str, name: str, label: str, models: dict[str, str],
                  if_match: dict[str, Any]) -> dict[str, Any]:
    """The record endpoints of one entity; operation ids ``<entity>_<verb>`` (no verb
    ends with another verb, so no two entities' ids meet)."""
    base = f"/api/apps/{slug}/records/{name}"
    record_id = {"name": "record_id", "in": "path", "required": True,
                 "schema": {"type": "integer"}}
    read = ref(models["read"])
    paths: dict[str, Any] = {
        base: {
            "get": {"summary": f"List {label} records", "tags": [name],
                    "operationId": f"{name}_list", "parameters": [
                        _query("filter", {"type": "string"}, "JSON Logic condition"),
                        _query("sort", {"type": "string"}),
                        _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
                        _query("cursor", {"type": "string"}),
                        _query("fields", {"type": "string"}),
                        _query("count", {"type": "boolean"})],
                    "responses": {"200": {"description": "A page",
                                          **_json(ref(models["page"]))},
                                  **problem_responses(400, 401, 403, 404, 422)}},
            "post": {"summary": f"Create a {label}", "tags": [name],
                     "operationId": f"{name}_create",
                     "requestBody": {"required": True, **_json(ref(models["create"]))},
                     "responses": {"201": {"description": "Created", **_json(read)},
                                   **problem_responses(401, 403, 404, 409,
                                                       *BODY_REFUSALS)}}},
        f"{base}/_bulk": {"post": {
            "summary": f"Create many {label} records, all or none", "tags": [name],
            "operationId": f"{name}_create_many",
            "requestBody": {"required": True, **_json({
                "type": "array", "items": ref(models["create"])})},
            "responses": {"201": {"description": "Created", **_json(ref(models["bulk"]))},
                          **problem_responses(401, 403, 404, 409, *BODY_REFUSALS)}}},
        **_sheet_paths(base, name, label),
        f"{base}/{{record_id}}": {
            "parameters": [record_id],
            "get": {"summary": f"Read a {label}", "tags": [name], "operationId": f"{name}_read",
                    "responses": {"200": {"description": "The record", **_json(read)},
                                  **problem_responses(401, 403, 404, 422)}},
            "patch": {"summary": f"Change a {label}", "tags": [name],
                      "operationId": f"{name}_update", "parameters": [if_match],
                      "requestBody": {"required": True, **_json(ref(models["update"]))},
                      "responses": {"200": {"description": "Changed", **_json(read)},
                                    **problem_responses(401, 403, 404, 409, 428,
                                                        *BODY_REFUSALS)}},
            "delete": {"summary": f"Delete a {label}", "tags": [name],
                       "operationId": f"{name}_delete", "parameters": [if_match],
                       "responses": {"200": {"description": "Deleted, with what went with "
                                             "it; kept in the recycle bin",
                                             **_json(ref("DeleteResult"))},
                                     **problem_responses(400, 401, 403, 404, 409, 422, 428)}},
        },
        f"{base}/{{record_id}}/delete-impact": {
            "parameters": [record_id],
            "get": {"summary": f"What deleting a {label} would do (changes nothing)",
                    "tags": [name], "operationId": f"{name}_delete_impact",
                    "responses": {"200": {"description": "The impact",
                                          **_json(ref("DeleteImpact"))},
                                  **problem_responses(401, 403, 404, 422)}}},
    }
    return paths


def app_openapi(slug: str, version: int, doc: AppDocument) -> dict[str, Any]:
    """The OpenAPI document of an app's record endpoints, with its entities' real
    schemas."""
    names = ModelNames(doc, frozenset(SHARED_MODELS))
    schemas = {**SHARED_MODELS, **entity_models(doc, names)}
    if_match = {**IF_MATCH, "required": doc.app.require_if_match}
    paths: dict[str, Any] = {}
    for name, entity in doc.entities.items():
        models = {use: names.model(name, use) for use in ("read", "create", "update",
                                                          "page", "bulk")}
        paths.update(_record_paths(slug, name, localize(entity.label, "en") or name, models,
                                   if_match))
    return {"openapi": "3.1.0",
            "info": {"title": f"{localize(doc.app.label, 'en')} records",
                     "version": str(version)},
            "paths": paths,
            "components": {"schemas": schemas, "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}]}
