"""Browser sessions for the web UI: sign in with a cookie, sign out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response

from loom.metamodel.errors import BadRequest
from loom.metamodel.i18n import message, register_messages
from loom.platform.api.context import authenticated, client_address, services
from loom.platform.api.responses import LoomJSONResponse
from loom.platform.api.routes.auth import Credentials
from loom.platform.api.session_cookies import clear_session_cookies, set_session_cookies
from loom.platform.security.sessions import csrf_token_for
from loom.platform.security.signin import sign_in
from loom.platform.security.throttle import ThrottleLimits
from loom.platform.security.tokens import revoke_token_id
from loom.platform.security.users import describe_user

router = APIRouter(tags=["auth"])

register_messages({
    "session_not_cookie": {
        "en": "This request is not signed in with a session cookie; a token signs out with "
              "POST /api/auth/logout",
        "zh-CN": "此请求并非通过会话 Cookie 登录；令牌请使用 POST /api/auth/logout 退出",
    },
})


@router.post("/api/auth/session", summary="Sign in for a browser session (sets cookies)",
             responses={401: {"description": "Wrong email or password"},
                        429: {"description": "Too many failed sign-ins (see Retry-After)"}})
async def open_session(request: Request, credentials: Credentials) -> Any:
    svc = services(request)
    lifetime = timedelta(hours=svc.settings.session_hours)
    user, issued = await sign_in(svc.database, svc.clock, ThrottleLimits.from_settings(
        svc.settings), email=credentials.email, password=credentials.password,
        address=client_address(request), kind="session", lifetime=lifetime)
    async with svc.database.read() as conn:
        described = await describe_user(conn, user)
    response = LoomJSONResponse({"user": described, "expires_at": issued.expires_at,
                                 "csrf_token": csrf_token_for(issued.token)})
    set_session_cookies(request, response, issued.token, lifetime)
    return response


@router.delete("/api/auth/session", status_code=204, summary="Sign out of the session")
async def close_session(request: Request) -> Response:
    svc = services(request)
    async with authenticated(request, write=True, scope="read") as (conn, credential):
        if credential.kind != "session":
            raise BadRequest(message("session_not_cookie"))
        await revoke_token_id(conn, credential.actor.workspace_id, credential.token_id,
                              svc.clock.now(), owner_id=credential.actor.user_id)
    response = Response(status_code=204)
    clear_session_cookies(request, response)
    return response
