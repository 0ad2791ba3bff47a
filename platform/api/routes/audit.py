"""The record audit trail of an app, for administrators: paged JSON, or the whole selection
as CSV (one line per field change) streamed page by page."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal

import simplejson
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from loom.platform.api.context import command, services
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.apps.service import require_admin
from loom.platform.records.audit import audit_page

router = APIRouter(tags=["audit"])
CSV_COLUMNS = ["id", "at", "entity", "record_id", "action", "version", "actor_email", "source",
               "field", "old", "new"]


def _csv_lines(entry: dict[str, Any]) -> list[list[Any]]:
    head = [entry["id"], entry["at"].isoformat(), entry["entity"], entry["record_id"],
            entry["action"], entry["version"], entry["actor_email"] or "system",
            entry["source"]]

    def text(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        # stored values keep exact decimals: written as they are, never through a float
        return simplejson.dumps(value, use_decimal=True, ensure_ascii=False)

    return [[*head, name, text(old), text(new)]
            for name, (old, new) in (entry["changes"] or {}).items()] or [[*head, "", "", ""]]


@router.get("/api/apps/{app}/audit", summary="Record changes: who, when, source, old → new "
            "(admin; format=csv exports the whole selection)",
            responses={200: {"content": {"text/csv": {}}}})
async def record_audit(request: Request, app: str,
                       entity: str | None = None,
                       record: Annotated[int | None, Query(ge=1, le=2**62)] = None,
                       since: datetime | None = None, until: datetime | None = None,
                       after: Annotated[int | None, Query(ge=0, le=2**62,
                                                          description="An entry id")] = None,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                       format: Literal["json", "csv"] = "json") -> Any:
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        require_admin(actor)
        runtime = await svc.apps.runtime(conn, actor, app)
        if format == "json":
            items = await audit_page(conn, runtime.app_id, entity=entity, record_id=record,
                                     since=since, until=until, after=after, limit=limit)
            return LoomJSONResponse({"items": items, "next_after": items[-1]["id"]
                                     if len(items) == limit else None})
    app_id = runtime.app_id

    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        cursor = after
        while True:
            async with svc.database.read() as conn:
                page = await audit_page(conn, app_id, entity=entity, record_id=record,
                                        since=since, until=until, after=cursor, limit=500)
            for entry in page:
                writer.writerows(_csv_lines(entry))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if len(page) < 500:
                return
            cursor = page[-1]["id"]

    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{app}-audit.csv"'})
