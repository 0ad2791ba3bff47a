"""Per-request plumbing: the platform's services, the caller, the request body, and the
one transaction each command runs in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from decimal import Decimal
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import (
    BadRequest,
    NotAuthenticated,
    PayloadTooLarge,
    PermissionDenied,
    PreconditionRequired,
    Problem,
    ServiceBusy,
)
from loom.metamodel.i18n import message, register_messages
from loom.platform.apps.service import join_app_entry
from loom.platform.compiled.app import AppRuntime
from loom.platform.security.actors import Actor
from loom.platform.security.sessions import (
    CSRF_HEADER,
    SAFE_METHODS,
    SESSION_COOKIE,
    csrf_matches,
)
from loom.platform.security.tokens import (
    BEARER_KINDS,
    Credential,
    Joined,
    resolve_token,
    touch,
)
from loom.platform.services import Services
from loom.platform.storage.replica import ReplicaReadFailed

register_messages({
    "token_missing": {
        "en": "Send an API token: Authorization: Bearer <token> (get one from "
              "POST /api/auth/token), or sign in for a session (POST /api/auth/session)",
        "zh-CN": "请提供 API 令牌：Authorization: Bearer <令牌>（通过 POST /api/auth/token "
                 "获取），或登录以建立会话（POST /api/auth/session）",
    },
    "csrf_failed": {
        "en": "The CSRF token is missing or wrong: send the value of the loom_csrf cookie "
              "in the X-CSRF-Token header",
        "zh-CN": "CSRF 令牌缺失或错误：请在 X-CSRF-Token 请求头中发送 loom_csrf Cookie 的值",
    },
    "token_scope": {
        "en": "This token may not do that: it lacks the '{scope}' scope",
        "zh-CN": "此令牌无权执行该操作：缺少“{scope}”权限范围",
    },
    "if_match_required": {
        "en": "Send the version you are changing: If-Match: \"<version>\" (the record's "
              "ETag, or its version field), so a change made meanwhile by someone else is "
              "not silently overwritten",
        "zh-CN": "请发送您要修改的版本：If-Match: \"<版本号>\"（记录的 ETag 或其 version "
                 "字段），以免在不知情时覆盖他人刚做的修改",
    },
})


T = TypeVar("T")


def services(request: Request) -> Services:
    return request.app.state.services


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated(message("token_missing"))
    return token.strip()


def presented_token(request: Request) -> tuple[str, frozenset[str]]:
    """The token the caller presents, and the kinds it may be: a bearer header (sign-in or
    API token) wins; else the session cookie, which on an unsafe method must come with the
    matching CSRF header (a page of another site cannot send it)."""
    if "authorization" in request.headers:
        return bearer_token(request), BEARER_KINDS
    session = request.cookies.get(SESSION_COOKIE)
    if not session:
        raise NotAuthenticated(message("token_missing"))
    if request.method not in SAFE_METHODS and \
            not csrf_matches(session, request.headers.get(CSRF_HEADER)):
        raise PermissionDenied(message("csrf_failed"))
    return session, frozenset({"session"})


@asynccontextmanager
async def authenticated(request: Request, *, write: bool, scope: str | None = None,
                        lag_ok: bool = False, joined: Joined | None = None,
                        params: dict[str, Any] | None = None,
                        ) -> AsyncIterator[tuple[AsyncConnection, Credential]]:
    """Authenticate the caller and open the command's transaction (committed at the end
    of the block, rolled back on any error). The one place where a token's scopes are
    enforced: a command needs ``scope`` — by default "write" when it writes, else "read".
    ``lag_ok``: a read that may see data a little behind (dashboards, exports), on the
    read replica when there is one; who the caller is and what their token allows is still
    decided on the primary, so a revoked token or a disabled user stops at once.
    ``joined`` and its ``params``: what to read with the token (``resolve_token``)."""
    svc = services(request)
    token, kinds = presented_token(request)  # a %00 in the address: refused by sane_address
    needed = scope or ("write" if write else "read")
    lagging = lag_ok and not write and svc.database.replica is not None
    transaction = svc.database.write() if write else svc.database.read()
    async with transaction as conn:
        credential = await resolve_token(conn, token, svc.clock, kinds, joined=joined,
                                          params=params)
        # the reader's saved language: what they read when the request names none
        request.state.reader_locale = credential.actor.locale
        if not credential.allows(needed):
            raise PermissionDenied(message("token_scope", scope=needed))
        touched = credential.needs_touch(svc.clock.now())
        if touched and write:
            await touch(conn, credential.token_id, svc.clock.now())
        if not lagging:
            yield conn, credential
    if lagging:
        async with svc.database.read(lag_ok=True) as conn:
            yield conn, credential
    if touched and not write:  # "last used" is worth a small write, not on every read,
        # and never worth refusing a read: a busy database skips it until the next read
        with suppress(ServiceBusy):
            async with svc.database.write() as conn:
                await touch(conn, credential.token_id, svc.clock.now())


@asynccontextmanager
async def command(request: Request, *, write: bool, scope: str | None = None,
                  lag_ok: bool = False) -> AsyncIterator[tuple[AsyncConnection, Actor]]:
    """``authenticated``, for commands that need only who is acting."""
    async with authenticated(request, write=write, scope=scope,
                             lag_ok=lag_ok) as (conn, credential):
        yield conn, credential.actor


async def lag_tolerant(request: Request,
                       read: Callable[[AsyncConnection, Actor], Awaitable[T]]) -> T:
    """Run ``read`` — a read that may see data a little behind (dashboards, exports) — on
    the read replica when there is one; should the replica fail under it, once more on the
    primary: a replica's trouble is never the user's."""
    try:
        async with command(request, write=False, lag_ok=True) as (conn, actor):
            return await read(conn, actor)
    except ReplicaReadFailed:
        async with command(request, write=False) as (conn, actor):
            return await read(conn, actor)


@asynccontextmanager
async def app_command(request: Request, app: str, *, write: bool, scope: str | None = None,
                      ) -> AsyncIterator[tuple[AsyncConnection, AppRuntime, Actor]]:
    """``command`` in an app: its published version and the caller as a member of it
    (``AppService.enter``), read in the same statement as the caller's token."""
    async with authenticated(request, write=write, scope=scope, joined=join_app_entry,
                             params={"app_slug": app}) as (conn, credential):
        runtime, actor = await services(request).apps.entered(conn, credential.actor, app,
                                                              credential.rows)
        yield conn, runtime, actor


def _refuse_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON does not, and no field can hold them
    raise ValueError(f"{name} is not a JSON value")


def loads_exact(text: str | bytes) -> Any:
    """Parse strict JSON, numbers with a fraction as exact decimals."""
    return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)


async def json_body(request: Request) -> Any:
    """The request body as JSON, numbers with a fraction as exact decimals."""
    limit = services(request).settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes")
    body = await request.body()
    if len(body) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes")
    if not body.strip():
        raise BadRequest("The request needs a JSON body")
    try:
        return loads_exact(body)
    except UnicodeDecodeError:
        raise BadRequest("The request body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc.msg} "
                         f"(line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise BadRequest("The request body is nested too deeply") from None
    except ValueError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}") from None


def if_match(request: Request) -> int | None:
    """The record version a client expects, from ``If-Match: "3"`` (or 3, W/"3")."""
    header = request.headers.get("if-match")
    if header is None:
        return None
    value = header.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    if not (value.isascii() and value.isdigit()):
        raise BadRequest("If-Match must be the record's version, e.g. If-Match: \"3\"")
    return int(value)


def required_version(request: Request, runtime: AppRuntime) -> int | None:
    """The version a change or delete of a record expects: ``If-Match``, which the app
    requires (428 without it) unless its ``require_if_match`` is false."""
    version = if_match(request)
    if version is None and runtime.doc.app.require_if_match:
        text = message("if_match_required")
        raise PreconditionRequired(text, [Problem("If-Match", text, code="if_match_required")])
    return version


def etag(version: int) -> str:
    return f'"{version}"'


def client_address(request: Request) -> str | None:
    """The caller's IP address (behind a proxy: uvicorn's --forwarded-allow-ips decides
    whose X-Forwarded-For is believed)."""
    return request.client.host if request.client else None
