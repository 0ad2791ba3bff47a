"""Named schemas of the platform's OpenAPI document that routes point at from hand-written
pieces (``openapi_extra``, ``responses``): FastAPI collects only the Pydantic models it
sees, so these are added beside them (problems.install). A client generator makes one class
of each, where inline copies would be classes of the same name that collide."""

from __future__ import annotations

from typing import Any

from loom.renderers.openapi import PROBLEM_SCHEMAS, SHARED_MODELS


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS: dict[str, dict[str, Any]] = {
    **PROBLEM_SCHEMAS,
    "SheetUpload": SHARED_MODELS["SheetUpload"],
    "MetadataDocument": {
        "type": "object", "title": "MetadataDocument",
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
    "DraftSaved": {
        "type": "object", "title": "DraftSaved", "required": ["revision", "problems", "changes"],
        "properties": {"revision": {"type": "integer"},
                       "problems": {"type": "array", "items": _ref("FieldProblem")},
                       "changes": {"type": "array", "items": _ref("MetadataChange")},
                       "document": _ref("MetadataDocument")}},
}


def schema_ref(name: str) -> dict[str, str]:
    """A reference to one of SCHEMAS."""
    if name not in SCHEMAS:
        raise KeyError(name)
    return _ref(name)
