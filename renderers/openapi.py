"""An app's own OpenAPI document: its record endpoints with the real field schemas."""

from __future__ import annotations

from typing import Any

from loom.metamodel.app import AppDocument
from loom.metamodel.i18n import localize
from loom.renderers.json_schema import record_schema

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _problem_responses(*codes: int) -> dict[str, Any]:
    return {str(code): {"description": "Problem", "content": {
        "application/problem+json": {"schema": PROBLEM}}} for code in codes}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def app_openapi(slug: str, version: int, doc: AppDocument) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Problem": {
        "type": "object", "required": ["type", "title", "status"], "properties": {
            "type": {"type": "string"}, "title": {"type": "string"},
            "status": {"type": "integer"}, "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object", "properties": {
                "field": {"type": ["string", "null"]}, "message": {"type": "string"},
                "code": {"type": "string"}, "index": {"type": "integer"}}}}}}}
    for name, entity in doc.entities.items():
        ref = {"$ref": f"#/components/schemas/{name}"}
        schemas[name] = record_schema(entity, mode="read")
        schemas[f"{name}_create"] = record_schema(entity, mode="create")
        schemas[f"{name}_update"] = record_schema(entity, mode="write")
        label = localize(entity.label, "en")
        base = f"/api/apps/{slug}/records/{name}"
        record_id = {"name": "record_id", "in": "path", "required": True,
                     "schema": {"type": "integer"}}
        if_match = {"name": "If-Match", "in": "header", "required": False,
                    "schema": {"type": "string"}, "description": "the record's version"}
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
                    **_problem_responses(400, 401, 403, 404)}},
            "post": {"summary": f"Create a {label}", "tags": [name],
                     "requestBody": {"required": True, **_json(
                         {"$ref": f"#/components/schemas/{name}_create"})},
                     "responses": {"201": {"description": "Created", **_json(ref)},
                                   **_problem_responses(400, 401, 403, 404, 422)}},
        }
        paths[f"{base}/_bulk"] = {"post": {
            "summary": f"Create many {label} records, all or none", "tags": [name],
            "requestBody": {"required": True, **_json({"type": "array", "items": {
                "$ref": f"#/components/schemas/{name}_create"}})},
            "responses": {"201": {"description": "Created", **_json({
                "type": "object", "properties": {"items": {"type": "array", "items": ref}}})},
                **_problem_responses(400, 401, 403, 404, 422)}}}
        paths[f"{base}/{{record_id}}"] = {
            "parameters": [record_id],
            "get": {"summary": f"Read a {label}", "tags": [name],
                    "responses": {"200": {"description": "The record", **_json(ref)},
                                  **_problem_responses(401, 403, 404)}},
            "patch": {"summary": f"Change a {label}", "tags": [name], "parameters": [if_match],
                      "requestBody": {"required": True, **_json(
                          {"$ref": f"#/components/schemas/{name}_update"})},
                      "responses": {"200": {"description": "Changed", **_json(ref)},
                                    **_problem_responses(400, 401, 403, 404, 409, 422)}},
            "delete": {"summary": f"Delete a {label}", "tags": [name],
                       "parameters": [if_match],
                       "responses": {"204": {"description": "Deleted"},
                                     **_problem_responses(401, 403, 404, 409)}},
        }
    return {"openapi": "3.1.0",
            "info": {"title": f"{localize(doc.app.label, 'en')} records",
                     "version": str(version)},
            "paths": paths,
            "components": {"schemas": schemas, "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}]}
