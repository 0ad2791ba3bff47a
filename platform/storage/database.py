"""The database handle: one async engine, explicit read and write transactions.

SQLite (aiosqlite) is the embedded default and PostgreSQL (asyncpg) production; both go
through this one code path. On SQLite a write transaction starts with ``BEGIN IMMEDIATE`` so
two writers queue on the database lock instead of failing when a read lock is upgraded;
read transactions stay deferred so they never block writers (WAL mode).

SQLite has one write lock for the whole file. The writers of this process queue for it in
order (a fair asyncio lock: SQLite's own busy handler polls, and a writer that commits and
begins again at once could starve a waiting one); other processes (the worker, the CLI)
wait on the file lock itself. Every wait is bounded (``LOOM_BUSY_TIMEOUT_MS``; on
PostgreSQL it is the ``lock_timeout`` of each connection), so a lock that stays busy becomes
``ServiceBusy`` (503 with ``Retry-After``), never a 500 — as do deadlocks and connection
failures (``busy.py``). Long work therefore writes in short transactions (``chunks.py``).

Reads that tolerate a little lag may go to a streaming replica (``replica.py``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import simplejson
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.util import await_only

from loom.metamodel.errors import ServiceBusy
from loom.platform import metrics
from loom.platform.storage.busy import busy_error, service_busy
from loom.platform.storage.replica import Replica, ReplicaReadFailed

T = TypeVar("T")
READONLY = "loom_readonly"
DEFAULT_BUSY_TIMEOUT_MS = 5000
REPLICA_CONNECT_SECONDS = 2  # an unreachable replica costs a read this long, at most


def json_dumps(value: Any) -> str:
    """JSON for JSON columns: exact decimals, ISO dates, Chinese kept readable."""
    return simplejson.dumps(value, use_decimal=True, ensure_ascii=False, default=_json_default)


def json_loads(text: str) -> Any:
    """JSON columns read back with exact decimals, as they were written."""
    return json.loads(text, parse_float=Decimal)


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10,
                  busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
                  application_name: str = "loom",
                  connect_timeout: float | None = None) -> AsyncEngine:
    """An async engine for ``url`` with the settings the platform relies on. SQL parameters
    (password hashes, token hashes, people's data) never appear in errors or logs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo, busy_timeout_ms)
    # a pooled connection the server dropped (a restart, a failover) is tested before use
    # and replaced (pool_pre_ping); an error that cut one in use invalidates it (busy.py)
    connect_args: dict[str, Any] = {"server_settings": {
        "application_name": application_name, "lock_timeout": str(int(busy_timeout_ms))}}
    if connect_timeout is not None:
        connect_args["timeout"] = connect_timeout
    return create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
        pool_timeout=busy_timeout_ms / 1000,
        json_serializer=json_dumps, json_deserializer=json_loads, hide_parameters=True,
        connect_args=connect_args,
    )


def _sqlite_engine(url: str, echo: bool, busy_timeout_ms: int) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, echo=echo, json_serializer=json_dumps,
                                 json_deserializer=json_loads, hide_parameters=True,
                                 pool_timeout=busy_timeout_ms / 1000,
                                 connect_args={"timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the driver (see module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        readonly = connection.get_execution_options().get(READONLY, False)
        # straight to the driver: one trip to its thread, where a statement through
        # SQLAlchemy's cursor takes three (open, execute, close) on every transaction
        driver = connection.connection.driver_connection
        await_only(driver.execute("BEGIN" if readonly else "BEGIN IMMEDIATE"))

    return engine


def is_postgres(engine_or_conn: AsyncEngine | AsyncConnection) -> bool:
    return engine_or_conn.dialect.name == "postgresql"


class Database:
    """The platform's database: where transactions are opened, in one place."""

    def __init__(self, engine: AsyncEngine, *,
                 busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
                 replica: Replica | None = None) -> None:
        self.engine = engine
        self.replica = replica
        self.busy_timeout = busy_timeout_ms / 1000
        # SQLite: this process's writers, in the order they asked (see the module docstring)
        self._writers = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @classmethod
    def open(cls, url: str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
             pool_size: int = 10, replica_url: str | None = None,
             replica_max_lag: float = 30, replica_retry_seconds: float = 10) -> Database:
        replica = None
        if replica_url:
            replica = Replica(create_engine(replica_url, pool_size=pool_size,
                                            busy_timeout_ms=busy_timeout_ms,
                                            application_name="loom-replica-reader",
                                            connect_timeout=REPLICA_CONNECT_SECONDS),
                              max_lag=replica_max_lag, retry_seconds=replica_retry_seconds)
        return cls(create_engine(url, pool_size=pool_size, busy_timeout_ms=busy_timeout_ms),
                   busy_timeout_ms=busy_timeout_ms, replica=replica)

    @property
    def is_postgres(self) -> bool:
        return is_postgres(self.engine)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction: committed when the block ends, rolled back on error."""
        async with self._turn_to_write(), self._busy_is_503(), \
                self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self, *, lag_ok: bool = False) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction (deferred on SQLite, so it never blocks a writer).
        ``lag_ok``: a read that may see data a little behind the primary — on the read
        replica when there is one that answers (never for what a request just wrote)."""
        async with self._busy_is_503(), self._reader(lag_ok) as conn:
            conn = await conn.execution_options(**{READONLY: True})
            async with conn.begin():
                yield conn

    async def lag_tolerant(self, read: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """``read`` in a read transaction that may lag (``read(lag_ok=True)``); should the
        replica fail under it, once more on the primary."""
        try:
            async with self.read(lag_ok=True) as conn:
                return await read(conn)
        except ReplicaReadFailed:
            async with self.read() as conn:
                return await read(conn)

    @asynccontextmanager
    async def _reader(self, lag_ok: bool) -> AsyncIterator[AsyncConnection]:
        conn = await self.replica.connect() if lag_ok and self.replica else None
        if conn is None:
            if lag_ok and self.replica:
                metrics.replica_reads.labels("primary").inc()
            async with self.engine.connect() as conn:
                yield conn
            return
        metrics.replica_reads.labels("replica").inc()
        try:
            yield conn
        except Exception as exc:
            # the server failed under the read (not the platform deciding to refuse it)
            if self.replica and (isinstance(exc, sa_exc.DBAPIError)
                                 or busy_error(exc) is not None):
                self.replica.set_aside("failed", exc)
                busy = service_busy()
                raise ReplicaReadFailed(busy.detail, retry_after=busy.retry_after) from exc
            raise
        finally:
            await conn.close()

    @asynccontextmanager
    async def _turn_to_write(self) -> AsyncIterator[None]:
        """SQLite: wait (bounded) for this process's earlier writers to finish."""
        if self._writers is None:
            yield
            return
        try:
            async with asyncio.timeout(self.busy_timeout):
                await self._writers.acquire()
        except TimeoutError:
            raise service_busy() from None
        try:
            yield
        finally:
            self._writers.release()

    @staticmethod
    @asynccontextmanager
    async def _busy_is_503() -> AsyncIterator[None]:
        try:
            yield
        except ServiceBusy:
            raise
        except Exception as exc:
            busy = busy_error(exc)
            if busy is None:
                raise
            raise busy from exc

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.replica:
            await self.replica.dispose()
