"""Task commands of a flow — approve, reject, send back, transfer, add approver, claim,
complete — and withdrawal; a part of the flow runtime (``FlowRuntime`` mixes it in)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import BadRequest, Conflict, PermissionDenied, Problem, ValidationFailed
from loom.metamodel.flows import START, UserTask
from loom.metamodel.i18n import message, register_messages
from loom.platform.flows import store
from loom.platform.flows.instance import Instance
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import Access
from loom.platform.storage.system_tables import tasks

register_messages({
    "flow_not_writable_here": {"en": "{label} cannot be changed at this step",
                               "zh-CN": "此步骤不能修改{label}"},
    "flow_values_action": {"en": "Fields are filled in with approve, complete or reject",
                           "zh-CN": "只能在同意、完成或驳回时填写字段"},
})

APPROVAL_ACTIONS = ("approve", "reject", "send_back", "transfer", "add_approver")
TASK_ACTIONS = {"approval": APPROVAL_ACTIONS, "handle": ("complete", "send_back", "transfer"),
                "fill": ("complete", "send_back", "transfer"), "resubmit": ("complete",)}


class TaskCommands:
    """What people do with a flow's tasks. Expects the FlowRuntime it is mixed into."""

    async def act(self, instance: Instance, task_id: int, action: str, *,
                  comment: str | None = None, target_node: str | None = None,
                  user: int | None = None, position: str = "parallel",
                  values: dict[str, Any] | None = None) -> dict[str, Any]:
        conn, actor = instance.conn, instance.actor
        task, activation = await store.task_and_activation(conn, actor.workspace_id, task_id)
        if task["status"] != "open":
            raise Conflict(message("task_not_open", id=task_id, status=task["status"]))
        allowed = (*TASK_ACTIONS.get(task["kind"], APPROVAL_ACTIONS), "claim")
        if action not in allowed:
            raise BadRequest(message("flow_bad_action", action=action,
                                     allowed=", ".join(allowed)))
        self._check_assignee(task, actor, action)
        if values:
            await self._fill_in(instance, activation, action, values)
        # the decision first, then what it sets off (a failure rolls both back)
        self._note(instance, action, node=activation["node"], actor_id=actor.user_id,
                   task_id=task_id, comment=comment, details={"user": user} if user else {})
        if action == "claim":
            await self._update_task(conn, task, assignee_id=actor.user_id)
        elif action == "transfer":
            if user is None:
                raise BadRequest(message("flow_needs_user"))
            await self._update_task(conn, task, assignee_id=user)
        elif action == "add_approver":
            await self._add_approver(instance, task, activation, user, position)
        elif action == "send_back":
            await self._close_task(conn, task, "send_back", comment, instance.now, actor)
            await self._send_back(instance, activation, target_node or START)
        elif action == "reject":
            await self._close_task(conn, task, "reject", comment, instance.now, actor)
            await self._end_activation(instance, activation, "done")
            if _others_open(activation):
                await self._cancel_tasks(conn, activation["id"], instance.now)
            await self._advance(instance, activation["node"], "reject", activation["branch"])
        else:  # approve / complete
            await self._close_task(conn, task, "approve" if action == "approve" else "complete",
                                   comment, instance.now, actor)
            await self._approved(instance, activation, task)
        await self.save(instance)
        return dict(task)  # as written (no second read)

    async def _fill_in(self: Any, instance: Instance, activation: dict[str, Any],
                       action: str, values: dict[str, Any]) -> None:
        """Fields the assignee fills in with a decision: only those the node makes
        writable (``field_permissions``), through the write pipeline."""
        node = instance.flow.spec.nodes.get(activation["node"])
        writable = frozenset(name for name, level in getattr(node, "field_permissions", {})
                             .items() if level == "write")
        if action not in ("approve", "complete", "reject"):
            raise BadRequest(message("flow_values_action"))
        spec = instance.runtime.entity(instance.flow.spec.entity)
        refused = [Problem(name, message("flow_not_writable_here", label=spec.field_label(name)),
                           code="read_only") for name in values if name not in writable]
        if refused:
            raise ValidationFailed(message("validation_failed", count=len(refused)), refused)
        instance.record = None  # read again, after the save's hooks and rules
        await self.pipeline.update(instance.conn, instance.runtime,
                                   instance.actor.via("flow"), instance.flow.spec.entity,
                                   instance.row["record_id"], values, budget=instance.budget,
                                   access=Access(writable=writable))

    def _check_assignee(self, task: dict[str, Any], actor: Actor, action: str) -> None:
        if action == "claim":
            if task["assignee_id"] is None and (actor.user_id in (task["candidates"] or [])
                                                or actor.is_admin):
                return
        elif task["assignee_id"] == actor.user_id or actor.is_admin:
            return
        raise PermissionDenied(message("flow_not_assignee"))

    async def _update_task(self, conn: AsyncConnection, task: dict[str, Any],
                           **values: Any) -> None:
        values["version"] = task["version"] + 1
        await conn.execute(update(tasks).where(tasks.c.id == task["id"]).values(**values))
        task.update(values)

    async def _close_task(self, conn: AsyncConnection, task: dict[str, Any], outcome: str,
                          comment: str | None, now: datetime, actor: Actor) -> None:
        await self._update_task(conn, task, status="done", outcome=outcome, comment=comment,
                                completed_at=now, completed_by=actor.user_id)

    async def _approved(self, instance: Instance, activation: dict[str, Any],
                        task: dict[str, Any]) -> None:
        conn, now = instance.conn, instance.now
        if task["kind"] == "resubmit":
            await self._end_activation(instance, activation, "done")
            back = activation["state"].get("return_to")
            if back:
                await self._reopen(instance, back, activation["branch"])
            else:
                await self._advance(instance, START, None, [])
            return
        state = dict(activation["state"])
        state["approved"] = state.get("approved", 0) + 1
        node: UserTask = instance.flow.spec.nodes[activation["node"]]  # type: ignore[assignment]
        if state["approved"] < state.get("needed", 1):
            queue = list(state.get("queue") or [])
            if state.get("mode") == "sequential" and queue:
                await self._task(instance, activation["id"], node, node.label, queue.pop(0),
                                 task["due_at"])
                state["queue"] = queue
            await store.save_activation_state(conn, activation, state)
            return
        await self._end_activation(instance, activation, "done", state)
        if _others_open(activation):
            await self._cancel_tasks(conn, activation["id"], now)
        if state.get("return_to"):  # sent back by a node that wants it straight back
            await self._reopen(instance, state["return_to"], activation["branch"])
            return
        await self._advance(instance, activation["node"], "approve", activation["branch"])

    async def _add_approver(self, instance: Instance, task: dict[str, Any],
                            activation: dict[str, Any], user: int | None,
                            position: str) -> None:
        if user is None:
            raise BadRequest(message("flow_needs_user"))
        node: UserTask = instance.flow.spec.nodes[activation["node"]]  # type: ignore[assignment]
        state = dict(activation["state"])
        title = node.label
        if position == "after":  # the added approver comes once this task is approved
            state["queue"] = [user, *state.get("queue", [])]
            state["mode"] = "sequential"
            state["needed"] = state.get("needed", 1) + 1
        elif position == "before":  # the added approver first, then this task's assignee
            await self._update_task(instance.conn, task, status="cancelled", outcome="deferred",
                                    completed_at=instance.now)
            state["queue"] = [task["assignee_id"], *state.get("queue", [])]
            state["mode"] = "sequential"
            state["needed"] = state.get("needed", 1) + 1
            await self._task(instance, activation["id"], node, title, user, task["due_at"])
        else:  # parallel: one more approval needed, at the same time
            state["needed"] = state.get("needed", 1) + 1
            await self._task(instance, activation["id"], node, title, user, task["due_at"])
        await store.save_activation_state(instance.conn, activation, state)

    async def _send_back(self, instance: Instance, activation: dict[str, Any],
                         target: str) -> None:
        conn, now = instance.conn, instance.now
        handled = await self._handled_nodes(instance)
        if target != START and target not in handled:
            raise BadRequest(message("flow_send_back_target",
                                     handled=", ".join([START, *sorted(handled)])))
        for other in await store.active_activations(conn, instance.id):
            await self._end_activation(instance, other, "cancelled")
            await self._cancel_tasks(conn, other["id"], now)
        node: UserTask = instance.flow.spec.nodes[activation["node"]]  # type: ignore[assignment]
        return_to = activation["node"] if node.resubmit == "return_to_me" else None
        instance.row["joins"] = {}
        if target == START:
            state = {"mode": "single", "queue": [], "needed": 1, "approved": 0,
                     "return_to": return_to}
            resubmit = await store.insert_activation(conn, instance.id, START, [], now, state)
            title = message("flow_resubmit", label=node.label)
            await self._task(instance, resubmit, node, title, instance.row["initiator_id"],
                             None, kind="resubmit")
            return
        await self._reopen(instance, target, [], return_to)

    async def _reopen(self, instance: Instance, node_id: str, branch: list[str],
                      return_to: str | None = None) -> None:
        node = instance.flow.spec.nodes[node_id]
        data, _env = await self._data(instance)
        if isinstance(node, UserTask):
            await self._open_task(instance, node_id, node, branch, data, return_to)

    async def _handled_nodes(self: Any, instance: Instance) -> set[str]:
        await self._flush_history(instance)  # this command's decisions count too
        done = [h for h in await store.history(instance.conn, instance.id)
                if h["event"] in ("approve", "complete")]
        return {h["node"] for h in done if h["node"] and h["node"] != START}

    async def withdraw(self, instance: Instance, comment: str | None = None) -> None:
        spec = instance.flow.spec
        actor = instance.actor
        if actor.user_id != instance.row["initiator_id"] and not actor.is_admin:
            raise PermissionDenied(message("flow_only_initiator"))
        if spec.withdraw == "never" or (spec.withdraw == "before_action"
                                        and await self._handled_nodes(instance)):
            raise Conflict(message("flow_no_withdraw"))
        self._note(instance, "withdraw", actor_id=actor.user_id, comment=comment)
        await self._finish(instance, "withdrawn", "withdrawn")


def _others_open(activation: dict[str, Any]) -> bool:
    """Whether the node may have other open tasks to cancel once it is done: a node that
    asks one person (and no more were added) has just the one."""
    state = activation["state"]
    return state.get("mode") != "single" or state.get("needed", 1) != 1
