"""Demo data for an existing app: ``POST /api/apps/{app}/demo`` checks the load at once (a
refusal writes nothing) and writes it in the background: ``202`` with the operation to
follow (creating an app with ``demo_data: true`` starts the same right after the clone)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.platform.api.context import command, services
from loom.platform.api.problems import refusals
from loom.platform.api.routes.operations import ACCEPTED, accepted, launch, queue
from loom.platform.demo import DemoRequest, prepare_demo, write_demo
from loom.platform.operations import Progress
from loom.platform.security.actors import Actor

router = APIRouter(tags=["apps"])
KIND = "demo_load"


class DemoIn(BaseModel):
    seed: int = Field(default=1, description="The same seed and as_of give the same data")
    size: Literal["small", "medium", "large"] | None = None
    as_of: datetime | None = Field(default=None, description="The simulated now (default: "
                                   "now); history lies before it")
    force: bool = Field(default=False, description="Add to an app that already has records")


@router.post("/api/apps/{app}/demo", status_code=202, summary="Fill an app with demo data "
             "(in the background: follow the operation)",
             responses={**ACCEPTED, **refusals(404, 409, body=True)})
async def load_demo_data(request: Request, app: str, body: DemoIn) -> Any:
    async with command(request, write=True) as (conn, actor):
        prepared = await prepare_demo(services(request), conn, actor, app, seed=body.seed,
                                      size=body.size, as_of=aware(body.as_of),
                                      force=body.force)
        operation_id = await queue_demo(request, conn, actor, prepared)
    return accepted(await start_demo(request, actor, operation_id, prepared))


async def queue_demo(request: Request, conn: AsyncConnection, actor: Actor,
                     prepared: DemoRequest) -> int:
    return await queue(request, conn, actor, KIND, app_id=prepared.app_id,
                       params=prepared.as_json())


async def start_demo(request: Request, actor: Actor, operation_id: int,
                     prepared: DemoRequest) -> dict[str, Any]:
    """Launch a queued demo load; its result is what the command line prints."""
    svc = services(request)

    async def work(progress: Progress) -> dict[str, Any]:
        return (await write_demo(svc, actor, prepared, progress)).as_json()

    return await launch(request, actor, operation_id, work)


def aware(moment: datetime | None) -> datetime | None:
    """A moment sent without a zone is read as UTC."""
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment
