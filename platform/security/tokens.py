"""Tokens: random, shown once, stored only as a SHA-256 hash, revocable.

One store holds three kinds: ``login`` (``POST /api/auth/token``, a person's bearer token),
``session`` (the browser's cookie) and ``api`` (named, scoped tokens for machines). A token's
scopes (``read``, ``write``, ``admin``) bound what it may do; its user's rights bound them
again, so an administrator's read-only token is a read-only, non-admin caller.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import NotAuthenticated, NotFound
from loom.metamodel.i18n import message, register_messages
from loom.platform.clock import Clock
from loom.platform.security.actors import Actor
from loom.platform.security.users import actor_from_row
from loom.platform.storage.system_tables import api_tokens, users

PREFIX = "loom_"
SCOPES = ("read", "write", "admin")
ALL_SCOPES = frozenset(SCOPES)
BEARER_KINDS = frozenset({"login", "api"})
# how stale "last used" may get before a request writes it again
TOUCH_EVERY = timedelta(minutes=5)

register_messages({
    "token_invalid": {"en": "The token is unknown, expired or revoked",
                      "zh-CN": "令牌无效、已过期或已被撤销"},
    "token_not_found": {"en": "There is no token {id}", "zh-CN": "不存在令牌 {id}"},
})


@dataclass(frozen=True)
class IssuedToken:
    id: int
    token: str  # the secret itself: shown once, never stored
    expires_at: datetime | None


@dataclass(frozen=True)
class Credential:
    """A token that was presented and accepted: which one, what it allows, and for whom."""

    token_id: int
    kind: str
    scopes: frozenset[str]
    actor: Actor
    last_used_at: datetime | None
    # the token's rows with what ``resolve_token``'s ``joined`` added (a row per match)
    rows: Sequence[Any] = ()

    def allows(self, scope: str) -> bool:
        return scope in self.scopes

    def needs_touch(self, now: datetime) -> bool:
        return self.last_used_at is None or now - self.last_used_at >= TOUCH_EVERY


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_scopes(scopes: Collection[str]) -> frozenset[str]:
    """Writing includes reading: a token that may change records may also look at them."""
    chosen = frozenset(scopes)
    return chosen | {"read"} if "write" in chosen else chosen


async def create_token(conn: AsyncConnection, user_id: int, clock: Clock, *, name: str,
                       kind: str, lifetime: timedelta | None,
                       scopes: Collection[str] = ALL_SCOPES) -> IssuedToken:
    token = PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    expires_at = now + lifetime if lifetime else None
    created = await conn.execute(insert(api_tokens).values(
        user_id=user_id, token_hash=digest(token), name=name, kind=kind, created_at=now,
        expires_at=expires_at, scopes=sorted(normalize_scopes(scopes)))
        .returning(api_tokens.c.id))
    return IssuedToken(created.scalar_one(), token, expires_at)


async def issue_token(conn: AsyncConnection, user_id: int, clock: Clock, *, name: str = "login",
                      kind: str = "login", days: int | None = 30) -> str:
    """A token with every scope of its user (a sign-in), ``days`` long."""
    issued = await create_token(conn, user_id, clock, name=name, kind=kind,
                                lifetime=timedelta(days=days) if days else None)
    return issued.token


# Every request reads its token: the statement is built once, so SQLAlchemy neither builds
# it nor works out its cache key again
_TOKEN_QUERY = (select(users, api_tokens.c.id.label("token_id"), api_tokens.c.kind,
                       api_tokens.c.scopes, api_tokens.c.expires_at, api_tokens.c.revoked_at,
                       api_tokens.c.last_used_at)
                .join(api_tokens, api_tokens.c.user_id == users.c.id)
                .where(api_tokens.c.token_hash == bindparam("token_hash")))
Joined = Callable[[Select[Any]], Select[Any]]


@functools.cache
def _token_query(joined: Joined | None) -> Select[Any]:
    return joined(_TOKEN_QUERY) if joined else _TOKEN_QUERY


async def resolve_token(conn: AsyncConnection, token: str, clock: Clock,
                        kinds: Collection[str] = BEARER_KINDS, *,
                        joined: Joined | None = None,
                        params: Mapping[str, Any] | None = None) -> Credential:
    """The credential behind ``token``, if it is live, of one of ``kinds``, and its user
    active; one vague refusal otherwise. ``joined`` adds to the same statement what the
    request needs next of the user (outer joins, so the token is found whatever they find;
    a function defined once, its values bound by ``params``); the credential's ``rows``
    carry it."""
    if not token.startswith(PREFIX) or len(token) > 200:
        raise NotAuthenticated(message("token_invalid"))
    rows = (await conn.execute(_token_query(joined), {
        "token_hash": digest(token), **(params or {})})).mappings().all()
    row = rows[0] if rows else None
    now = clock.now()
    if row is None or row["revoked_at"] is not None or not row["active"] \
            or row["kind"] not in kinds \
            or (row["expires_at"] is not None and row["expires_at"] <= now):
        raise NotAuthenticated(message("token_invalid"))
    scopes = ALL_SCOPES if row["scopes"] is None else frozenset(row["scopes"])
    actor = actor_from_row(row)
    actor = dataclasses.replace(actor, is_admin=actor.is_admin and "admin" in scopes)
    return Credential(row["token_id"], row["kind"], scopes, actor, row["last_used_at"], rows)


async def actor_for_token(conn: AsyncConnection, token: str, clock: Clock) -> Actor:
    return (await resolve_token(conn, token, clock)).actor


async def touch(conn: AsyncConnection, token_id: int, now: datetime) -> None:
    await conn.execute(update(api_tokens).where(api_tokens.c.id == token_id)
                       .values(last_used_at=now))


def describe_token(row: Any, current: int | None = None) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "kind": row["kind"],
            "scopes": sorted(ALL_SCOPES if row["scopes"] is None else row["scopes"]),
            "created_at": row["created_at"], "expires_at": row["expires_at"],
            "last_used_at": row["last_used_at"], "current": row["id"] == current}


async def list_tokens(conn: AsyncConnection, user_id: int, now: datetime,
                      current: int | None = None) -> list[dict[str, Any]]:
    """The user's live tokens (not revoked, not expired), newest first."""
    rows = await conn.execute(select(api_tokens).where(
        api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None),
        (api_tokens.c.expires_at.is_(None)) | (api_tokens.c.expires_at > now))
        .order_by(api_tokens.c.id.desc()))
    return [describe_token(row, current) for row in rows.mappings()]


async def revoke_token_id(conn: AsyncConnection, workspace_id: int, token_id: int,
                          now: datetime, *, owner_id: int | None) -> dict[str, Any]:
    """Revoke one token of the workspace (of ``owner_id`` only, unless None: an admin);
    returns whose it was and its name."""
    query = select(api_tokens.c.user_id, api_tokens.c.name).join(
        users, users.c.id == api_tokens.c.user_id).where(
        api_tokens.c.id == token_id, users.c.workspace_id == workspace_id,
        api_tokens.c.revoked_at.is_(None))
    if owner_id is not None:
        query = query.where(api_tokens.c.user_id == owner_id)
    found = (await conn.execute(query)).mappings().first()
    if found is None:
        raise NotFound(message("token_not_found", id=token_id))
    await conn.execute(update(api_tokens).where(api_tokens.c.id == token_id)
                       .values(revoked_at=now))
    return dict(found)


async def revoke_user_tokens(conn: AsyncConnection, user_id: int, now: datetime, *,
                             kinds: Collection[str] | None = None,
                             keep: int | None = None) -> int:
    """Revoke a user's live tokens (of ``kinds``, all by default; but the one to ``keep``)."""
    statement = update(api_tokens).where(api_tokens.c.user_id == user_id,
                                         api_tokens.c.revoked_at.is_(None))
    if kinds is not None:
        statement = statement.where(api_tokens.c.kind.in_(sorted(kinds)))
    if keep is not None:
        statement = statement.where(api_tokens.c.id != keep)
    result = await conn.execute(statement.values(revoked_at=now))
    return result.rowcount or 0


async def revoke_token(conn: AsyncConnection, token: str, clock: Clock) -> None:
    await conn.execute(update(api_tokens).where(api_tokens.c.token_hash == digest(token))
                       .values(revoked_at=clock.now()))
