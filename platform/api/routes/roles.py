"""Roles of an app: what their members may do (metadata) and who they are (data)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from loom.platform.api.context import command, services
from loom.platform.api.problems import request_locale
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.apps import roles

router = APIRouter(tags=["roles"])


class RoleIn(BaseModel):
    label: str | dict[str, str] | None = None
    description: str | dict[str, str] | None = None
    permissions: dict[str, Any] | None = Field(
        default=None, description="Per entity: create, read, update, delete, export, import, "
        "fields; omit to change only the members")
    app_builder: bool | None = None
    members: list[str] | None = Field(default=None, description="Emails; replaces the list")


@router.get("/api/apps/{app}/roles", summary="The app's roles with their members")
async def list_roles(request: Request, app: str) -> Any:
    async with command(request, write=False) as (conn, actor):
        return LoomJSONResponse({"items": await roles.list_roles(services(request).apps, conn,
                                                                 actor, app)})


@router.get("/api/apps/{app}/roles/{role}", summary="One role with its members")
async def get_role(request: Request, app: str, role: str) -> Any:
    async with command(request, write=False) as (conn, actor):
        return LoomJSONResponse(await roles.get_role(services(request).apps, conn, actor, app,
                                                     role))


@router.put("/api/apps/{app}/roles/{role}",
            summary="Define a role (published as a new version) and/or set its members")
async def put_role(request: Request, app: str, role: str, body: RoleIn) -> Any:
    definition = None
    if body.permissions is not None:
        definition = body.model_dump(exclude_none=True, exclude={"members"})
    async with command(request, write=True) as (conn, actor):
        return LoomJSONResponse(await roles.put_role(
            services(request).apps, conn, actor, app, role, definition, body.members,
            request_locale(request)))


@router.delete("/api/apps/{app}/roles/{role}", status_code=204,
               summary="Remove a role and its members (published as a new version)")
async def delete_role(request: Request, app: str, role: str) -> Response:
    async with command(request, write=True) as (conn, actor):
        await roles.delete_role(services(request).apps, conn, actor, app, role,
                                request_locale(request))
    return Response(status_code=204)
