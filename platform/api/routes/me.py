"""The signed-in person: who they are, what they may change about themselves (their name and
language; the language is what everything addressed to them is written in), and what the
web app keeps for them (preferences)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from loom.platform.api.context import command, json_body, services
from loom.platform.api.openapi_schemas import answer
from loom.platform.api.problems import refusals
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.security.preferences import (
    delete_preference,
    get_preference,
    list_preferences,
    set_preference,
)
from loom.platform.security.user_edits import update_user
from loom.platform.security.users import get_user

router = APIRouter(tags=["users"])
ANY_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {}}}}}


class MyChange(BaseModel):
    """Only the fields sent change; a null locale goes back to the request's language."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, description="The name others see")
    locale: str | None = Field(default=None, description="zh-CN or en")


@router.get("/api/me", summary="Who is signed in", responses=answer("User", "You"))
async def me(request: Request) -> Any:
    async with command(request, write=False) as (conn, actor):
        return LoomJSONResponse(await get_user(conn, actor.workspace_id, actor.user_id))


@router.patch("/api/me", summary="Change your own name or language",
              responses=answer("User", "You, changed"))
async def change_me(request: Request, body: MyChange) -> Any:
    changes = {field: getattr(body, field) for field in body.model_fields_set}
    if "name" in changes and changes["name"] is None:
        changes.pop("name")  # a name cannot be cleared, only changed
    async with command(request, write=True) as (conn, actor):
        user = await update_user(conn, actor, actor.user_id, changes, services(request).clock)
    return LoomJSONResponse(user)


# --- preferences (a list's columns and sort, …) --------------------------------------------

@router.get("/api/me/preferences", summary="Your preferences (optionally those under a prefix)")
async def preferences(request: Request,
                      prefix: str = Query(default="", max_length=200)) -> Any:
    async with command(request, write=False) as (conn, actor):
        return LoomJSONResponse({"items": await list_preferences(conn, actor.user_id, prefix)})


@router.get("/api/me/preferences/{key:path}", summary="One of your preferences",
            responses=refusals(404))
async def preference(request: Request, key: str) -> Any:
    async with command(request, write=False) as (conn, actor):
        return LoomJSONResponse({"key": key,
                                 "value": await get_preference(conn, actor.user_id, key)})


@router.put("/api/me/preferences/{key:path}", summary="Keep a preference (any JSON value)",
            openapi_extra=ANY_BODY, responses=refusals(404, 413, body=True))
async def keep_preference(request: Request, key: str) -> Any:
    value = await json_body(request)
    async with command(request, write=True) as (conn, actor):
        await set_preference(conn, actor.user_id, key, value, services(request).clock)
    return LoomJSONResponse({"key": key, "value": value})


@router.delete("/api/me/preferences/{key:path}", status_code=204,
               summary="Forget a preference", responses=refusals(404))
async def forget_preference(request: Request, key: str) -> Response:
    async with command(request, write=True) as (conn, actor):
        await delete_preference(conn, actor.user_id, key)
    return Response(status_code=204)
