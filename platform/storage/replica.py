"""The read replica: reads that tolerate a little lag go to a streaming standby.

Dashboards and exports read much and write nothing, and a figure a second old is as good
as a fresh one; they ask ``Database.read(lag_ok=True)``. Everything else — commands,
reads inside a write, what a request reads back after writing — stays on the primary.

A replica never turns into an error for the user. One that cannot be reached, fails
under a read, or lags more than ``max_lag`` is set aside: reads go to the primary (logged,
and counted in ``loom_db_replica_fallbacks_total``) and the replica is tried again
``retry_seconds`` later. A read the replica failed under raises ``ReplicaReadFailed``,
and is read once more on the primary (``Database.lag_tolerant``; for a request,
``lag_tolerant`` in ``api/context.py``).

The lag is measured on the replica itself, at most every ``LAG_EVERY`` seconds: zero while
it streams and has replayed all it received, else the time since the last transaction it
replayed (so a standby cut off from its primary ages instead of serving old data as fresh).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from loom.metamodel.errors import ServiceBusy
from loom.platform import metrics

log = logging.getLogger("loom.storage.replica")
LAG_EVERY = 2.0
LAG_QUERY = text("""
SELECT pg_is_in_recovery() AS standby,
       pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() AS replayed,
       EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') AS streaming,
       EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()) AS age
""")


class ReplicaReadFailed(ServiceBusy):
    """The replica failed under a read (gone, cancelled by its recovery, refusing us):
    the same read on the primary will do."""


class Replica:
    """A standby's engine and what this process knows of it: set aside until when, and
    its last measured lag."""

    def __init__(self, engine: AsyncEngine, *, max_lag: float, retry_seconds: float,
                 lag_every: float = LAG_EVERY,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.max_lag = max_lag
        self.retry_seconds = retry_seconds
        self.lag_every = lag_every
        self.lag: float | None = None
        self._monotonic = monotonic
        self._aside_until = 0.0
        self._lag_at = float("-inf")

    async def connect(self) -> AsyncConnection | None:
        """A connection to the replica, or None when reads should go to the primary."""
        if self._monotonic() < self._aside_until:
            return None
        try:
            conn = await self.engine.connect()
        except Exception as exc:  # refused, timed out, refused us: the primary answers
            self.set_aside("unreachable", exc)
            return None
        try:
            lag = await self._measured_lag(conn)
        except Exception as exc:
            await _close(conn)
            self.set_aside("unreachable", exc)
            return None
        if lag > self.max_lag:
            await _close(conn)
            self.set_aside("lagging", f"{lag:.1f} s behind (at most {self.max_lag:g} s)")
            return None
        return conn

    def set_aside(self, reason: str, cause: object) -> None:
        """Send reads to the primary for ``retry_seconds``."""
        self._aside_until = self._monotonic() + self.retry_seconds
        metrics.replica_fallbacks.labels(reason).inc()
        log.warning("read replica set aside for %g s (%s): %s", self.retry_seconds, reason,
                    cause)

    async def _measured_lag(self, conn: AsyncConnection) -> float:
        now = self._monotonic()
        if self.lag is not None and now - self._lag_at < self.lag_every:
            return self.lag
        row = (await conn.execute(LAG_QUERY)).mappings().one()
        await conn.rollback()  # the caller begins its own transaction
        if not row["standby"] or (row["streaming"] and row["replayed"]):
            lag = 0.0
        else:
            lag = float(row["age"]) if row["age"] is not None else float("inf")
        self.lag, self._lag_at = lag, now
        metrics.replica_lag.set(lag if lag != float("inf") else -1)
        return lag

    async def dispose(self) -> None:
        await self.engine.dispose()


async def _close(conn: AsyncConnection) -> None:
    try:
        await conn.close()
    except Exception:  # a broken connection: the pool discards it either way
        log.debug("closing a replica connection failed", exc_info=True)
