"""The worker duty that fires due timers: a task's reminder and its overdue notice.

Timers are UTC due times stored with their task, so a worker that was down fires them late
but once: each timer is leased (``claim_due_timers``), then handled in its own transaction
that re-reads the timer and locks the task. A timer whose task is no longer open is
cancelled without a word; one that notifies is finished as ``fired`` in the transaction
that writes the notifications, so a crash in between sends nothing twice. Each engine
claims only the kinds of timer it owns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import NotFound
from loom.metamodel.i18n import DEFAULT_LOCALE, message, register_messages
from loom.platform import metrics
from loom.platform.outbox.notifications import notify
from loom.platform.storage.leases import release
from loom.platform.storage.system_tables import timers, users
from loom.platform.tasks.store import claim_due_timers, finish_timer, get_task

if TYPE_CHECKING:
    from loom.platform.services import Services
    from loom.platform.storage.database import Database

log = logging.getLogger("loom.timers")

# the timer kinds this duty handles, with the title each sends
TITLES = {"task_remind": "timer_task_remind", "task_overdue": "timer_task_overdue"}

register_messages({
    "timer_task_remind": {"en": "Reminder: {title}", "zh-CN": "提醒：{title}"},
    "timer_task_overdue": {"en": "Overdue: {title}", "zh-CN": "已逾期：{title}"},
})


async def run_timers(services: Services, as_of: datetime, *,
                     stopping: asyncio.Event | None = None) -> int:
    """Fire (or cancel) every task timer due at ``as_of``; returns how many it finished."""
    return await fire_due(services.database, as_of, TITLES, _handle, stopping=stopping)


async def fire_due(database: Database, as_of: datetime, kinds: Iterable[str],
                   handle: Callable[[AsyncConnection, int, datetime], Awaitable[int]], *,
                   stopping: asyncio.Event | None = None) -> int:
    """Lease the due timers of ``kinds`` and hand each to ``handle`` in its own
    transaction; a timer whose handling fails keeps its lease until it runs out, and a
    later round tries it again. When ``stopping`` is set, the timers not yet handled are
    given back. Returns how many timers were finished."""
    finished = 0
    while True:
        if stopping is not None and stopping.is_set():
            return finished
        async with database.write() as conn:
            claimed = await claim_due_timers(conn, as_of, kinds=kinds)
        if not claimed:
            return finished
        for position, timer in enumerate(claimed):
            if stopping is not None and stopping.is_set():
                async with database.write() as conn:
                    await release(conn, timers, [t["id"] for t in claimed[position:]])
                return finished
            metrics.timer_lateness.labels(timer["kind"]).observe(
                max(0.0, (as_of - timer["due_at"]).total_seconds()))
            try:
                async with database.write() as conn:
                    finished += await handle(conn, timer["id"], as_of)
            except Exception:
                log.exception("timer failed", extra={"timer_id": timer["id"],
                                                     "kind": timer["kind"]})


async def _handle(conn: AsyncConnection, timer_id: int, as_of: datetime) -> int:
    timer = (await conn.execute(select(timers).where(
        timers.c.id == timer_id, timers.c.status == "pending").with_for_update())
    ).mappings().first()
    if timer is None:  # cancelled (its task completed) since it was claimed
        return 0
    task = None
    if timer["task_id"] is not None:
        try:
            task = await get_task(conn, timer["workspace_id"], timer["task_id"], lock=True)
        except NotFound:
            task = None
    if task is None or task["status"] != "open":
        await finish_timer(conn, timer_id, "cancelled", as_of)
        return 1
    await _notify(conn, TITLES[timer["kind"]], task, timer["payload"].get("to") or [], as_of)
    await finish_timer(conn, timer_id, "fired", as_of)
    return 1


async def _notify(conn: AsyncConnection, key: str, task: dict[str, Any], to: list[int],
                  as_of: datetime) -> None:
    """One notification per active recipient, about the task in whatever language each
    reads it."""
    active = (await conn.execute(select(users.c.id).where(
        users.c.id.in_(to), users.c.active.is_(True)))).scalars().all()
    texts = task["texts"] or {"title": task["title"], "notes": task["notes"]}
    await notify(conn, workspace_id=task["workspace_id"], user_ids=active,
                 title=message(key, title=texts["title"]), body=texts.get("notes"),
                 now=as_of, locale=DEFAULT_LOCALE, app_id=task["app_id"],
                 entity=task["entity"], record_id=task["record_id"])
