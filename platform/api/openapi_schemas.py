"""Named schemas of the platform's OpenAPI document that routes point at from hand-written
pieces (``openapi_extra``, ``responses``): FastAPI collects only the Pydantic models it
sees, so these are added beside them (problems.install). A client generator makes one class
of each, where inline copies would be classes of the same name that collide."""

from __future__ import annotations

from typing import Any

from loom.platform.operations.store import STATUSES
from loom.renderers.openapi import PROBLEM_SCHEMAS, SHARED_MODELS


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_TEXT = {"type": "string"}
_WHEN = {"type": ["string", "null"], "format": "date-time"}
_LABEL = {"anyOf": [_TEXT, {"type": "object", "additionalProperties": _TEXT}],
          "description": "a text, or one per language ({\"zh-CN\": …, \"en\": …})"}


SCHEMAS: dict[str, dict[str, Any]] = {
    **PROBLEM_SCHEMAS,
    "SheetUpload": SHARED_MODELS["SheetUpload"],
    "MetadataDocument": {
        "type": "object", "title": "MetadataDocument", "additionalProperties": True,
        "description": "An app's metadata: {app, entities, forms, views, rules, flows, "
                       "dashboards, roles, jobs}, each keyed by item name (docs/METADATA.md)"},
    "JsonPatchOperation": {
        "type": "object", "title": "JsonPatchOperation", "required": ["op", "path"],
        "description": "One operation of a JSON Patch (RFC 6902)", "properties": {
            "op": {"enum": ["add", "remove", "replace", "move", "copy", "test"]},
            "path": {"type": "string"}, "from": {"type": "string"}, "value": {}}},
    "MetadataChange": {
        "type": "object", "title": "MetadataChange", "required": ["section", "item", "kind",
                                                                  "path", "summary"],
        "description": "One change between two versions of the metadata, in words",
        "properties": {"section": {"type": "string"}, "item": {"type": "string"},
                       "kind": {"enum": ["added", "removed", "changed"]},
                       "path": {"type": "string"}, "summary": {"type": "string"},
                       "before": {}, "after": {}}},
    "User": {
        "type": "object", "title": "User",
        "required": ["id", "email", "name", "is_admin", "active", "manager", "department",
                     "locale"],
        "properties": {"id": {"type": "integer"}, "email": _TEXT, "name": _TEXT,
                       "is_admin": {"type": "boolean"}, "active": {"type": "boolean"},
                       "manager": {"type": ["string", "null"],
                                   "description": "the manager's email"},
                       "department": {"type": ["string", "null"]},
                       "locale": {"type": ["string", "null"],
                                  "description": "the language chosen (zh-CN, en), if any"}}},
    "AppSummary": {
        "type": "object", "title": "AppSummary",
        "required": ["slug", "label", "version", "has_draft", "draft_revision"],
        "properties": {"slug": _TEXT, "label": _LABEL,
                       "version": {"type": ["integer", "null"],
                                   "description": "the published version; null before the "
                                                  "first publish"},
                       "has_draft": {"type": "boolean"},
                       "draft_revision": {"type": ["integer", "null"]},
                       "created_at": _WHEN}},
    "Operation": {
        "type": "object", "title": "Operation",
        "description": "Work that goes on in the background (GET /api/operations/{id})",
        "required": ["id", "kind", "status", "progress", "url"],
        "properties": {
            "id": {"type": "integer"}, "kind": _TEXT, "app": {"type": ["string", "null"]},
            "status": {"enum": list(STATUSES)},
            "progress": _ref("OperationProgress"),
            "params": {"type": "object", "additionalProperties": True},
            "result": {"type": ["object", "null"], "additionalProperties": True},
            "error": {"anyOf": [_ref("Problem"), {"type": "null"}]},
            "started_by": {"type": ["integer", "null"]}, "created_at": _WHEN,
            "started_at": _WHEN, "finished_at": _WHEN, "url": _TEXT}},
    "OperationProgress": {
        "type": "object", "title": "OperationProgress", "required": ["done"],
        "properties": {"done": {"type": "integer"}, "total": {"type": ["integer", "null"]},
                       "percent": {"type": ["integer", "null"]},
                       "step": {"anyOf": [_ref("OperationStep"), {"type": "null"}]}}},
    "OperationStep": {
        "type": "object", "title": "OperationStep", "required": ["name", "label"],
        "properties": {"name": _TEXT, "label": _TEXT}},
    "DraftSaved": {
        "type": "object", "title": "DraftSaved", "required": ["revision", "problems", "changes"],
        "properties": {"revision": {"type": "integer"},
                       "problems": {"type": "array", "items": _ref("FieldProblem")},
                       "changes": {"type": "array", "items": _ref("MetadataChange")},
                       "document": _ref("MetadataDocument")}},
}


def answer(name: str, description: str = "OK", *, listed: bool = False,
           status: int = 200) -> dict[int, dict[str, Any]]:
    """A route's ``responses`` entry: JSON of one of SCHEMAS (``listed``: ``{items: […]}``)."""
    schema = {"type": "object", "required": ["items"], "properties": {
        "items": {"type": "array", "items": schema_ref(name)}}} if listed else schema_ref(name)
    return {status: {"description": description,
                     "content": {"application/json": {"schema": schema}}}}


def schema_ref(name: str) -> dict[str, str]:
    """A reference to one of SCHEMAS."""
    if name not in SCHEMAS:
        raise KeyError(name)
    return _ref(name)
