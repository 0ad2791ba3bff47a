"""The worker duty that fires flow timers (waits, timeouts, task timers, retries of failed
actions). Each timer runs in its own transaction, on the app version its instance is
pinned to, as the system; a timer whose instance or node no longer waits is cancelled."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import Conflict, NotFound
from loom.platform.flows.waiting import FLOW_TIMER_KINDS
from loom.platform.security.actors import system_actor
from loom.platform.storage.system_tables import timers
from loom.platform.tasks.store import finish_timer
from loom.platform.tasks.timers import fire_due

if TYPE_CHECKING:
    from loom.platform.services import Services



async def run_flow_timers(services: Services, as_of: datetime, *,
                          stopping: asyncio.Event | None = None) -> int:
    """Fire every flow timer due at ``as_of``; returns how many it finished."""
    async def handle(conn: AsyncConnection, timer_id: int, moment: datetime) -> int:
        return await _fire(services, conn, timer_id, moment)

    return await fire_due(services.database, as_of, FLOW_TIMER_KINDS, handle,
                          stopping=stopping)


async def _fire(services: Services, conn: AsyncConnection, timer_id: int,
                as_of: datetime) -> int:
    """Fire one timer — and first, in due order, the earlier timers of its node that are
    due too, whoever leased them: a reminder due before an auto-approval is sent before
    the approval ends the task (which cancels what is still pending). The instance is
    locked before any timer, the same order every command takes."""
    peek = (await conn.execute(select(timers).where(timers.c.id == timer_id))
            ).mappings().first()
    if peek is None or peek["status"] != "pending":
        return 0
    actor = system_actor(peek["workspace_id"], "flow")

    async def runtime_of(row: Any) -> Any:
        return await services.apps.runtime_at(conn, row["app_id"], row["app_version"])

    try:
        instance = await services.flows.instance_for(conn, runtime_of, actor,
                                                     peek["payload"]["instance"], as_of)
    except (NotFound, Conflict):  # the instance ended: nothing waits for this timer
        await finish_timer(conn, timer_id, "cancelled", as_of)
        return 1
    finished = 0
    for candidate in await _due_in_order(conn, dict(peek), as_of):
        timer = (await conn.execute(select(timers).where(
            timers.c.id == candidate, timers.c.status == "pending").with_for_update())
        ).mappings().first()
        if timer is None:  # fired by another worker, or cancelled by an earlier timer
            continue
        fired = await services.flows.fire_timer(instance, dict(timer))
        await finish_timer(conn, candidate, "fired" if fired else "cancelled", as_of)
        finished += 1
    await services.flows.save(instance)
    return finished


async def _due_in_order(conn: AsyncConnection, timer: dict[str, Any],
                        as_of: datetime) -> list[int]:
    """This timer and the pending timers of the same node due before it, in due order."""
    if timer["activation_id"] is None:
        return [timer["id"]]
    earlier = await conn.execute(select(timers.c.id).where(
        timers.c.activation_id == timer["activation_id"], timers.c.status == "pending",
        timers.c.due_at <= as_of,
        (timers.c.due_at < timer["due_at"]) | (
            (timers.c.due_at == timer["due_at"]) & (timers.c.id < timer["id"])))
        .order_by(timers.c.due_at, timers.c.id))
    return [*earlier.scalars(), timer["id"]]
