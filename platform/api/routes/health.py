"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import text

from loom.platform.api.context import services
from loom.platform.api.responses import LoomJSONResponse

router = APIRouter(tags=["platform"])


HEALTH = {"type": "object", "required": ["status", "database"], "properties": {
    "status": {"enum": ["ok", "degraded"]}, "database": {"enum": ["ok", "unavailable"]}}}


@router.get("/api/health", summary="Health of the service and its database", responses={
    200: {"content": {"application/json": {"schema": HEALTH}}},
    503: {"description": "The database cannot be reached",
          "content": {"application/json": {"schema": HEALTH}}}})
async def health(request: Request) -> Any:
    database = "ok"
    try:
        async with services(request).database.read() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:  # the answer is the health report, not an error page
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return LoomJSONResponse({"status": "ok" if status == 200 else "degraded",
                             "database": database}, status_code=status)
