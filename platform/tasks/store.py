"""Tasks and their timers. A task's reminder and escalation are timer rows stored with the
task, in the same transaction; the worker fires them when due, once, and only while the
task is still open."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import Conflict, NotFound
from loom.metamodel.i18n import message, register_messages, render_text, stored_text
from loom.platform.outbox.notifications import saved_locales
from loom.platform.storage.leases import lease_due
from loom.platform.storage.system_tables import tasks, timers

LEASE = timedelta(minutes=5)

register_messages({
    "task_not_found": {"en": "There is no task {id}", "zh-CN": "不存在任务 {id}"},
    "task_not_open": {"en": "Task {id} is already {status}", "zh-CN": "任务 {id} 已是{status}状态"},
    "task_stale": {"en": "Task {id} changed since you read it (now version {current})",
                   "zh-CN": "任务 {id} 在您读取后已被修改（当前版本 {current}）"},
})


async def create_task(conn: AsyncConnection, *, workspace_id: int, app_id: int,
                      entity: str | None, record_id: int | None, title: Any,
                      assignee_id: int | None, now: datetime, locale: str,
                      due_at: datetime | None = None, notes: Any = None, kind: str = "todo",
                      source_rule: str | None = None, source_action: int | None = None,
                      activation_id: int | None = None, candidates: list[int] | None = None,
                      ) -> int:
    """A new open task. ``title`` and ``notes`` are plain or localized texts or Messages,
    kept for any reader's language; the columns hold them in the assignee's language
    (``locale`` when they chose none)."""
    texts = {"title": stored_text(title), "notes": stored_text(notes)}
    # a flow's task: its node's activation and the pool's candidates, in the same INSERT
    flow = {"activation_id": activation_id, "candidates": candidates} \
        if activation_id is not None else {}
    if assignee_id is not None:
        locale = (await saved_locales(conn, [assignee_id])).get(assignee_id, locale)
    result = await conn.execute(insert(tasks).values(
        workspace_id=workspace_id, app_id=app_id, entity=entity, record_id=record_id,
        kind=kind, title=render_text(texts["title"], locale),
        notes=render_text(texts["notes"], locale) if notes is not None else None,
        texts=texts, assignee_id=assignee_id, status="open", due_at=due_at,
        source_rule=source_rule, source_action=source_action, version=1, created_at=now,
        **flow)
        .returning(tasks.c.id))
    return int(result.scalar_one())


async def add_timer(conn: AsyncConnection, *, workspace_id: int, app_id: int, kind: str,
                    due_at: datetime, payload: dict[str, Any],
                    task_id: int | None = None, activation_id: int | None = None) -> int:
    result = await conn.execute(insert(timers).values(
        workspace_id=workspace_id, app_id=app_id, kind=kind, task_id=task_id,
        activation_id=activation_id, due_at=due_at, payload=payload, status="pending")
        .returning(timers.c.id))
    return int(result.scalar_one())


async def claim_due_timers(conn: AsyncConnection, as_of: datetime, limit: int = 50, *,
                           kinds: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Lease timers (of ``kinds``) due at ``as_of`` (SKIP LOCKED on PostgreSQL, so
    workers share)."""
    due = and_(timers.c.status == "pending", timers.c.due_at <= as_of)
    if kinds is not None:
        due = and_(due, timers.c.kind.in_(sorted(kinds)))
    return await lease_due(conn, timers, due, [timers.c.due_at, timers.c.id], as_of, LEASE,
                           limit)


async def cancel_timers(conn: AsyncConnection, activation_id: int, now: datetime) -> None:
    """The timers of a flow node that is done waiting."""
    await conn.execute(update(timers).where(timers.c.activation_id == activation_id,
                                            timers.c.status == "pending")
                       .values(status="cancelled", fired_at=now))


async def finish_timer(conn: AsyncConnection, timer_id: int, status: str,
                       now: datetime) -> None:
    await conn.execute(update(timers).where(timers.c.id == timer_id).values(
        status=status, fired_at=now, claimed_until=None))


async def get_task(conn: AsyncConnection, workspace_id: int, task_id: int, *,
                   lock: bool = False) -> dict[str, Any]:
    query = select(tasks).where(tasks.c.id == task_id, tasks.c.workspace_id == workspace_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFound(message("task_not_found", id=task_id))
    return dict(row)


async def complete_task(conn: AsyncConnection, workspace_id: int, task_id: int,
                        user_id: int | None, now: datetime, *,
                        expected_version: int | None = None) -> dict[str, Any]:
    """Close an open task; its pending timers are cancelled in the same transaction."""
    task = await get_task(conn, workspace_id, task_id, lock=True)
    if expected_version is not None and task["version"] != expected_version:
        raise Conflict(message("task_stale", id=task_id, current=task["version"]))
    if task["status"] != "open":
        raise Conflict(message("task_not_open", id=task_id, status=task["status"]))
    await conn.execute(update(tasks).where(tasks.c.id == task_id).values(
        status="done", completed_at=now, completed_by=user_id, version=task["version"] + 1))
    await conn.execute(update(timers).where(timers.c.task_id == task_id,
                                            timers.c.status == "pending")
                       .values(status="cancelled", fired_at=now))
    return await get_task(conn, workspace_id, task_id)


async def list_tasks(conn: AsyncConnection, workspace_id: int, *, app_id: int | None = None,
                     assignee_id: int | None = None, status: str | None = None,
                     entity: str | None = None, record_id: int | None = None,
                     limit: int = 100) -> list[dict[str, Any]]:
    query = select(tasks).where(tasks.c.workspace_id == workspace_id)
    for column, value in ((tasks.c.app_id, app_id), (tasks.c.assignee_id, assignee_id),
                          (tasks.c.status, status), (tasks.c.entity, entity),
                          (tasks.c.record_id, record_id)):
        if value is not None:
            query = query.where(column == value)
    rows = await conn.execute(query.order_by(tasks.c.due_at.is_(None), tasks.c.due_at,
                                             tasks.c.id).limit(limit))
    return [dict(row) for row in rows.mappings()]
