"""The worker duty that fires flow timers (waits, timeouts, task timers, retries of failed
actions). Each timer runs in its own transaction, on the app version its instance is
pinned to, as the system; a timer whose instance or node no longer waits is cancelled."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import Conflict, NotFound
from loom.platform.flows import store
from loom.platform.flows.waiting import FLOW_TIMER_KINDS
from loom.platform.security.actors import system_actor
from loom.platform.storage.system_tables import timers
from loom.platform.tasks.store import finish_timer
from loom.platform.tasks.timers import fire_due

if TYPE_CHECKING:
    from loom.platform.services import Services



async def run_flow_timers(services: Services, as_of: datetime) -> int:
    """Fire every flow timer due at ``as_of``; returns how many it finished."""
    async def handle(conn: AsyncConnection, timer_id: int, moment: datetime) -> int:
        return await _fire(services, conn, timer_id, moment)

    return await fire_due(services.database, as_of, FLOW_TIMER_KINDS, handle)


async def _fire(services: Services, conn: AsyncConnection, timer_id: int,
                as_of: datetime) -> int:
    timer = (await conn.execute(select(timers).where(
        timers.c.id == timer_id, timers.c.status == "pending").with_for_update())
    ).mappings().first()
    if timer is None:
        return 0
    timer = dict(timer)
    actor = system_actor(timer["workspace_id"], "flow")

    async def runtime_of(row: Any) -> Any:
        return await services.apps.runtime_at(conn, row["app_id"], row["app_version"])

    try:
        instance = await services.flows.instance_for(conn, runtime_of, actor,
                                                     timer["payload"]["instance"], as_of)
    except (NotFound, Conflict):  # the instance ended: nothing waits for this timer
        await finish_timer(conn, timer_id, "cancelled", as_of)
        return 1
    fired = await services.flows.fire_timer(instance, timer)
    await store.save_instance(conn, instance.row)
    await finish_timer(conn, timer_id, "fired" if fired else "cancelled", as_of)
    return 1
