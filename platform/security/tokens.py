"""Bearer tokens: random, shown once, stored only as a SHA-256 hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import NotAuthenticated
from loom.platform.clock import Clock
from loom.platform.security.actors import Actor
from loom.platform.security.passwords import verify_password
from loom.platform.security.users import actor_from_row
from loom.platform.storage.system_tables import api_tokens, users

PREFIX = "loom_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(conn: AsyncConnection, user_id: int, clock: Clock, *, name: str = "login",
                      kind: str = "login", days: int | None = 30) -> str:
    token = PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    await conn.execute(insert(api_tokens).values(
        user_id=user_id, token_hash=_digest(token), name=name, kind=kind, created_at=now,
        expires_at=now + timedelta(days=days) if days else None))
    return token


async def login(conn: AsyncConnection, email: str, password: str, clock: Clock,
                days: int) -> str:
    """Exchange email + password for a bearer token; one vague error for every failure."""
    email = (email or "").strip().lower()
    # no stored email holds U+0000, and PostgreSQL would fail on it instead of missing
    row = None if "\x00" in email else (await conn.execute(
        select(users).where(users.c.email == email))).mappings().first()
    ok = verify_password(row["password_hash"] if row else None, password or "")
    if row is None or not ok or not row["active"]:
        raise NotAuthenticated("The email or password is wrong")
    return await issue_token(conn, row["id"], clock, days=days)


async def actor_for_token(conn: AsyncConnection, token: str, clock: Clock) -> Actor:
    now = clock.now()
    row = (await conn.execute(
        select(users, api_tokens.c.expires_at, api_tokens.c.revoked_at)
        .join(api_tokens, api_tokens.c.user_id == users.c.id)
        .where(api_tokens.c.token_hash == _digest(token)))).mappings().first()
    if row is None or row["revoked_at"] is not None or not row["active"] or (
            row["expires_at"] is not None and row["expires_at"] <= now):
        raise NotAuthenticated("The token is unknown, expired or revoked")
    return actor_from_row(row)


async def revoke_token(conn: AsyncConnection, token: str, clock: Clock) -> None:
    await conn.execute(update(api_tokens).where(api_tokens.c.token_hash == _digest(token))
                       .values(revoked_at=clock.now()))
