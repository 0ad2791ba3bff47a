"""A database that stays busy is a 503 with Retry-After, never a 500, on both databases: a
lock held elsewhere (SQLite: ``BEGIN IMMEDIATE`` on another connection; PostgreSQL: a table
lock) outlasts the bounded wait. Reads never wait for it."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fixture_kit import ADMIN_EMAIL, ADMIN_PASSWORD, START, problem_of
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from loom.metamodel.errors import ServiceBusy
from loom.platform.api.app import create_app
from loom.platform.clock import FixedClock
from loom.platform.security.tokens import issue_token
from loom.platform.services import Services, build_services
from loom.platform.settings import Settings
from loom.platform.storage.busy import busy_error
from loom.platform.storage.database import Database
from loom.platform.storage.system_tables import users

BUSY_MS = 300


@pytest.fixture
async def impatient(database_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    """Services whose requests wait at most ``BUSY_MS`` for the database."""
    settings = Settings(database_url=database_url, busy_timeout_ms=BUSY_MS,
                        data_dir=tmp_path / "data")
    built = build_services(settings, FixedClock(START),
                           Database.open(database_url, busy_timeout_ms=BUSY_MS, pool_size=4))
    yield built
    await built.database.dispose()


async def _hold_the_write_lock(conn) -> None:
    """What a long writer does to everyone else: SQLite's one write lock is taken by
    ``BEGIN IMMEDIATE`` (``Database.write``) already; on PostgreSQL sign-in's table."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("LOCK TABLE login_throttle IN EXCLUSIVE MODE"))


async def test_a_lock_held_too_long_is_a_503_with_retry_after(impatient: Services,
                                                              database_url: str) -> None:
    async with impatient.database.write() as conn:
        admin = await conn.scalar(select(users.c.id).where(users.c.email == ADMIN_EMAIL))
        token = await issue_token(conn, admin, impatient.clock)
        first_use = await issue_token(conn, admin, impatient.clock)
    elsewhere = Database.open(database_url, pool_size=1)  # another process, as locks go
    app = create_app(services=impatient)
    as_admin = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://loom.test") as client:
            assert (await client.get("/api/apps", headers=as_admin)).status_code == 200
            async with elsewhere.write() as conn:
                await _hold_the_write_lock(conn)
                started = time.perf_counter()
                refused = await client.post("/api/auth/token", headers={
                    "Accept-Language": "en"}, json={"email": ADMIN_EMAIL,
                                                    "password": ADMIN_PASSWORD})
                waited = time.perf_counter() - started
                body = problem_of(refused, 503)
                assert refused.headers["retry-after"] == "2"
                assert body["type"] == "urn:loom:problem:service-busy"
                assert body["detail"].startswith("The database is busy with other work; "
                                                 "nothing was changed")
                assert BUSY_MS / 1000 * 0.9 <= waited < 5
                # reads do not wait for writers
                started = time.perf_counter()
                listed = await client.get("/api/apps", headers=as_admin)
                assert listed.status_code == 200, listed.text
                assert time.perf_counter() - started < BUSY_MS / 1000
                # a token's first use notes "last used" (a write): skipped when busy
                listed = await client.get("/api/apps", headers={
                    "Authorization": f"Bearer {first_use}"})
                assert listed.status_code == 200, listed.text
            signed_in = await client.post("/api/auth/token", json={
                "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
            assert signed_in.status_code == 200, signed_in.text
    finally:
        await elsewhere.dispose()


async def test_writers_of_one_process_wait_their_turn_within_the_bound(
        impatient: Services) -> None:
    """SQLite has one write lock: a second writer of the process waits for the first, and
    past the bound is refused as busy. PostgreSQL writers of different rows never wait."""
    database = impatient.database
    async with database.write() as conn:
        await conn.execute(text("SELECT 1"))
        second = asyncio.create_task(_write_once(database))
        await asyncio.sleep(BUSY_MS / 1000 * 2)
        if database.is_postgres:
            assert second.done() and second.result() == 1
        else:
            assert second.done() and isinstance(second.exception(), ServiceBusy)
    assert await _write_once(database) == 1


async def _write_once(database: Database) -> int:
    async with database.write() as conn:
        return int(await conn.scalar(text("SELECT 1")))


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize("cause", [
    sqlite3.OperationalError("database is locked"), _PgError("55P03"),
    _PgError("53300"), _PgError("40P01"), _PgError("08006"), ConnectionRefusedError()])
def test_what_counts_as_busy(cause: Exception) -> None:
    wrapped = OperationalError("statement", {}, cause)
    assert isinstance(busy_error(wrapped), ServiceBusy)


@pytest.mark.parametrize("cause", [sqlite3.OperationalError("no such table: x"),
                                   _PgError("23505"), _PgError("42P01"), ValueError()])
def test_what_does_not(cause: Exception) -> None:
    assert busy_error(OperationalError("statement", {}, cause)) is None
