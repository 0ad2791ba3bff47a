"""The recycle bin over HTTP: what was deleted in an app (and is still kept), and
restoring it. For administrators and the app's builders."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from loom.platform.api.context import command, services
from loom.platform.api.guards import RowId
from loom.platform.api.problems import refusals, request_locale
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.records.recycle_bin import MAX_LIMIT, list_items
from loom.platform.records.restore import restore_item

router = APIRouter(tags=["recycle bin"])
PREFIX = "/api/apps/{app}/recycle-bin"


@router.get(PREFIX, summary="Deleted records still kept, newest first",
            responses=refusals(404))
async def list_bin(request: Request, app: str,
                   entity: str | None = Query(default=None, description="Only this entity"),
                   limit: int = Query(default=100, ge=1, le=MAX_LIMIT),
                   cursor: int | None = Query(default=None, ge=1,
                                              description="next_cursor of the page before"),
                   ) -> Any:
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        await svc.apps.require_builder(conn, actor, app)
        runtime = await svc.apps.runtime(conn, actor, app)
        items, next_cursor = await list_items(
            conn, runtime, now=svc.clock.now(), days=svc.settings.recycle_days,
            locale=request_locale(request), entity=entity, limit=limit, before=cursor)
    return LoomJSONResponse({"items": items, "next_cursor": next_cursor})


@router.post(PREFIX + "/{item_id}/restore",
             summary="Restore a deleted record with what its delete took along",
             responses=refusals(404, 409))
async def restore(request: Request, app: str, item_id: RowId) -> Any:
    svc = services(request)
    async with command(request, write=True) as (conn, actor):
        await svc.apps.require_builder(conn, actor, app)
        runtime, actor = await svc.apps.enter(conn, actor, app)
        result = await restore_item(conn, runtime, actor, svc.pipeline, item_id,
                                    now=svc.clock.now(), days=svc.settings.recycle_days)
    return LoomJSONResponse(result)
