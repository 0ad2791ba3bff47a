"""Passwords: reset by email (for those who forgot), change (for those signed in)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy import update

from loom.metamodel.errors import PermissionDenied, Problem, ValidationFailed
from loom.metamodel.i18n import message, register_messages
from loom.platform.api.context import authenticated, client_address, services
from loom.platform.api.problems import request_locale
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.security import trail
from loom.platform.security.password_policy import check_password
from loom.platform.security.passwords import hash_password
from loom.platform.security.resets import confirm_reset, request_reset, void_resets
from loom.platform.security.signin import check_password_attempt
from loom.platform.security.throttle import ThrottleLimits
from loom.platform.security.tokens import revoke_user_tokens
from loom.platform.storage.system_tables import users

router = APIRouter(tags=["auth"])

register_messages({
    "reset_requested": {
        "en": "If the address belongs to an active account, a reset link is on its way",
        "zh-CN": "如果该地址属于有效账户，重置链接已发送",
    },
    "password_change_people": {
        "en": "Change a password signed in as a person (a sign-in token or session), "
              "not with an API token",
        "zh-CN": "请以本人身份登录（登录令牌或会话）后修改密码，不能使用 API 令牌",
    },
    "password_current_wrong": {"en": "The current password is wrong",
                               "zh-CN": "当前密码错误"},
    "password_not_changed": {"en": "The password was not changed", "zh-CN": "密码未修改"},
})


class ResetRequest(BaseModel):
    email: str


class ResetConfirmation(BaseModel):
    token: str
    password: str


class PasswordChange(BaseModel):
    current: str
    new: str


@router.post("/api/auth/password-reset", status_code=202,
             summary="Email a password reset link (answers the same for any address)")
async def ask_for_reset(request: Request, body: ResetRequest) -> Any:
    svc = services(request)
    async with svc.database.write() as conn:
        await request_reset(conn, body.email, svc.clock.now(), svc.settings)
    return LoomJSONResponse({"detail": message("reset_requested").render(
        request_locale(request))}, status_code=202)


@router.post("/api/auth/password-reset/confirm", status_code=204,
             summary="Set a new password with the token of a reset link")
async def confirm_password_reset(request: Request, body: ResetConfirmation) -> Response:
    svc = services(request)
    async with svc.database.write() as conn:
        await confirm_reset(conn, body.token, body.password, svc.clock.now())
    return Response(status_code=204)


@router.post("/api/auth/password", status_code=204,
             summary="Change my password (other sign-ins and sessions end)")
async def change_password(request: Request, body: PasswordChange) -> Response:
    svc = services(request)
    async with authenticated(request, write=True) as (conn, credential):
        if credential.kind == "api":
            raise PermissionDenied(message("password_change_people"))
        actor = credential.actor
        verdict = await check_password_attempt(
            conn, ThrottleLimits.from_settings(svc.settings), svc.clock, email=actor.email,
            password=body.current, address=client_address(request))
        if verdict.refusal is None:
            check_password(body.new, actor.email, field="new")
            now = svc.clock.now()
            await conn.execute(update(users).where(users.c.id == actor.user_id)
                               .values(password_hash=hash_password(body.new)))
            await revoke_user_tokens(conn, actor.user_id, now, kinds=("login", "session"),
                                     keep=credential.token_id)
            await void_resets(conn, actor.user_id, now)
            await trail.note(conn, actor.workspace_id, actor, "password_changed",
                             actor.user_id, now)
    # a wrong current password is counted like a failed sign-in: committed, then refused
    if verdict.refusal is not None:
        if verdict.refusal.status == 401:
            raise ValidationFailed(message("password_not_changed"), [Problem(
                "current", message("password_current_wrong"), code="wrong")])
        raise verdict.refusal
    return Response(status_code=204)
