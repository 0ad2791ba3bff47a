"""The audit trails, for administrators: an app's record changes, and the workspace's
security trail (people, rights, tokens, passwords) — each as paged JSON, or the whole
selection as CSV (one line per field change) streamed page by page."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal

import simplejson
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from loom.platform.api.context import command, services
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.apps.service import require_admin
from loom.platform.records.audit import audit_page
from loom.platform.security.trail import trail_page

router = APIRouter(tags=["audit"])
CSV_COLUMNS = ["id", "at", "entity", "record_id", "action", "version", "actor_email", "source",
               "field", "old", "new"]
SECURITY_COLUMNS = ["id", "at", "action", "actor", "source", "user_email", "field", "old",
                    "new"]
CSV_PAGE = 500


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    # stored values keep exact decimals: written as they are, never through a float
    return simplejson.dumps(value, use_decimal=True, ensure_ascii=False)


def _csv_lines(entry: dict[str, Any]) -> list[list[Any]]:
    head = [entry["id"], entry["at"].isoformat(), entry["entity"], entry["record_id"],
            entry["action"], entry["version"], entry["actor_email"] or "system",
            entry["source"]]

    return [[*head, name, _text(old), _text(new)]
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

    async def page(cursor: int | None) -> list[dict[str, Any]]:
        async with svc.database.read() as conn:
            return await audit_page(conn, app_id, entity=entity, record_id=record,
                                    since=since, until=until, after=cursor, limit=CSV_PAGE)

    return _csv_download(f"{app}-audit.csv", CSV_COLUMNS, page, after, _csv_lines)


@router.get("/api/security-audit", summary="Changes to people, their rights, API tokens and "
            "passwords: who, when, source, old → new (admin; format=csv exports it)",
            responses={200: {"content": {"text/csv": {}}}})
async def security_audit(request: Request,
                         user: Annotated[int | None, Query(ge=1, le=2**62,
                                                           description="A user's id")] = None,
                         after: Annotated[int | None, Query(ge=0, le=2**62,
                                                            description="An entry id")] = None,
                         limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                         format: Literal["json", "csv"] = "json") -> Any:
    svc = services(request)
    async with command(request, write=False) as (conn, actor):
        require_admin(actor)
        workspace = actor.workspace_id
        if format == "json":
            items = await trail_page(conn, workspace, user_id=user, after=after, limit=limit)
            return LoomJSONResponse({"items": items, "next_after": items[-1]["id"]
                                     if len(items) == limit else None})

    async def page(cursor: int | None) -> list[dict[str, Any]]:
        async with svc.database.read() as conn:
            return await trail_page(conn, workspace, user_id=user, after=cursor,
                                    limit=CSV_PAGE)

    def lines(entry: dict[str, Any]) -> list[list[Any]]:
        head = [entry["id"], entry["at"].isoformat(), entry["action"],
                entry["actor_email"] or entry["source"], entry["source"],
                entry["user_email"] or ""]
        return [[*head, name, _text(old), _text(new)]
                for name, (old, new) in (entry["changes"] or {}).items()] or [
                    [*head, "", "", ""]]

    return _csv_download("security-audit.csv", SECURITY_COLUMNS, page, after, lines)


def _csv_download(filename: str, columns: list[str],
                  page: Callable[[int | None], Awaitable[list[dict[str, Any]]]],
                  after: int | None,
                  lines: Callable[[dict[str, Any]], list[list[Any]]]) -> StreamingResponse:
    """A trail as CSV, one line per field change, read a page (a transaction) at a time."""

    async def body() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        cursor = after
        while True:
            entries = await page(cursor)
            for entry in entries:
                writer.writerows(lines(entry))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if len(entries) < CSV_PAGE:
                return
            cursor = entries[-1]["id"]

    return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})
