"""A person's saved views of an app's lists, and sharing one with everyone (builders)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from loom.metamodel.fields import ApiName
from loom.platform.api.context import command, services
from loom.platform.api.guards import RowId
from loom.platform.api.problems import refusals, request_locale
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.records.saved_views import (
    SavedViewIn,
    delete_saved_view,
    get_saved_view,
    list_saved_views,
    save_view,
    shared_view_item,
)

router = APIRouter(tags=["views"])
PREFIX = "/api/apps/{app}/saved-views"


class SavedViewShareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: ApiName = Field(description="The view's name in the app's metadata")
    label: dict[str, str] | None = Field(default=None, description="Default: the saved "
                                         "view's label in every language")
    roles: list[ApiName] | None = Field(default=None, description="Only these roles see it")


@router.get(PREFIX, name="my_saved_views", summary="Your saved views", responses=refusals(404))
async def mine(request: Request, app: str,
               base: str | None = Query(default=None, max_length=100,
                                        description="entity:<name> or view:<name>")) -> Any:
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        return LoomJSONResponse({"items": await list_saved_views(conn, runtime, actor, base)})


@router.post(PREFIX, status_code=201, name="save_view", summary="Save a view of a list",
             responses=refusals(404, body=True))
async def create(request: Request, app: str, body: SavedViewIn) -> Any:
    svc = services(request)
    async with command(request, write=True) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        saved = await save_view(conn, runtime, actor, body, svc.clock.now())
    return LoomJSONResponse(saved, status_code=201)


@router.put(PREFIX + "/{view_id}",
            name="change_saved_view", summary="Change one of your saved views",
            responses=refusals(404, body=True))
async def change(request: Request, app: str, view_id: RowId, body: SavedViewIn) -> Any:
    svc = services(request)
    async with command(request, write=True) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        saved = await save_view(conn, runtime, actor, body, svc.clock.now(), view_id)
    return LoomJSONResponse(saved)


@router.delete(PREFIX + "/{view_id}", status_code=204,
               name="delete_saved_view", summary="Delete one of your saved views",
               responses=refusals(404))
async def remove(request: Request, app: str, view_id: RowId) -> Response:
    svc = services(request)
    async with command(request, write=True) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        await delete_saved_view(conn, runtime, actor, view_id)
    return Response(status_code=204)


@router.post(PREFIX + "/{view_id}/share",
             name="share_saved_view", summary="Share a saved view with everyone: publish "
             "it as a view of the app (builders)", responses=refusals(404, 409, body=True))
async def share(request: Request, app: str, view_id: RowId, body: SavedViewShareIn) -> Any:
    svc = services(request)
    async with command(request, write=True) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        saved = await get_saved_view(conn, runtime, actor, view_id)
        label = body.label or {"zh-CN": saved["label"], "en": saved["label"]}
        item = shared_view_item(runtime, actor, saved, label, body.roles)
        result = await svc.apps.publish_item(conn, actor, app, "views", body.name, item,
                                             note=f"shared view {body.name}",
                                             builders_may=True)
    return LoomJSONResponse({"name": body.name, "view": item,
                             "publish": result.as_json(request_locale(request))})
