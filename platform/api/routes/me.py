"""The signed-in person: who they are, and what they may change about themselves (their
name and language; the language is what everything addressed to them is written in)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from loom.platform.api.context import command, services
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.security.user_edits import update_user
from loom.platform.security.users import get_user

router = APIRouter(tags=["users"])


class MyChange(BaseModel):
    """Only the fields sent change; a null locale goes back to the request's language."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, description="The name others see")
    locale: str | None = Field(default=None, description="zh-CN or en")


@router.get("/api/me", summary="Who is signed in")
async def me(request: Request) -> Any:
    async with command(request, write=False) as (conn, actor):
        return LoomJSONResponse(await get_user(conn, actor.workspace_id, actor.user_id))


@router.patch("/api/me", summary="Change your own name or language")
async def change_me(request: Request, body: MyChange) -> Any:
    changes = {field: getattr(body, field) for field in body.model_fields_set}
    if "name" in changes and changes["name"] is None:
        changes.pop("name")  # a name cannot be cleared, only changed
    async with command(request, write=True) as (conn, actor):
        user = await update_user(conn, actor, actor.user_id, changes, services(request).clock)
    return LoomJSONResponse(user)
