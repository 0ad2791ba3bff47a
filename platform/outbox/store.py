"""The outbox: side effects (email, webhooks) recorded in the same transaction as the change
that caused them, delivered later by the worker — at least once, with retries and backoff,
each carrying an idempotency key so a receiver can ignore a repeat."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import NotFound
from loom.platform.storage.leases import lease_due
from loom.platform.storage.system_tables import outbox

# Seconds to wait before attempt n+1; the last entry repeats until MAX_ATTEMPTS.
BACKOFF = (60, 300, 1800, 7200, 21600)
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)
KINDS = frozenset({"email", "webhook"})


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF[min(attempts, len(BACKOFF)) - 1])


async def enqueue(conn: AsyncConnection, *, workspace_id: int, app_id: int | None, kind: str,
                  key: str, payload: dict[str, Any], now: datetime,
                  entity: str | None = None, record_id: int | None = None) -> None:
    """Record one side effect (about one record, when ``entity`` and ``record_id`` say
    which); a second enqueue with the same key is ignored."""
    if kind not in KINDS:
        raise ValueError(f"unknown outbox kind {kind!r}")
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(outbox).values(
        workspace_id=workspace_id, app_id=app_id, kind=kind, idempotency_key=key[:300],
        payload=payload, status="pending", attempts=0, next_attempt_at=now, created_at=now,
        entity=entity, record_id=record_id,
    ).on_conflict_do_nothing(index_elements=["idempotency_key"])
    await conn.execute(statement)


async def enqueue_all(conn: AsyncConnection, *, workspace_id: int, app_id: int,
                      items: list[dict[str, Any]], now: datetime) -> None:
    """The side effects a rule or flow decided on: ``{kind, key, payload, entity?,
    record_id?}`` each."""
    for item in items:
        await enqueue(conn, workspace_id=workspace_id, app_id=app_id, kind=item["kind"],
                      key=item["key"], payload=item["payload"], now=now,
                      entity=item.get("entity"), record_id=item.get("record_id"))


async def claim_due(conn: AsyncConnection, as_of: datetime,
                    limit: int = 20) -> list[dict[str, Any]]:
    """Lease up to ``limit`` items due at ``as_of``; several workers never take the same
    item (SKIP LOCKED on PostgreSQL; SQLite serialises writers)."""
    return await lease_due(conn, outbox,
                           and_(outbox.c.status.in_(("pending", "failed")),
                                outbox.c.next_attempt_at <= as_of),
                           [outbox.c.next_attempt_at, outbox.c.id], as_of, LEASE, limit,
                           attempts=outbox.c.attempts + 1)


async def mark_sent(conn: AsyncConnection, item_id: int, now: datetime) -> None:
    await conn.execute(update(outbox).where(outbox.c.id == item_id).values(
        status="sent", sent_at=now, claimed_until=None, last_error=None))


async def mark_failed(conn: AsyncConnection, item: Any, error: str, now: datetime) -> str:
    """Schedule a retry with backoff, or give up ("dead") after MAX_ATTEMPTS."""
    attempts = item["attempts"]
    status = "dead" if attempts >= MAX_ATTEMPTS else "failed"
    await conn.execute(update(outbox).where(outbox.c.id == item["id"]).values(
        status=status, last_error=error[:2000], claimed_until=None,
        next_attempt_at=now + backoff(attempts) if status == "failed" else now))
    return status


async def retry(conn: AsyncConnection, workspace_id: int, item_id: int, now: datetime) -> None:
    """An administrator sends a failed or dead item again (after fixing the cause)."""
    result = await conn.execute(update(outbox).where(
        outbox.c.id == item_id, outbox.c.workspace_id == workspace_id,
        outbox.c.status.in_(("failed", "dead"))).values(
        status="pending", attempts=0, next_attempt_at=now, claimed_until=None))
    if result.rowcount == 0:
        raise NotFound(f"There is no failed delivery {item_id}")


async def list_items(conn: AsyncConnection, workspace_id: int, *, status: str | None = None,
                     app_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    query = select(outbox).where(outbox.c.workspace_id == workspace_id)
    if status:
        query = query.where(outbox.c.status == status)
    if app_id is not None:
        query = query.where(outbox.c.app_id == app_id)
    rows = await conn.execute(query.order_by(outbox.c.id.desc()).limit(limit))
    return [{"id": r["id"], "kind": r["kind"], "key": r["idempotency_key"],
             "status": r["status"], "attempts": r["attempts"], "last_error": r["last_error"],
             "next_attempt_at": r["next_attempt_at"], "created_at": r["created_at"],
             "sent_at": r["sent_at"], "app_id": r["app_id"],
             "summary": _summary(r["kind"], r["payload"])} for r in rows.mappings()]


def _summary(kind: str, payload: dict[str, Any]) -> str:
    if kind == "email":
        return f"{', '.join(payload.get('to', []))}: {payload.get('subject', '')}"
    return str(payload.get("url", ""))


