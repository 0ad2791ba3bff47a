"""The ``job_runs`` table: one row per run of a job — claimed when it starts (a scheduled
tick at most once), finished with its counts and result, or failed with its error."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.platform.storage.system_tables import job_runs


async def claim(conn: AsyncConnection, *, app_id: int, job: str, trigger: str,
                slot: str | None, as_of: date, now: datetime,
                actor_id: int | None) -> int | None:
    """Start a run; None when its slot (a scheduled tick) is taken already — run before,
    or by another worker right now (the insert waits for that one's transaction)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(job_runs).values(
        app_id=app_id, job=job, trigger=trigger, slot=slot, as_of=as_of, status="running",
        started_at=now, actor_id=actor_id, counts={}).on_conflict_do_nothing(
        index_elements=["app_id", "job", "slot"])
    return (await conn.execute(statement.returning(job_runs.c.id))).scalar()


async def finish(conn: AsyncConnection, run_id: int, *, status: str, now: datetime,
                 counts: dict[str, Any], result: dict[str, Any] | None,
                 error: str | None = None) -> None:
    await conn.execute(update(job_runs).where(job_runs.c.id == run_id).values(
        status=status, finished_at=now, counts=counts, result=result, error=error))


async def record_failure(conn: AsyncConnection, *, app_id: int, job: str, trigger: str,
                         slot: str | None, as_of: date, started: datetime, now: datetime,
                         actor_id: int | None, error: str) -> int | None:
    """A run that failed before it could write anything: kept, with its error (and its
    slot, so a broken job is not retried every round until its next tick)."""
    run_id = await claim(conn, app_id=app_id, job=job, trigger=trigger, slot=slot,
                         as_of=as_of, now=started, actor_id=actor_id)
    if run_id is not None:
        await finish(conn, run_id, status="failed", now=now, counts={}, result=None,
                     error=error)
    return run_id


def public(row: Any) -> dict[str, Any]:
    """A run as the API shows it."""
    started, finished = row["started_at"], row["finished_at"]
    return {"id": row["id"], "job": row["job"], "trigger": row["trigger"],
            "slot": row["slot"], "as_of": row["as_of"], "status": row["status"],
            "started_at": started, "finished_at": finished,
            "duration_ms": int((finished - started).total_seconds() * 1000)
            if finished else None,
            "counts": row["counts"], "result": row["result"], "error": row["error"]}


async def list_runs(conn: AsyncConnection, app_id: int, job: str, *, limit: int = 50,
                    before: int | None = None) -> list[dict[str, Any]]:
    """The job's runs, newest first."""
    query = (select(job_runs).where(job_runs.c.app_id == app_id, job_runs.c.job == job)
             .order_by(job_runs.c.id.desc()).limit(limit))
    if before is not None:
        query = query.where(job_runs.c.id < before)
    return [public(row) for row in (await conn.execute(query)).mappings().all()]


async def last_runs(conn: AsyncConnection, app_id: int) -> dict[str, dict[str, Any]]:
    """The latest run of each job of the app."""
    latest = (select(func.max(job_runs.c.id)).where(job_runs.c.app_id == app_id)
              .group_by(job_runs.c.job))
    rows = (await conn.execute(select(job_runs).where(job_runs.c.id.in_(latest))))
    return {row["job"]: public(row) for row in rows.mappings().all()}
