"""Rows of flow instances, activations and their append-only history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import Conflict, NotFound
from loom.metamodel.i18n import message, register_messages
from loom.platform import metrics
from loom.platform.storage.system_tables import (
    flow_activations,
    flow_history,
    flow_instances,
    tasks,
)
from loom.platform.tasks.store import cancel_timers

register_messages({
    "flow_instance_not_found": {"en": "There is no flow instance {id}",
                                "zh-CN": "不存在流程实例 {id}"},
    "flow_instance_ended": {"en": "The flow has already ended ({status})",
                            "zh-CN": "流程已结束（{status}）"},
})


async def insert_instance(conn: AsyncConnection, **values: Any) -> dict[str, Any]:
    """A new running instance; its whole row (no second read: nobody else sees it yet)."""
    result = await conn.execute(insert(flow_instances).values(
        status="running", joins={}, step=0, version=1, **values).returning(*flow_instances.c))
    return dict(result.mappings().one())


async def load_instance(conn: AsyncConnection, workspace_id: int, instance_id: int, *,
                        lock: bool = False, running: bool = True) -> dict[str, Any]:
    query = select(flow_instances).where(flow_instances.c.id == instance_id,
                                         flow_instances.c.workspace_id == workspace_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFound(message("flow_instance_not_found", id=instance_id))
    return usable(dict(row), running)


async def instance_of_task(conn: AsyncConnection, workspace_id: int,
                           task_id: int) -> dict[str, Any] | None:
    """The instance a task belongs to, locked — found from the task in the same read;
    None for a task that is no flow's (or no task). Whether it still runs: ``usable``."""
    activation = (select(flow_activations.c.instance_id)
                  .join(tasks, tasks.c.activation_id == flow_activations.c.id)
                  .where(tasks.c.id == task_id, tasks.c.workspace_id == workspace_id)
                  .scalar_subquery())
    row = (await conn.execute(select(flow_instances).where(
        flow_instances.c.id == activation).with_for_update())).mappings().first()
    return dict(row) if row is not None else None


def usable(row: dict[str, Any], running: bool = True) -> dict[str, Any]:
    """The instance, if it still runs (when ``running``); else a 409."""
    if running and row["status"] != "running":
        raise Conflict(message("flow_instance_ended", status=row["status"]))
    return row


async def save_instance(conn: AsyncConnection, instance: dict[str, Any], **values: Any) -> None:
    """Store the instance's changed state, one version up."""
    values["version"] = instance["version"] + 1
    await conn.execute(update(flow_instances).where(flow_instances.c.id == instance["id"])
                       .values(**values))
    instance.update(values)


async def task_and_activation(conn: AsyncConnection, workspace_id: int,
                              task_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A task of a flow and its node's activation, both locked (the instance is locked
    already, so the order is the one every command takes) — one read."""
    query = (select(tasks, *(column.label(f"activation__{column.name}")
                             for column in flow_activations.c))
             .join(flow_activations, flow_activations.c.id == tasks.c.activation_id)
             .where(tasks.c.id == task_id, tasks.c.workspace_id == workspace_id)
             .with_for_update())
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFound(message("task_not_found", id=task_id))
    task: dict[str, Any] = {}
    activation: dict[str, Any] = {}
    for key, value in row.items():
        if key.startswith("activation__"):
            activation[key.removeprefix("activation__")] = value
        else:
            task[key] = value
    return task, activation


async def insert_activation(conn: AsyncConnection, instance_id: int, node: str,
                            branch: list[str], now: datetime, state: dict[str, Any]) -> int:
    result = await conn.execute(insert(flow_activations).values(
        instance_id=instance_id, node=node, branch=branch, status="active", state=state,
        version=1, started_at=now).returning(flow_activations.c.id))
    return int(result.scalar_one())


async def load_activation(conn: AsyncConnection, activation_id: int) -> dict[str, Any]:
    query = select(flow_activations).where(flow_activations.c.id == activation_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()  # countersign completions queue on this row
    return dict((await conn.execute(query)).mappings().one())


async def active_activations(conn: AsyncConnection, instance_id: int) -> list[dict[str, Any]]:
    rows = await conn.execute(select(flow_activations).where(
        flow_activations.c.instance_id == instance_id, flow_activations.c.status == "active")
        .order_by(flow_activations.c.id))
    return [dict(row) for row in rows.mappings()]


async def end_activation(conn: AsyncConnection, activation: dict[str, Any], status: str,
                         now: datetime, state: dict[str, Any] | None = None, *,
                         timers: bool = True) -> None:
    """The node is done waiting; ``timers=False`` when it cannot have any (no query)."""
    values: dict[str, Any] = {"status": status, "ended_at": now,
                              "version": activation["version"] + 1}
    if state is not None:
        values["state"] = state
    await conn.execute(update(flow_activations).where(
        flow_activations.c.id == activation["id"]).values(**values))
    activation.update(values)
    if timers:
        await cancel_timers(conn, activation["id"], now)  # the node no longer waits


async def save_activation_state(conn: AsyncConnection, activation: dict[str, Any],
                                state: dict[str, Any]) -> None:
    await conn.execute(update(flow_activations).where(
        flow_activations.c.id == activation["id"]).values(
        state=state, version=activation["version"] + 1))
    activation.update(state=state, version=activation["version"] + 1)


def history_row(instance_id: int, now: datetime, event: str, *, node: str | None = None,
                actor_id: int | None = None, task_id: int | None = None,
                comment: str | None = None,
                details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"instance_id": instance_id, "at": now, "node": node, "event": event,
            "actor_id": actor_id, "task_id": task_id, "comment": comment,
            "details": details or {}}


async def record_history(conn: AsyncConnection, instance_id: int, now: datetime, event: str,
                         **values: Any) -> None:
    await append_history(conn, [history_row(instance_id, now, event, **values)])


async def append_history(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """History rows in their order, in one go (an executemany: one statement, compiled
    once, where a multi-row VALUES would be compiled anew for each call)."""
    if not rows:
        return
    await conn.execute(insert(flow_history), rows)
    for row in rows:
        metrics.flow_steps.labels(row["event"]).inc()


async def history(conn: AsyncConnection, instance_id: int) -> list[dict[str, Any]]:
    rows = await conn.execute(select(flow_history).where(
        flow_history.c.instance_id == instance_id).order_by(flow_history.c.id))
    return [{"at": r["at"], "node": r["node"], "event": r["event"], "actor_id": r["actor_id"],
             "task_id": r["task_id"], "comment": r["comment"], "details": r["details"]}
            for r in rows.mappings()]


async def list_instances(conn: AsyncConnection, workspace_id: int, app_id: int, *,
                         entity: str | None = None, record_id: int | None = None,
                         status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    query = select(flow_instances).where(flow_instances.c.workspace_id == workspace_id,
                                         flow_instances.c.app_id == app_id)
    for column, value in ((flow_instances.c.entity, entity),
                          (flow_instances.c.record_id, record_id),
                          (flow_instances.c.status, status)):
        if value is not None:
            query = query.where(column == value)
    rows = await conn.execute(query.order_by(flow_instances.c.id.desc()).limit(limit))
    return [dict(row) for row in rows.mappings()]


async def children(conn: AsyncConnection, instance_id: int) -> list[dict[str, Any]]:
    """Running sub-flow instances started by this instance's nodes."""
    own = select(flow_activations.c.id).where(flow_activations.c.instance_id == instance_id)
    rows = await conn.execute(select(flow_instances).where(
        flow_instances.c.parent_activation_id.in_(own), flow_instances.c.status == "running")
        .order_by(flow_instances.c.id))
    return [dict(row) for row in rows.mappings()]
