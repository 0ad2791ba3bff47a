"""Sign-in throttling: too many failed attempts for one email, or from one client address,
within a window lock that email (address) for a while.

The counters live in the database, so every app process counts the same attempts, and an
attempt holds its counter rows (``FOR UPDATE`` on PostgreSQL; SQLite serialises writers)
from the lock check to the verdict, so parallel guesses queue instead of slipping through
together. Keys are hashes: the table never holds the emails people typed.

An email that has no account is counted and locked exactly like one that has: neither the
answer nor its timing says which emails exist.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.platform.settings import Settings
from loom.platform.storage.system_tables import login_throttle


@dataclass(frozen=True)
class ThrottleLimits:
    max_failures: int
    ip_max_failures: int
    window: timedelta
    lock: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottleLimits:
        return cls(settings.login_max_failures, settings.login_ip_max_failures,
                   timedelta(minutes=settings.login_window_minutes),
                   timedelta(minutes=settings.login_lock_minutes))


def _hashed(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode('utf-8', 'replace')).hexdigest()}"


def email_key(email: str) -> str:
    return _hashed("email", email.strip().lower())


def address_key(address: str) -> str:
    return _hashed("ip", address)


@dataclass
class Attempt:
    """One sign-in attempt's counters, held until its transaction ends."""

    rows: dict[str, dict[str, Any]]
    maxima: dict[str, int]
    limits: ThrottleLimits
    account_key: str

    def locked_for(self, now: datetime) -> int | None:
        """Seconds until every lock on this attempt's email and address is lifted."""
        ends = [row["locked_until"] for row in self.rows.values()
                if row["locked_until"] is not None and row["locked_until"] > now]
        return _seconds(max(ends) - now) if ends else None

    async def failed(self, conn: AsyncConnection, now: datetime) -> int | None:
        """Count the failure; the seconds of the lock it leads to, if it does."""
        locked = []
        for key, row in self.rows.items():
            fresh = row["window_started_at"] is None \
                or row["window_started_at"] + self.limits.window <= now
            values = {"failures": 1 if fresh else row["failures"] + 1,
                      "window_started_at": now if fresh else row["window_started_at"],
                      "locked_until": None}
            if values["failures"] >= self.maxima[key]:
                values = {"failures": 0, "window_started_at": None,
                          "locked_until": now + self.limits.lock}
                locked.append(self.limits.lock)
            await conn.execute(update(login_throttle).where(login_throttle.c.key == key)
                               .values(**values))
        return _seconds(max(locked)) if locked else None

    async def succeeded(self, conn: AsyncConnection) -> None:
        """The email's failures are forgiven; the address's are not (one good account must
        not reset the count of an address that guesses at others)."""
        await conn.execute(delete(login_throttle).where(
            login_throttle.c.key == self.account_key))
        await conn.execute(delete(login_throttle).where(
            login_throttle.c.key.in_(list(self.rows)), login_throttle.c.failures == 0,
            login_throttle.c.locked_until.is_(None)))


async def begin_attempt(conn: AsyncConnection, limits: ThrottleLimits, *, email: str,
                        address: str | None) -> Attempt:
    """Hold the counters of ``email`` and ``address`` (created when missing) for this
    transaction, in key order so that two attempts never wait on each other in a circle."""
    maxima = {email_key(email): limits.max_failures}
    if address:
        maxima[address_key(address)] = limits.ip_max_failures
    keys = sorted(maxima)
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    for key in keys:
        await conn.execute(dialect.insert(login_throttle).values(
            key=key, failures=0, window_started_at=None, locked_until=None)
            .on_conflict_do_nothing(index_elements=["key"]))
    rows = await conn.execute(select(login_throttle).where(login_throttle.c.key.in_(keys))
                              .order_by(login_throttle.c.key).with_for_update())
    held = {row["key"]: dict(row) for row in rows.mappings()}
    return Attempt(held, maxima, limits, email_key(email))


async def clear_email(conn: AsyncConnection, email: str) -> None:
    """Lift the lock and forget the failures of one email (after a password reset)."""
    await conn.execute(delete(login_throttle).where(login_throttle.c.key == email_key(email)))


async def purge_throttle(conn: AsyncConnection, now: datetime, window: timedelta) -> int:
    """Drop counters whose window and lock have both passed."""
    result = await conn.execute(delete(login_throttle).where(and_(
        or_(login_throttle.c.locked_until.is_(None), login_throttle.c.locked_until <= now),
        or_(login_throttle.c.window_started_at.is_(None),
            login_throttle.c.window_started_at <= now - window))))
    return result.rowcount or 0


def _seconds(span: timedelta) -> int:
    return max(1, math.ceil(span.total_seconds()))
