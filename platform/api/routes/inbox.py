"""The caller's notifications, and (for administrators) the delivery outbox."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from loom.platform.api.context import command, services
from loom.platform.api.guards import RowId
from loom.platform.api.problems import refusals, request_locale
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.apps.service import require_admin
from loom.platform.outbox import store
from loom.platform.outbox.notifications import inbox, mark_read

router = APIRouter(tags=["notifications"])
# ids are 64-bit rows: a larger number would fail in the database, not miss


@router.get("/api/notifications", summary="My notifications, newest first")
async def my_notifications(request: Request, unread: bool = False) -> Any:
    async with command(request, write=False) as (conn, actor):
        items = await inbox(conn, actor.user_id or 0, request_locale(request),
                            unread_only=unread)
    return LoomJSONResponse({"items": items})


@router.post("/api/notifications/{notification_id}/read", summary="Mark one as read",
             responses=refusals(404))
async def read_notification(request: Request, notification_id: RowId) -> Any:
    async with command(request, write=True) as (conn, actor):
        await mark_read(conn, actor.user_id or 0, notification_id, services(request).clock.now())
    return LoomJSONResponse({"id": notification_id, "read": True})


@router.get("/api/outbox", summary="Deliveries (email, webhooks) and their state (admin)")
async def list_outbox(request: Request, status: str | None = None) -> Any:
    async with command(request, write=False) as (conn, actor):
        require_admin(actor)
        items = await store.list_items(conn, actor.workspace_id, status=status)
    return LoomJSONResponse({"items": items})


@router.post("/api/outbox/{item_id}/retry", summary="Send a failed delivery again (admin)",
             responses=refusals(404))
async def retry_delivery(request: Request, item_id: RowId) -> Any:
    async with command(request, write=True) as (conn, actor):
        require_admin(actor)
        await store.retry(conn, actor.workspace_id, item_id, services(request).clock.now())
    return LoomJSONResponse({"id": item_id, "status": "pending"})
