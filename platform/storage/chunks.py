"""Long work in short transactions. On SQLite one write transaction holds the lock of the
whole database, so a demo load, an import or a hand-over that wrote everything in one
transaction would keep every sign-in waiting for seconds. Such work is cut into small
units (a batch of records, one record); ``ShortTransactions`` runs them in write
transactions that commit once they have run for a time budget (``LOOM_WRITE_CHUNK_MS``),
and the next unit opens a new one — behind whoever queued for the lock meanwhile.

What is committed stays committed: a unit that fails rolls back its own transaction only,
and what a failure means (a refused row, a load stopped half-way) is the caller's to say.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncConnection

from loom.platform.storage.database import Database

BeforeCommit = Callable[[AsyncConnection], Awaitable[None]]


class ShortTransactions:
    """Hands out the open write transaction and commits it when its budget is spent::

        async with ShortTransactions(database, budget_ms=100) as chunks:
            for unit in units:
                await write(await chunks.connection(), unit)
                await chunks.checkpoint()

    ``before_commit`` runs in each transaction just before it commits (progress saved with
    the work it describes)."""

    def __init__(self, database: Database, *, budget_ms: int,
                 before_commit: BeforeCommit | None = None) -> None:
        self.database = database
        self.budget = budget_ms / 1000
        self.before_commit = before_commit
        self.committed = 0  # transactions committed so far
        self.longest = 0.0  # seconds the longest of them was open
        self._stack: AsyncExitStack | None = None
        self._conn: AsyncConnection | None = None
        self._opened = self._unit_started = 0.0
        self.last_unit = 0.0  # seconds the last unit took

    async def __aenter__(self) -> ShortTransactions:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        if error is None:
            await self.commit()
        elif self._stack is not None:  # the open transaction is rolled back
            stack, self._stack, self._conn = self._stack, None, None
            await stack.__aexit__(kind, error, traceback)

    async def connection(self) -> AsyncConnection:
        """The open transaction, or a new one."""
        if self._conn is None:
            self._stack = AsyncExitStack()
            self._conn = await self._stack.enter_async_context(self.database.write())
            self._opened = self._unit_started = time.perf_counter()
        return self._conn

    async def checkpoint(self) -> None:
        """Between two units: commit when the transaction has run for its budget, or would
        overrun it with another unit like the last one."""
        if self._conn is None:
            return
        now = time.perf_counter()
        self.last_unit, self._unit_started = now - self._unit_started, now
        if now - self._opened + self.last_unit >= self.budget:
            await self.commit()

    def paced(self, written: int, most: int) -> int:
        """How many items the next unit may take: about half a transaction's budget at the
        pace of the last unit, which wrote ``written`` (slow items, a busy machine: fewer),
        at least one and at most ``most``."""
        per_item = self.last_unit / max(written, 1)
        if per_item <= 0:
            return most
        return max(1, min(most, int(self.budget / 2 / per_item)))

    async def commit(self) -> None:
        """Commit the open transaction now (nothing to do when none is open)."""
        if self._conn is None or self._stack is None:
            return
        if self.before_commit is not None:
            await self.before_commit(self._conn)
        stack, self._stack, self._conn = self._stack, None, None
        await stack.aclose()
        self.committed += 1
        self.longest = max(self.longest, time.perf_counter() - self._opened)
