"""Time in flows: ``wait`` nodes (a duration, a date field, a condition on the record, with
a timeout), timers on user tasks (remind, escalate, reassign, add an approver,
auto-approve/-reject/-return, leave by the ``timeout`` edge) and retries of failed action
nodes. Timers are UTC due times stored with their node's activation and cancelled when it
ends; the worker fires them at least once after any downtime and each checks first that
the instance still waits there (a stale timer does nothing)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.expressions import compile_condition
from loom.engines.timing import parse_duration
from loom.metamodel.flows import FlowTimer, UserTask, Wait
from loom.metamodel.i18n import message, register_messages
from loom.platform.flows import store
from loom.platform.flows.instance import Instance
from loom.platform.flows.sla import SLA_TIMER_KINDS
from loom.platform.outbox.notifications import notify
from loom.platform.storage.system_tables import tasks
from loom.platform.tasks.store import add_timer

FLOW_TIMER_KINDS = ("flow_timer", "flow_wait", "flow_timeout", "flow_retry",
                    *SLA_TIMER_KINDS)

register_messages({
    "flow_remind": {"en": "Reminder: {label}", "zh-CN": "提醒：{label}"},
    "flow_escalate": {"en": "Overdue, escalated to you: {label}",
                      "zh-CN": "已超时，升级给您：{label}"},
})


class Waiting:
    """Mixed into the FlowRuntime: entering waits, scheduling and firing flow timers."""

    async def _enter_wait(self: Any, instance: Instance, node_id: str, node: Wait,
                          branch: list[str], data: dict[str, Any]) -> None:
        activation = await store.insert_activation(instance.conn, instance.id, node_id,
                                                   branch, instance.now, {"wait": True})
        instance.opened.add(activation)
        if node.condition is not None and await self._wait_condition(instance, node, data):
            await self._end_activation(instance, {"id": activation, "version": 1,
                                                  "node": node_id}, "done")
            await self._advance(instance, node_id, None, branch)
            return
        due = None
        if node.duration:
            due = parse_duration(node.duration).after(instance.now)
        elif node.until_field:
            due = moment_of(data.get(node.until_field), instance)
        if due is not None:
            await self._timer(instance, "flow_wait", activation, node_id, due)
        if node.timeout:
            await self._timer(instance, "flow_timeout", activation, node_id,
                              parse_duration(node.timeout).after(instance.now))

    async def _wait_condition(self: Any, instance: Instance, node: Wait,
                              data: dict[str, Any]) -> bool:
        from loom.engines.expressions import Scope

        scope = Scope.for_entity(instance.runtime.doc, instance.flow.spec.entity)
        _data, env = await self._data(instance)
        return compile_condition(node.condition, scope).holds(data, env)

    async def _timer(self: Any, instance: Instance, kind: str, activation: int, node: str,
                     due: datetime, **payload: Any) -> None:
        await add_timer(instance.conn, workspace_id=instance.runtime.workspace_id,
                        app_id=instance.runtime.app_id, kind=kind, due_at=due,
                        activation_id=activation,
                        payload={"instance": instance.id, "node": node, **payload})

    async def _task_timers(self: Any, instance: Instance, activation: int, node_id: str,
                           node: UserTask, due: datetime | None) -> None:
        for index, timer in enumerate(node.timers):
            at = None
            if timer.after:
                at = parse_duration(timer.after).after(instance.now)
            elif timer.before_due and due is not None:
                at = parse_duration(timer.before_due).before(due)
            if at is not None:
                await self._timer(instance, "flow_timer", activation, node_id, at, timer=index)

    async def recheck_waits(self: Any, instance: Instance) -> None:
        """After a save of the record: waits whose condition now holds go on."""
        data, _env = await self._data(instance)
        for activation in await store.active_activations(instance.conn, instance.id):
            node = instance.flow.spec.nodes.get(activation["node"])
            if isinstance(node, Wait) and node.condition is not None and \
                    await self._wait_condition(instance, node, data):
                await self._end_activation(instance, activation, "done")
                await self._advance(instance, activation["node"], None, activation["branch"])
        await self.save(instance)

    async def fire_timer(self: Any, instance: Instance, timer: dict[str, Any]) -> bool:
        """Do what a due timer says; False when its node no longer waits (stale)."""
        fired = await self._fire_timer(instance, timer)
        await self.save(instance)
        return fired

    async def _fire_timer(self: Any, instance: Instance, timer: dict[str, Any]) -> bool:
        if timer["kind"] in SLA_TIMER_KINDS:
            return await self.fire_sla(instance, timer)
        activation = await store.load_activation(instance.conn, timer["activation_id"])
        if activation["status"] != "active":
            return False
        kind, node_id = timer["kind"], activation["node"]
        if kind == "flow_wait":
            await self._end_activation(instance, activation, "done")
            await self._advance(instance, node_id, None, activation["branch"])
        elif kind == "flow_timeout":
            await self._time_out(instance, activation)
        elif kind == "flow_retry":
            await self._end_activation(instance, activation, "cancelled")
            await self._retry_action(instance, activation)
        else:
            node: UserTask = instance.flow.spec.nodes[node_id]  # type: ignore[assignment]
            await self._task_timer(instance, activation, node,
                                   node.timers[timer["payload"]["timer"]])
        self._note(instance, "timer", node=node_id, details={"kind": kind})
        return True

    async def _time_out(self: Any, instance: Instance, activation: dict[str, Any]) -> None:
        await self._end_activation(instance, activation, "done")
        await self._cancel_tasks(instance.conn, activation["id"], instance.now)
        await self._advance(instance, activation["node"], "timeout", activation["branch"])

    async def _task_timer(self: Any, instance: Instance, activation: dict[str, Any],
                          node: UserTask, timer: FlowTimer) -> None:
        conn = instance.conn
        open_tasks = await _open_tasks(conn, activation["id"])
        label = node.label
        if timer.action in ("auto_approve", "auto_reject"):
            verb = "approve" if timer.action == "auto_approve" else "reject"
            for task in open_tasks:
                if instance.row["status"] == "running":
                    fresh = await store.load_activation(conn, activation["id"])
                    if fresh["status"] == "active":
                        await self.act(instance, task["id"], verb, comment=timer.action)
            return
        if timer.action == "auto_return":
            if open_tasks:
                await self.act(instance, open_tasks[0]["id"], "send_back",
                               comment=timer.action)
            return
        if timer.action == "timeout":
            await self._time_out(instance, activation)
            return
        people = await self._people(instance, timer.to)
        if timer.action == "remind":
            await self._tell(instance, [t["assignee_id"] for t in open_tasks
                                        if t["assignee_id"]], "flow_remind", label)
        elif timer.action == "escalate":
            await self._tell(instance, people, "flow_escalate", label)
        elif timer.action == "reassign" and people:
            for task in open_tasks:
                await self._update_task(conn, task, assignee_id=people[0])
        elif timer.action == "add_approver" and open_tasks:
            for person in people:
                await self.act(instance, open_tasks[0]["id"], "add_approver", user=person)

    async def _people(self: Any, instance: Instance, assignees: list[Any]) -> list[int]:
        from loom.platform.flows.assignees import FlowAssignees

        data, _env = await self._data(instance)
        resolver = FlowAssignees(instance.conn, instance.runtime, instance.actor,
                                 instance.flow.spec.entity, data, instance.row["initiator_id"])
        found: list[int] = []
        for assignee in assignees:
            found += [u for u in await resolver.resolve(assignee) if u not in found]
        return found

    async def _tell(self: Any, instance: Instance, people: list[int], key: str,
                    label: Any) -> None:
        await notify(instance.conn, workspace_id=instance.runtime.workspace_id, user_ids=people,
                     title=message(key, label=label), body=None, now=instance.now,
                     locale=instance.runtime.doc.app.default_locale,
                     app_id=instance.runtime.app_id, entity=instance.flow.spec.entity,
                     record_id=instance.row["record_id"])


async def _open_tasks(conn: AsyncConnection, activation_id: int) -> list[dict[str, Any]]:
    rows = await conn.execute(select(tasks).where(tasks.c.activation_id == activation_id,
                                                  tasks.c.status == "open")
                              .order_by(tasks.c.id))
    return [dict(row) for row in rows.mappings()]


def moment_of(value: Any, instance: Instance) -> datetime | None:
    """When a date (its start, in the app's zone) or a datetime field's value comes."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    zone = ZoneInfo(instance.runtime.doc.app.timezone)
    return datetime.combine(value, time(0, 0), tzinfo=zone)
