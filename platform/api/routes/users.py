"""Users of the workspace (administrators manage them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from loom.platform.api.context import command, services
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.apps.service import require_admin
from loom.platform.security.users import NewUser, create_user, list_users

router = APIRouter(tags=["users"])


class UserIn(BaseModel):
    email: str
    name: str
    password: str | None = None
    manager: str | None = None
    department: str | None = None
    is_admin: bool = False
    locale: str | None = None


@router.get("/api/users", summary="List the workspace's users")
async def get_users(request: Request) -> Any:
    async with command(request, write=False) as (conn, actor):
        require_admin(actor)
        return LoomJSONResponse({"items": await list_users(conn, actor.workspace_id)})


@router.post("/api/users", status_code=201, summary="Create a user")
async def post_user(request: Request, body: UserIn) -> Any:
    async with command(request, write=True) as (conn, actor):
        require_admin(actor)
        user = await create_user(conn, actor.workspace_id, NewUser(**body.model_dump()),
                                 services(request).clock)
    return LoomJSONResponse(user, status_code=201)
