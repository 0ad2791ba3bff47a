"""Demo data for an existing app: ``POST /api/apps/{app}/demo`` runs its template's recipe
(creating an app with ``demo_data: true`` does the same right after the clone)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from loom.platform.api.context import command, services
from loom.platform.api.problems import refusals
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.demo import load_demo

router = APIRouter(tags=["apps"])


class DemoIn(BaseModel):
    seed: int = Field(default=1, description="The same seed and as_of give the same data")
    size: Literal["small", "medium", "large"] | None = None
    as_of: datetime | None = Field(default=None, description="The simulated now (default: "
                                   "now); history lies before it")
    force: bool = Field(default=False, description="Add to an app that already has records")


@router.post("/api/apps/{app}/demo", status_code=201, summary="Fill an app with demo data",
             responses=refusals(404, 409, body=True))
async def load_demo_data(request: Request, app: str, body: DemoIn) -> Any:
    svc = services(request)
    async with command(request, write=True) as (conn, actor):
        result = await load_demo(svc, conn, actor, app, seed=body.seed, size=body.size,
                                 as_of=aware(body.as_of), force=body.force)
    return LoomJSONResponse(result.as_json(), status_code=201)


def aware(moment: datetime | None) -> datetime | None:
    """A moment sent without a zone is read as UTC."""
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment
