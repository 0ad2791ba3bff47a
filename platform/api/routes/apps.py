"""Apps: create (inline metadata or a clone of a template), list, describe, delete, and
each app's own OpenAPI document. Their metadata lifecycle is in ``metadata.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from loom.metamodel.errors import BadRequest
from loom.metamodel.i18n import message
from loom.platform.api.context import command, services
from loom.platform.api.guards import StoredText
from loom.platform.api.openapi_schemas import answer
from loom.platform.api.problems import refusals, request_locale
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.api.routes.demo import aware, queue_demo, start_demo
from loom.platform.apps.cloning import clone_template
from loom.platform.apps.templates import available_templates, load_template
from loom.platform.demo import prepare_demo
from loom.renderers.openapi import app_openapi

router = APIRouter(tags=["apps"])


class AppIn(BaseModel):
    slug: str = Field(description="Stable identifier used in URLs, e.g. crm")
    label: str | dict[str, str] | None = None
    metadata: dict[str, Any] | None = Field(default=None, description="Inline document set")
    template: StoredText | None = Field(default=None,
                                        description="Create from a starter template")
    demo_data: bool = Field(default=False, description="Add the template's demo data")
    demo_seed: int = Field(default=1, description="Demo data: the same seed, the same data")
    demo_size: Literal["small", "medium", "large"] | None = None
    demo_as_of: datetime | None = Field(default=None, description="Demo data: the simulated "
                                        "now (default: now)")


@router.get("/api/templates", summary="Starter templates an app can be cloned from")
async def list_templates(request: Request) -> Any:
    async with command(request, write=False):
        items = []
        for name in available_templates():
            info = load_template(name)["app"]
            items.append({"name": name, "label": info.get("label"),
                          "description": info.get("description"),
                          "version": info.get("template_version")})
    return LoomJSONResponse({"items": items})


@router.get("/api/apps", summary="List apps", responses=answer("AppSummary", listed=True))
async def list_apps(request: Request) -> Any:
    async with command(request, write=False) as (conn, actor):
        return LoomJSONResponse({"items": await services(request).apps.list(conn, actor)})


@router.post("/api/apps", status_code=201, summary="Create an app",
             responses=refusals(404, 409, body=True))
async def create_app(request: Request, body: AppIn) -> Any:
    """With ``demo_data``, the app is answered as soon as its clone is published; its demo
    data is written in the background (``demo.operation`` to follow)."""
    if body.metadata is not None and body.template:
        raise BadRequest("Give either metadata or a template, not both")
    if body.demo_data and not body.template:
        raise BadRequest(message("demo_no_recipe"))
    demo = None
    svc = services(request)
    async with command(request, write=True) as (conn, actor):
        if body.template:
            result = await clone_template(svc.apps, svc.pipeline, conn, actor, body.slug,
                                          body.template, label=body.label)
            if body.demo_data:  # checked with the clone: a bad recipe leaves no app
                demo = await prepare_demo(svc, conn, actor, body.slug, seed=body.demo_seed,
                                          size=body.demo_size, as_of=aware(body.demo_as_of))
                operation_id = await queue_demo(request, conn, actor, demo)
        else:
            document = body.metadata if body.metadata is not None else {
                "app": {"label": body.label or body.slug}}
            if body.label and isinstance(document.get("app"), dict):
                document["app"] = {**document["app"], "label": body.label}
            result = await svc.apps.create(conn, actor, body.slug, document)
        app = await svc.apps.describe(conn, actor, body.slug)
    extra = {"demo": {"operation": await start_demo(request, actor, operation_id, demo)}} \
        if demo is not None else {}
    return LoomJSONResponse({**app, "publish": result.as_json(request_locale(request)), **extra},
                            status_code=201,
                            headers={"Location": f"/api/apps/{body.slug}"})


@router.get("/api/apps/{app}", summary="Describe an app",
            responses={**answer("AppSummary"), **refusals(404)})
async def get_app(request: Request, app: str) -> Any:
    async with command(request, write=False) as (conn, actor):
        return LoomJSONResponse(await services(request).apps.describe(conn, actor, app))


@router.delete("/api/apps/{app}", status_code=204, summary="Delete an app with all its data",
               responses=refusals(404, 409))
async def delete_app(request: Request, app: str) -> Response:
    async with command(request, write=True) as (conn, actor):
        await services(request).apps.delete(conn, actor, app)
    return Response(status_code=204)


@router.get("/api/apps/{app}/openapi.json", summary="OpenAPI of this app's record endpoints",
            responses=refusals(404))
async def openapi(request: Request, app: str) -> Any:
    async with command(request, write=False) as (conn, actor):
        runtime = await services(request).apps.runtime(conn, actor, app)
    return LoomJSONResponse(app_openapi(runtime.slug, runtime.version, runtime.doc))
