"""Per-request plumbing: the platform's services, the caller, the request body, and the
one transaction each command runs in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import BadRequest, NotAuthenticated, PayloadTooLarge
from loom.platform.security.actors import Actor
from loom.platform.security.tokens import actor_for_token
from loom.platform.services import Services


def services(request: Request) -> Services:
    return request.app.state.services


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Send an API token: Authorization: Bearer <token> "
                               "(get one from POST /api/auth/token)")
    return token.strip()


@asynccontextmanager
async def command(request: Request, *, write: bool) -> AsyncIterator[tuple[AsyncConnection,
                                                                            Actor]]:
    """Authenticate the caller and open the command's transaction (committed at the end
    of the block, rolled back on any error)."""
    svc = services(request)
    token = bearer_token(request)
    if any("\x00" in str(value) for value in request.path_params.values()):
        # no slug or name holds one, and PostgreSQL would fail on it instead of missing
        raise BadRequest("The address contains a NUL character (%00)")
    transaction = svc.database.write() if write else svc.database.read()
    async with transaction as conn:
        actor = await actor_for_token(conn, token, svc.clock)
        yield conn, actor


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


def etag(version: int) -> str:
    return f'"{version}"'
