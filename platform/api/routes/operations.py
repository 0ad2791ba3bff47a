"""Operations over HTTP: long work answers ``202 Accepted`` with ``Location:
/api/operations/{id}`` and the operation; the client (a page's progress banner) reads it
until it ends. Whoever started an operation sees it, and administrators see all of their
workspace's."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.platform.api.context import command, services
from loom.platform.api.guards import RowId
from loom.platform.api.openapi_schemas import answer, schema_ref
from loom.platform.api.problems import refusals, request_locale
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.operations import OperationRunner, Work, store
from loom.platform.security.actors import Actor

router = APIRouter(tags=["operations"])
MAX_WAIT = 30  # seconds a client may ask GET /api/operations/{id} to wait for the end
ELSEWHERE_POLL = 0.5

ACCEPTED = {202: {"description": "Accepted: the work goes on in the background; follow "
                                 "the operation at Location",
                  "headers": {"Location": {"schema": {"type": "string"}}},
                  "content": {"application/json": {"schema": schema_ref("Operation")}}}}


def runner(request: Request) -> OperationRunner:
    return request.app.state.operations


async def queue(request: Request, conn: AsyncConnection, actor: Actor, kind: str, *,
                app_id: int | None, params: dict[str, Any]) -> int:
    """Queue an operation in the request's transaction (``launch`` it after the commit)."""
    return await store.create(conn, actor, kind, app_id=app_id, params=params,
                              now=services(request).clock.now())


async def launch(request: Request, actor: Actor, operation_id: int,
                 work: Work) -> dict[str, Any]:
    """Start a queued operation; the operation as the client first sees it."""
    runner(request).launch(operation_id, work)
    async with services(request).database.read() as conn:
        row = await store.get(conn, actor, operation_id)
    return store.public(row, request_locale(request))


def accepted(operation: dict[str, Any]) -> LoomJSONResponse:
    return LoomJSONResponse(operation, status_code=202,
                            headers={"Location": operation["url"]})


@router.get("/api/operations/{operation_id}", summary="An operation: its status, progress, "
            "and in the end its result or error",
            responses={**answer("Operation"), **refusals(404)})
async def get_operation(
        request: Request, operation_id: RowId,
        wait: Annotated[float, Query(ge=0, le=MAX_WAIT, description=(
            "Seconds to wait for the operation to end before answering (at most "
            f"{MAX_WAIT}); it is answered at once when it ends"))] = 0) -> Any:
    deadline = time.monotonic() + wait
    while True:
        async with command(request, write=False) as (conn, actor):
            row = await store.get(conn, actor, operation_id)
        left = deadline - time.monotonic()
        if row["status"] not in store.UNFINISHED or left <= 0:
            return LoomJSONResponse(store.public(row, request_locale(request)))
        await _until_it_may_have_ended(runner(request), operation_id, left)


async def _until_it_may_have_ended(running: OperationRunner, operation_id: int,
                                   seconds: float) -> None:
    """An operation of this process is awaited; one another process runs (PostgreSQL) is
    read again shortly."""
    if running.runs_here(operation_id):
        await running.wait_at_most(operation_id, seconds)
    else:
        await asyncio.sleep(min(seconds, ELSEWHERE_POLL))


@router.get("/api/operations", summary="My operations (administrators: the workspace's), "
            "newest first", responses=answer("Operation", listed=True))
async def list_operations(
        request: Request, app: Annotated[str | None, Query(max_length=40)] = None,
        status: Literal["queued", "running", "succeeded", "failed"] | None = None,
        kind: Annotated[str | None, Query(max_length=40)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        before: Annotated[int | None, Query(ge=1, le=2**62,
                                            description="An operation id")] = None) -> Any:
    async with command(request, write=False) as (conn, actor):
        rows = await store.find(conn, actor, app=app, status=status, kind=kind, limit=limit,
                                before=before)
    locale = request_locale(request)
    return LoomJSONResponse({"items": [store.public(row, locale) for row in rows]})
