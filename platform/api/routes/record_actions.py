"""Record actions over HTTP: ``POST …/records/{entity}/{id}/actions/{name}`` presses a
button defined in metadata and answers with the record as it now stands."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from loom.platform.api.context import command, etag, if_match, services
from loom.platform.api.problems import refusals
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.records.reads import get_record
from loom.platform.rules.record_actions import run_record_action

router = APIRouter(tags=["records"])


@router.post("/api/apps/{app}/records/{entity}/{record_id}/actions/{name}",
             summary="Run a record action (a button such as claim; If-Match: version)",
             responses=refusals(404, 409))
async def run_action(request: Request, app: str, entity: str, record_id: int,
                     name: str) -> Any:
    svc = services(request)
    expected = if_match(request)
    async with command(request, write=True) as (conn, actor):
        runtime, actor = await svc.apps.enter(conn, actor, app)
        await run_record_action(conn, svc.rules, runtime, actor, entity, record_id, name,
                                now=svc.clock.now(), expected_version=expected)
        record = await get_record(conn, runtime, actor, entity, record_id, svc.clock.now())
    return LoomJSONResponse(record, headers={"ETag": etag(record["version"])})
