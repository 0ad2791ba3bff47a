"""Signing in and out: bearer tokens for people and scripts (``POST /api/auth/token``),
and signing out of whatever credential the caller presents."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from loom.platform.api.context import authenticated, client_address, services
from loom.platform.api.session_cookies import clear_session_cookies
from loom.platform.security.signin import sign_in
from loom.platform.security.throttle import ThrottleLimits
from loom.platform.security.tokens import revoke_token_id

router = APIRouter(tags=["auth"])


class Credentials(BaseModel):
    email: str
    password: str


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime | None = None


@router.post("/api/auth/token", response_model=TokenOut,
             summary="Exchange email and password for a bearer token",
             responses={401: {"description": "Wrong email or password"},
                        429: {"description": "Too many failed sign-ins (see Retry-After)"}})
async def token(request: Request, credentials: Credentials) -> TokenOut:
    svc = services(request)
    _, issued = await sign_in(svc.database, svc.clock, ThrottleLimits.from_settings(
        svc.settings), email=credentials.email, password=credentials.password,
        address=client_address(request), kind="login",
        lifetime=timedelta(days=svc.settings.token_days))
    return TokenOut(access_token=issued.token, expires_at=issued.expires_at)


@router.post("/api/auth/logout", status_code=204,
             summary="Sign out: revoke the token (or session) of this request")
async def logout(request: Request) -> Response:
    svc = services(request)
    async with authenticated(request, write=True, scope="read") as (conn, credential):
        await revoke_token_id(conn, credential.actor.workspace_id, credential.token_id,
                              svc.clock.now(), owner_id=credential.actor.user_id)
    response = Response(status_code=204)
    if credential.kind == "session":
        clear_session_cookies(request, response)
    return response
