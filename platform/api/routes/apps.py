"""Apps and their metadata: create (inline metadata or a template), drafts, publish,
versions, and each app's own OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from loom.metamodel.errors import BadRequest, MetadataInvalid
from loom.metamodel.validation import parse_document
from loom.platform.api.context import command, etag, if_match, json_body, services
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.apps.templates import load_template
from loom.renderers.openapi import app_openapi

router = APIRouter(tags=["apps"])
# Version numbers are a 32-bit column: a larger one would fail in the database, not miss.
VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1, description="A published version")]


class AppIn(BaseModel):
    slug: str = Field(description="Stable identifier used in URLs, e.g. crm")
    label: str | dict[str, str] | None = None
    metadata: dict[str, Any] | None = Field(default=None, description="Inline document set")
    template: str | None = Field(default=None, description="Create from a starter template")
    demo_data: bool = False


class PublishIn(BaseModel):
    message: str | None = None
    base_version: int | None = Field(
        default=None, description="The version your draft started from; refused (409) if "
        "another version was published since")
    dry_run: bool = Field(default=False, description="Check and plan only; change nothing")


@router.get("/api/apps", summary="List apps")
async def list_apps(request: Request) -> Any:
    async with command(request, write=False) as (conn, actor):
        return LoomJSONResponse({"items": await services(request).apps.list(conn, actor)})


@router.post("/api/apps", status_code=201, summary="Create an app")
async def create_app(request: Request, body: AppIn) -> Any:
    if body.metadata is not None and body.template:
        raise BadRequest("Give either metadata or a template, not both")
    if body.template:
        document = load_template(body.template)
    elif body.metadata is not None:
        document = body.metadata
    else:
        document = {"app": {"label": body.label or body.slug}}
    if body.label and isinstance(document.get("app"), dict):
        document["app"] = {**document["app"], "label": body.label}
    if body.demo_data:
        raise BadRequest("Demo data comes with a template's demo recipe; this app has none")
    svc = services(request)
    async with command(request, write=True) as (conn, actor):
        result = await svc.apps.create(conn, actor, body.slug, document)
        app = await svc.apps.describe(conn, actor, body.slug)
    return LoomJSONResponse({**app, "publish": result.as_json()}, status_code=201,
                            headers={"Location": f"/api/apps/{body.slug}"})


@router.get("/api/apps/{app}", summary="Describe an app")
async def get_app(request: Request, app: str) -> Any:
    async with command(request, write=False) as (conn, actor):
        return LoomJSONResponse(await services(request).apps.describe(conn, actor, app))


@router.delete("/api/apps/{app}", status_code=204, summary="Delete an app with all its data")
async def delete_app(request: Request, app: str) -> Response:
    async with command(request, write=True) as (conn, actor):
        await services(request).apps.delete(conn, actor, app)
    return Response(status_code=204)


@router.get("/api/apps/{app}/metadata", summary="The published document set")
async def get_metadata(request: Request, app: str) -> Any:
    async with command(request, write=False) as (conn, actor):
        runtime = await services(request).apps.runtime(conn, actor, app)
    return LoomJSONResponse(runtime.doc.to_json(), headers={
        "ETag": etag(runtime.version), "X-Loom-Version": str(runtime.version)})


@router.get("/api/apps/{app}/metadata/draft", summary="The draft (or published) document set")
async def get_draft(request: Request, app: str) -> Any:
    async with command(request, write=False) as (conn, actor):
        document, revision = await services(request).apps.draft(conn, actor, app)
    return LoomJSONResponse(document, headers={"ETag": etag(revision)})


async def _save_draft(request: Request, app: str, *, patch: bool) -> Any:
    body = await json_body(request)
    async with command(request, write=True) as (conn, actor):
        document, revision = await services(request).apps.save_draft(
            conn, actor, app, body, patch=patch, if_revision=if_match(request))
    problems: list[dict[str, Any]] = []
    try:
        parse_document(document)
    except MetadataInvalid as exc:
        problems = [p.render("en") for p in exc.problems]
    return LoomJSONResponse({"revision": revision, "problems": problems, "document": document},
                            headers={"ETag": etag(revision)})


@router.put("/api/apps/{app}/metadata/draft", summary="Replace the draft",
            openapi_extra={"requestBody": {"required": True, "content": {
                "application/json": {"schema": {"type": "object"}}}}})
async def put_draft(request: Request, app: str) -> Any:
    return await _save_draft(request, app, patch=False)


@router.patch("/api/apps/{app}/metadata/draft", summary="Change the draft (JSON Merge Patch)",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/merge-patch+json": {"schema": {"type": "object"}},
                  "application/json": {"schema": {"type": "object"}}}}})
async def patch_draft(request: Request, app: str) -> Any:
    return await _save_draft(request, app, patch=True)


@router.post("/api/apps/{app}/metadata/publish",
             summary="Publish the draft as a new version (or 422 listing every problem)")
async def publish(request: Request, app: str, body: PublishIn | None = None) -> Any:
    body = body or PublishIn()
    async with command(request, write=True) as (conn, actor):
        result = await services(request).apps.publish(
            conn, actor, app, note=body.message, base_version=body.base_version,
            dry_run=body.dry_run)
    return LoomJSONResponse({**result.as_json(), "dry_run": body.dry_run})


@router.get("/api/apps/{app}/metadata/versions", summary="Published versions, newest first")
async def versions(request: Request, app: str) -> Any:
    async with command(request, write=False) as (conn, actor):
        return LoomJSONResponse({"items": await services(request).apps.versions(conn, actor,
                                                                              app)})


@router.get("/api/apps/{app}/metadata/versions/{version}", summary="One published version")
async def version(request: Request, app: str, version: VersionNumber) -> Any:
    async with command(request, write=False) as (conn, actor):
        document = await services(request).apps.version(conn, actor, app, version)
    return LoomJSONResponse(document, headers={"ETag": etag(version)})


@router.get("/api/apps/{app}/openapi.json", summary="OpenAPI of this app's record endpoints")
async def openapi(request: Request, app: str) -> Any:
    async with command(request, write=False) as (conn, actor):
        runtime = await services(request).apps.runtime(conn, actor, app)
    return LoomJSONResponse(app_openapi(runtime.slug, runtime.version, runtime.doc))
