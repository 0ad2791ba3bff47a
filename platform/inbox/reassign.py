"""Handing a person's open work to someone else (when they leave): their open tasks, their
place among the candidates of pooled tasks, and their turn in sequential approvals still
queued in running flows. Flow tasks get a history entry, as a transfer (转交) would."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.platform.flows import store as flow_store
from loom.platform.security.actors import Actor
from loom.platform.security.departures import Reassigner
from loom.platform.storage.system_tables import flow_activations, flow_instances, tasks


async def reassign_tasks(conn: AsyncConnection, actor: Actor, from_user: int, to_user: int,
                         now: datetime) -> int:
    return await reassign_open_tasks(conn, actor.workspace_id, from_user, to_user, now,
                                     actor_id=actor.user_id)


async def reassign_open_tasks(conn: AsyncConnection, workspace_id: int, from_user: int,
                              to_user: int, now: datetime, *,
                              actor_id: int | None) -> int:
    """Move ``from_user``'s open work in the workspace to ``to_user``; how many tasks."""
    assigned = (await conn.execute(select(tasks).where(
        tasks.c.workspace_id == workspace_id, tasks.c.status == "open",
        tasks.c.assignee_id == from_user).with_for_update())).mappings().all()
    for task in assigned:
        await conn.execute(update(tasks).where(tasks.c.id == task["id"]).values(
            assignee_id=to_user, version=task["version"] + 1))
        await _note_in_flow(conn, task, to_user, now, actor_id)
    pools = await conn.execute(select(tasks.c.id, tasks.c.candidates).where(
        tasks.c.workspace_id == workspace_id, tasks.c.status == "open",
        tasks.c.assignee_id.is_(None), tasks.c.candidates.is_not(None)))
    pooled = 0
    for task_id in [row.id for row in pools if from_user in (row.candidates or [])]:
        task = (await conn.execute(select(tasks).where(tasks.c.id == task_id)
                                   .with_for_update())).mappings().one()
        candidates = list(task["candidates"] or [])
        if task["status"] != "open" or from_user not in candidates:
            continue
        replaced = list(dict.fromkeys(to_user if c == from_user else c for c in candidates))
        await conn.execute(update(tasks).where(tasks.c.id == task_id).values(
            candidates=replaced, version=task["version"] + 1))
        pooled += 1
    await _replace_in_queues(conn, workspace_id, from_user, to_user)
    return len(assigned) + pooled


async def _note_in_flow(conn: AsyncConnection, task: dict, to_user: int, now: datetime,
                        actor_id: int | None) -> None:
    if task["activation_id"] is None:
        return
    activation = (await conn.execute(select(flow_activations.c.instance_id,
                                            flow_activations.c.node).where(
        flow_activations.c.id == task["activation_id"]))).first()
    if activation is None:
        return
    await flow_store.record_history(conn, activation.instance_id, now, "transfer",
                                    node=activation.node,
                                    actor_id=actor_id, task_id=task["id"],
                                    details={"user": to_user, "reason": "deactivated",
                                             "from": task["assignee_id"]})


async def _replace_in_queues(conn: AsyncConnection, workspace_id: int, from_user: int,
                             to_user: int) -> None:
    """Sequential approvals keep the approvers still to come in the activation's state."""
    waiting = await conn.execute(
        select(flow_activations.c.id, flow_activations.c.state)
        .join(flow_instances, flow_instances.c.id == flow_activations.c.instance_id)
        .where(flow_instances.c.workspace_id == workspace_id,
               flow_instances.c.status == "running", flow_activations.c.status == "active"))
    queued = [row.id for row in waiting if from_user in ((row.state or {}).get("queue") or [])]
    for activation_id in queued:
        row = (await conn.execute(select(flow_activations).where(
            flow_activations.c.id == activation_id).with_for_update())).mappings().one()
        state = dict(row["state"] or {})
        queue = state.get("queue") or []
        if from_user in queue:  # still, now that it is locked
            state["queue"] = [to_user if user == from_user else user for user in queue]
            await flow_store.save_activation_state(conn, dict(row), state)


# what a departure hands over besides the records (platform/records/handover.py)
REASSIGNERS: Mapping[str, Reassigner] = {"tasks": reassign_tasks}
