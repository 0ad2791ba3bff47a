"""PostgreSQL test databases dropped while the suite runs, rather than hundreds at its end.

PostgreSQL 15 makes every DROP DATABASE wait for a checkpoint of the whole server: seconds
each when the server is busy. Drops that wait side by side share a checkpoint, so a thread
drops everything released since its last round at once, while the next tests run."""

from __future__ import annotations

import asyncio
import queue
import threading

import asyncpg

_DONE = ""  # put on the queue by ``finish``: no more databases to drop


async def drop_databases(admin_dsn: str, names: list[str], connections: int) -> None:
    """Drop the databases ``names`` over up to ``connections`` connections side by side."""
    pending = list(names)

    async def drop_some() -> None:
        admin = await asyncpg.connect(admin_dsn)
        try:
            while pending:
                await admin.execute(f'DROP DATABASE IF EXISTS "{pending.pop()}" WITH (FORCE)')
        finally:
            await admin.close()

    await asyncio.gather(*(drop_some() for _ in range(min(connections, len(pending)))))


class DatabaseDropper:
    """Drops released databases in a thread of its own, a round at a time."""

    def __init__(self, admin_dsn: str, connections: int = 16) -> None:
        self._admin_dsn = admin_dsn
        self._connections = connections
        self._released: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._released_names: set[str] = set()

    def release(self, name: str) -> None:
        """Drop the database ``name`` soon: nothing uses it any more."""
        self._released_names.add(name)
        if self._thread is None:
            self._thread = threading.Thread(target=self._drop_rounds, daemon=True,
                                            name="drop-test-databases")
            self._thread.start()
        self._released.put(name)

    def finish(self, names: list[str]) -> None:
        """Drop those of ``names`` not released yet, and return once every database
        released is gone."""
        for name in names:
            if name not in self._released_names:
                self.release(name)
        if self._thread is not None:
            self._released.put(_DONE)
            self._thread.join()
            self._thread = None
        if self._error is not None:
            raise RuntimeError("test databases were left behind") from self._error

    def _drop_rounds(self) -> None:
        finished = False
        while not finished:
            names = [self._released.get()]  # waits for the next released database
            while not self._released.empty():
                names.append(self._released.get())
            finished = _DONE in names
            names = [name for name in names if name != _DONE]
            try:
                if names:
                    asyncio.run(drop_databases(self._admin_dsn, names, self._connections))
            except Exception as error:  # reported by ``finish``; the rounds go on
                self._error = self._error or error
