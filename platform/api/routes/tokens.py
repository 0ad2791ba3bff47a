"""API tokens for machines: named, scoped, expiring, shown once, revocable."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select

from loom.metamodel.errors import NotFound, PermissionDenied, Problem
from loom.metamodel.i18n import message, register_messages
from loom.platform.api.context import authenticated, services
from loom.platform.api.guards import RowId
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.security import trail
from loom.platform.security.tokens import (
    create_token,
    describe_token,
    list_tokens,
    normalize_scopes,
    revoke_token_id,
)
from loom.platform.security.users import get_user
from loom.platform.storage.system_tables import api_tokens, users

router = APIRouter(tags=["auth"])

register_messages({
    "tokens_of_others": {"en": "Only administrators may see other users' tokens",
                         "zh-CN": "只有管理员可以查看其他用户的令牌"},
    "token_scope_beyond": {
        "en": "A token can only be given scopes you have: {scopes} is beyond yours",
        "zh-CN": "只能授予您自己拥有的权限范围：{scopes} 超出了您的权限",
    },
    "token_not_made": {"en": "The token was not created", "zh-CN": "未能创建令牌"},
})


class NewToken(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[Literal["read", "write", "admin"]] = Field(min_length=1)
    days: int | None = Field(default=None, ge=1, le=3650,
                             description="Lifetime; default LOOM_API_TOKEN_DAYS (365)")

    @field_validator("name")
    @classmethod
    def _printable(cls, name: str) -> str:
        if not name.strip() or "\x00" in name:
            raise ValueError("a name is needed (not blank, no NUL character)")
        return name.strip()


@router.get("/api/auth/tokens", summary="My live tokens (admins: another user's, ?user=)")
async def get_tokens(request: Request, user: str | None = None) -> Any:
    svc = services(request)
    async with authenticated(request, write=False) as (conn, credential):
        actor = credential.actor
        owner = actor.user_id
        if user is not None:
            if not actor.is_admin:
                raise PermissionDenied(message("tokens_of_others"))
            owner = await _user_id(conn, actor.workspace_id, user)
        items = await list_tokens(conn, owner, svc.clock.now(), current=credential.token_id)
    return LoomJSONResponse({"items": items})


@router.post("/api/auth/tokens", status_code=201,
             summary="Create an API token (the secret is shown in this answer only)")
async def post_token(request: Request, body: NewToken) -> Any:
    svc = services(request)
    async with authenticated(request, write=True) as (conn, credential):
        wanted = normalize_scopes(body.scopes)
        own = credential.scopes if credential.actor.is_admin \
            else credential.scopes - {"admin"}
        beyond = sorted(wanted - own)
        if beyond:
            raise PermissionDenied(message("token_not_made"), [Problem(
                "scopes", message("token_scope_beyond", scopes=", ".join(beyond)))])
        days = body.days or svc.settings.api_token_days
        issued = await create_token(conn, credential.actor.user_id, svc.clock,
                                    name=body.name, kind="api",
                                    lifetime=timedelta(days=days), scopes=wanted)
        row = (await conn.execute(select(api_tokens).where(
            api_tokens.c.id == issued.id))).mappings().one()
        await trail.note(conn, credential.actor.workspace_id, credential.actor,
                         "token_issued", credential.actor.user_id, svc.clock.now(),
                         {"token": [None, {"id": issued.id, "name": body.name,
                                           "scopes": sorted(wanted), "days": days}]})
    return LoomJSONResponse({**describe_token(row), "token": issued.token}, status_code=201)


@router.delete("/api/auth/tokens/{token_id}", status_code=204,
               summary="Revoke a token (mine; admins: any of the workspace)")
async def delete_token(request: Request, token_id: RowId) -> Response:
    svc = services(request)
    async with authenticated(request, write=True) as (conn, credential):
        actor = credential.actor
        revoked = await revoke_token_id(conn, actor.workspace_id, token_id, svc.clock.now(),
                                        owner_id=None if actor.is_admin else actor.user_id)
        await trail.note(conn, actor.workspace_id, actor, "token_revoked", revoked["user_id"],
                         svc.clock.now(), {"token": [{"id": token_id,
                                                      "name": revoked["name"]}, None]})
    return Response(status_code=204)


async def _user_id(conn: Any, workspace_id: int, user: str) -> int:
    """A user of the workspace by id or email (404 otherwise, for either)."""
    if user.isascii() and user.isdigit() and len(user) < 19:
        return (await get_user(conn, workspace_id, int(user)))["id"]
    found = None if "\x00" in user else await conn.scalar(select(users.c.id).where(
        users.c.email == user.strip().lower(), users.c.workspace_id == workspace_id))
    if found is None:
        raise NotFound(message("user_not_found", id=user))
    return found
