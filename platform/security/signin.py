"""Signing in with email and password: throttled per email and per client address, with one
vague answer for every failure, so nobody learns which emails have accounts.

A failed attempt must be counted even though it is refused, so the check runs in its own
transaction and hands back its refusal instead of raising it inside (which would roll the
count back); the caller raises it once the transaction is committed.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import LoomError, NotAuthenticated, TooManyRequests
from loom.metamodel.i18n import message, register_messages
from loom.platform.clock import Clock
from loom.platform.security.passwords import verify_password
from loom.platform.security.throttle import ThrottleLimits, begin_attempt
from loom.platform.security.tokens import IssuedToken, create_token
from loom.platform.storage.database import Database
from loom.platform.storage.system_tables import users

register_messages({
    "signin_failed": {"en": "The email or password is wrong", "zh-CN": "邮箱或密码错误"},
    "signin_locked": {
        "en": "Too many failed sign-ins. Try again in {minutes} minute(s).",
        "zh-CN": "登录失败次数过多，请 {minutes} 分钟后再试。",
    },
})


@dataclass(frozen=True)
class Verdict:
    """The outcome of a password check: the user's row, or the refusal to answer with."""

    user: Any = None
    refusal: LoomError | None = None


def locked_out(seconds: int) -> TooManyRequests:
    return TooManyRequests(message("signin_locked", minutes=math.ceil(seconds / 60)),
                           retry_after=seconds)


async def check_password_attempt(conn: AsyncConnection, limits: ThrottleLimits, clock: Clock,
                                 *, email: str, password: str,
                                 address: str | None) -> Verdict:
    """Is ``password`` right for the active user ``email``? Locked emails and addresses are
    refused before any check; a failure is counted (commit the transaction to keep it)."""
    email = (email or "").strip().lower()
    now = clock.now()
    attempt = await begin_attempt(conn, limits, email=email, address=address)
    locked = attempt.locked_for(now)
    if locked:
        return Verdict(refusal=locked_out(locked))
    # no stored email holds U+0000, and PostgreSQL would fail on it instead of missing
    row = None if "\x00" in email else (await conn.execute(
        select(users).where(users.c.email == email))).mappings().first()
    # argon2 is slow on purpose: in a thread, so the server goes on serving meanwhile
    ok = await asyncio.to_thread(verify_password, row["password_hash"] if row else None,
                                 password or "")
    if row is None or not ok or not row["active"]:
        locked = await attempt.failed(conn, now)
        return Verdict(refusal=locked_out(locked) if locked
                       else NotAuthenticated(message("signin_failed")))
    await attempt.succeeded(conn)
    return Verdict(user=row)


async def sign_in(database: Database, clock: Clock, limits: ThrottleLimits, *, email: str,
                  password: str, address: str | None, kind: str,
                  lifetime: timedelta) -> tuple[Any, IssuedToken]:
    """Exchange email + password for a new token of ``kind``; raises the refusal."""
    async with database.write() as conn:
        verdict = await check_password_attempt(conn, limits, clock, email=email,
                                               password=password, address=address)
        issued = None
        if verdict.refusal is None:
            issued = await create_token(conn, verdict.user["id"], clock, name=kind, kind=kind,
                                        lifetime=lifetime)
    if verdict.refusal is not None:
        raise verdict.refusal
    assert issued is not None
    return verdict.user, issued
