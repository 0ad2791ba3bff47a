"""Dashboards: the list a reader may open, and one dashboard's figures as JSON — the same
numbers a page draws, counted only over the records the reader may read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.platform.api.context import command, lag_tolerant, services
from loom.platform.api.problems import refusals, request_locale
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.api.routes.records import parse_filter
from loom.platform.dashboards.parameters import PRESETS
from loom.platform.dashboards.service import compute_dashboard, list_dashboards
from loom.platform.security.actors import Actor

router = APIRouter(tags=["dashboards"])
PREFIX = "/api/apps/{app}/dashboards"


@router.get(PREFIX, summary="The dashboards you may open", responses=refusals(404))
async def dashboards(request: Request, app: str) -> Any:
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        items = list_dashboards(runtime, actor, request_locale(request))
    return LoomJSONResponse({"items": items})


@router.get(PREFIX + "/{name}", summary="A dashboard's figures", responses=refusals(404))
async def dashboard(
        request: Request, app: str, name: str,
        period: str | None = Query(default=None, description="A preset: "
                                   + ", ".join(PRESETS)),
        from_: str | None = Query(default=None, alias="from",
                                  description="First day included (YYYY-MM-DD)"),
        to: str | None = Query(default=None, description="Last day included (YYYY-MM-DD)"),
        filter: str | None = Query(default=None, description="JSON Logic: narrows every "
                                   "figure of an entity that has the fields it names")) -> Any:
    rule = parse_filter(filter)
    svc = services(request)

    async def figures(conn: AsyncConnection, actor: Actor) -> dict[str, Any]:
        runtime, actor = await svc.apps.enter(conn, actor, app)
        return await compute_dashboard(conn, runtime, actor, name, svc.clock.now(),
                                       preset=period, start=from_, end=to, rule=rule,
                                       locale=request_locale(request))

    # figures a moment old are as good as fresh ones: on the read replica when there is one
    return LoomJSONResponse(await lag_tolerant(request, figures))
