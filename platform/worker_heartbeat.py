"""Workers say they are alive: each ``loom worker`` process keeps a row in
``worker_heartbeats``, touched every few seconds from a task of its own (``beat_at``: the
process runs) and after each round of duties (``round_at``: the duties run, with what the
round did or why it failed). The readiness check and the administrators' worker page read
these rows; a worker that stops cleanly marks its row stopped."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.platform.storage.database import Database
from loom.platform.storage.system_tables import worker_heartbeats

BEAT_SECONDS = 10.0


def worker_name() -> str:
    """This process, as its heartbeat row names it."""
    return f"{socket.gethostname()[:150]}:{os.getpid()}"


async def beat(database: Database, worker: str, now: datetime, *,
               started_at: datetime) -> None:
    """Say this worker is alive (and not stopped) as of ``now``."""
    async with database.write() as conn:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(worker_heartbeats).values(
            worker=worker, started_at=started_at, beat_at=now, rounds=0, failed_rounds=0)
        await conn.execute(statement.on_conflict_do_update(
            index_elements=["worker"], set_={"beat_at": now, "stopped_at": None}))


async def round_done(database: Database, worker: str, now: datetime,
                     done: dict[str, int] | None, error: str | None) -> None:
    """Record a finished round: what it did, or the error that ended it."""
    table = worker_heartbeats
    values: dict[str, Any] = {"beat_at": now, "round_at": now, "rounds": table.c.rounds + 1}
    if error is None:
        values["last_round"] = done
    else:
        values |= {"failed_rounds": table.c.failed_rounds + 1, "last_error": error[:2000]}
    async with database.write() as conn:
        await conn.execute(update(table).where(table.c.worker == worker).values(**values))


async def stopped(database: Database, worker: str, now: datetime) -> None:
    async with database.write() as conn:
        await conn.execute(update(worker_heartbeats).where(
            worker_heartbeats.c.worker == worker).values(stopped_at=now, beat_at=now))


def status_of(row: Any, now: datetime, stale: timedelta) -> str:
    if row["stopped_at"] is not None:
        return "stopped"
    return "alive" if now - row["beat_at"] <= stale else "stale"


async def workers(conn: AsyncConnection, now: datetime,
                  stale: timedelta) -> list[dict[str, Any]]:
    """Every worker that has run, freshest first, with its status (alive, stale, stopped)
    and the seconds since it last showed it was alive."""
    rows = await conn.execute(select(worker_heartbeats)
                              .order_by(worker_heartbeats.c.beat_at.desc()))
    return [{**row, "status": status_of(row, now, stale),
             "age_seconds": round((now - row["beat_at"]).total_seconds(), 1)}
            for row in rows.mappings()]
