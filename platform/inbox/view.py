"""One task as its assignee sees it: the task and the record it is about, with the fields
the task's flow step hides left out and each shown field marked read or write (the form of
an approval step)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.field_values.coercion import to_json
from loom.metamodel.errors import NotFound, PermissionDenied
from loom.metamodel.i18n import message
from loom.platform.compiled.app import AppRuntime
from loom.platform.inbox.actions import RuntimeAt, task_json
from loom.platform.security.actors import Actor
from loom.platform.storage.system_tables import flow_activations, flow_instances
from loom.platform.tasks.store import get_task


async def task_view(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, task_id: int,
                    pipeline: Any, runtime_at: RuntimeAt, locale: str) -> dict[str, Any]:
    task = await get_task(conn, runtime.workspace_id, task_id)
    if task["app_id"] != runtime.app_id:
        raise NotFound(message("task_not_found", id=task_id))
    mine = task["assignee_id"] == actor.user_id or actor.user_id in (task["candidates"] or [])
    if not (mine or actor.is_admin):
        raise PermissionDenied(message("task_not_yours"))
    pinned, levels = runtime, {}
    if task["activation_id"] is not None:
        row = (await conn.execute(
            select(flow_instances.c.app_version, flow_instances.c.flow,
                   flow_activations.c.node)
            .join(flow_activations, flow_activations.c.instance_id == flow_instances.c.id)
            .where(flow_activations.c.id == task["activation_id"]))).first()
        if row is not None:
            pinned = await runtime_at(conn, runtime.app_id, row[0])
            node = pinned.flows[row[1]].spec.nodes.get(row[2])
            levels = dict(getattr(node, "field_permissions", {}) or {})
    out: dict[str, Any] = {"task": task_json(task, locale), "record": None, "fields": {}}
    if task["entity"] and task["record_id"]:
        spec = pinned.entity(task["entity"])
        record = await pipeline.load(conn, pinned, task["entity"], task["record_id"])
        fields = {name: levels.get(name, "read") for name in spec.stored_fields()}
        out["fields"] = {name: level for name, level in fields.items() if level != "hidden"}
        out["record"] = {name: to_json(value) for name, value in record.items()
                         if fields.get(name, "read") != "hidden"}
    return out
