"""Searching a whole app from one box."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from loom.platform.api.context import command, services
from loom.platform.api.problems import refusals, request_locale
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.records.app_search import PER_ENTITY, search_app

router = APIRouter(tags=["records"])


@router.get("/api/apps/{app}/search", summary="Search every entity you may read",
            responses=refusals(404))
async def search(request: Request, app: str,
                 q: str = Query(description="Words that must all appear in a record's "
                                "names, codes, phones or emails"),
                 limit: int = Query(default=PER_ENTITY, ge=1, le=20,
                                    description="Records per entity")) -> Any:
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        groups = await search_app(conn, runtime, actor, q, svc.clock.now(),
                                  request_locale(request), limit)
    return LoomJSONResponse({"groups": groups})
