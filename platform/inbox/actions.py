"""What people may do with tasks: see their own (administrators: anyone's), and act on
one they are assigned.

Two kinds of task share the inbox. A to-do created by a rule can only be completed. A
flow's task (it belongs to an activation) is handed to the flow runtime, which knows its
node: approve, reject, send back, transfer, add an approver, claim from a pool, complete.
For a flow task the instance is locked before the task — the order every flow command
takes — so two commands never wait on each other in opposite order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import Conflict, NotFound, PermissionDenied, Problem, ValidationFailed
from loom.metamodel.i18n import message, register_messages
from loom.platform.compiled.app import AppRuntime
from loom.platform.flows.commands import APPROVAL_ACTIONS
from loom.platform.flows.commands import TASK_ACTIONS as FLOW_TASK_ACTIONS
from loom.platform.flows.instance import Instance
from loom.platform.flows.runtime import FlowRuntime
from loom.platform.outbox.notifications import shown_texts
from loom.platform.records.titles import record_titles
from loom.platform.security.actors import Actor
from loom.platform.storage.system_tables import tasks, users
from loom.platform.tasks.store import complete_task, get_task, list_tasks

# The actions of a rule's to-do while it is open.
TODO_ACTIONS: tuple[str, ...] = ("complete",)
PUBLIC = ("id", "entity", "record_id", "kind", "title", "notes", "assignee_id", "candidates",
          "status", "outcome", "comment", "due_at", "source_rule", "version", "created_at",
          "completed_at", "completed_by")
RuntimeAt = Callable[[AsyncConnection, int, int], Awaitable[AppRuntime]]

register_messages({
    "task_action_unknown": {
        "en": "'{action}' is not an action of this task; it allows: {allowed}",
        "zh-CN": "“{action}”不是此任务可执行的操作；可执行的操作：{allowed}",
    },
    "task_not_yours": {"en": "Only the task's assignee or an administrator may do this",
                       "zh-CN": "只有任务的处理人或管理员可以执行此操作"},
    "tasks_only_own": {"en": "You may only list your own tasks",
                       "zh-CN": "您只能查看自己的任务"},
    "task_no_user": {"en": "There is no active user '{user}'",
                     "zh-CN": "不存在有效用户“{user}”"},
})


@dataclass(frozen=True)
class TaskCommand:
    """One action on a task, as a person asked for it."""

    action: str
    comment: str | None = None
    target_node: str | None = None   # send_back: where to (default: the start)
    user: int | str | None = None    # transfer / add_approver: an id or an email
    position: str = "parallel"       # add_approver: before, after or parallel
    values: dict[str, Any] | None = None  # fields filled in at this step (flow tasks)


def allowed_actions(task: dict[str, Any]) -> list[str]:
    """What may be done with the task now."""
    if task["status"] != "open":
        return []
    if task.get("activation_id") is None:
        return list(TODO_ACTIONS)
    if task["assignee_id"] is None:
        return ["claim"]
    return list(FLOW_TASK_ACTIONS.get(task["kind"], APPROVAL_ACTIONS))


def task_json(task: dict[str, Any], locale: str) -> dict[str, Any]:
    """A task as its reader sees it, in their language, with the actions it allows now."""
    body = {name: task.get(name) for name in PUBLIC}
    body.update(shown_texts(task, ("title", "notes"), locale))
    body["flow_task"] = task.get("activation_id") is not None
    body["actions"] = allowed_actions(task)
    return body


async def visible_tasks(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, *,
                        assignee_id: int | None, status: str | None, entity: str | None,
                        record_id: int | None, limit: int, now: datetime,
                        locale: str) -> list[dict[str, Any]]:
    """The app's tasks matching the filters; someone who is not an administrator sees
    only their own, whatever they ask for. Each names its record's title where the reader
    may see it (``record_title``; else null)."""
    if not actor.is_admin:
        if assignee_id is not None and assignee_id != actor.user_id:
            raise PermissionDenied(message("tasks_only_own"))
        assignee_id = actor.user_id if actor.user_id is not None else -1
    found = await list_tasks(conn, runtime.workspace_id, app_id=runtime.app_id,
                             assignee_id=assignee_id, status=status, entity=entity,
                             record_id=record_id, limit=limit)
    titles = await record_titles(conn, runtime, actor, [
        (task["entity"], task["record_id"]) for task in found
        if task["entity"] and task["record_id"]], now)
    return [{**task_json(task, locale),
             "record_title": titles.get((task["entity"], task["record_id"]))}
            for task in found]


async def act_on_task(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                      task_id: int, command: TaskCommand, *, now: datetime,
                      flows: FlowRuntime, runtime_at: RuntimeAt, locale: str,
                      expected_version: int | None = None) -> dict[str, Any]:
    """Carry out ``command`` on a task of this app; returns the task afterwards, in
    ``locale``."""
    async def runtime_of(row: Any) -> AppRuntime:  # the version the instance is pinned to
        if row["app_id"] != runtime.app_id:
            raise NotFound(message("task_not_found", id=task_id))
        return await runtime_at(conn, row["app_id"], row["app_version"])

    # a flow's task: its instance locked first (the order every flow command takes)
    instance = await flows.instance_of_task(conn, runtime_of, actor, task_id, now)
    if instance is not None:
        done = await _flow_action(conn, actor, task_id, instance, command, flows,
                                  expected_version)
        return task_json(done, locale)
    task = await get_task(conn, runtime.workspace_id, task_id)
    if task["app_id"] != runtime.app_id:
        raise NotFound(message("task_not_found", id=task_id))
    if task["activation_id"] is not None:  # its flow has no instance (deleted)
        raise NotFound(message("task_not_found", id=task_id))
    if not actor.is_admin and task["assignee_id"] != actor.user_id:
        raise PermissionDenied(message("task_not_yours"))
    if command.action not in TODO_ACTIONS:
        text = message("task_action_unknown", action=command.action,
                       allowed=", ".join(TODO_ACTIONS))
        raise ValidationFailed(text, [Problem("action", text, code="task_action")])
    done = await complete_task(conn, runtime.workspace_id, task_id, actor.user_id, now,
                               expected_version=expected_version)
    await conn.execute(update(tasks).where(tasks.c.id == task_id).values(
        outcome="complete", comment=command.comment))
    return task_json({**done, "outcome": "complete", "comment": command.comment}, locale)


async def _flow_action(conn: AsyncConnection, actor: Actor, task_id: int, instance: Instance,
                       command: TaskCommand, flows: FlowRuntime,
                       expected_version: int | None) -> dict[str, Any]:
    if expected_version is not None:
        current = await get_task(conn, actor.workspace_id, task_id, lock=True)
        if current["version"] != expected_version:
            raise Conflict(message("task_stale", id=task_id, current=current["version"]))
    user = await _user_id(conn, actor, command.user)
    return await flows.act(instance, task_id, command.action, comment=command.comment,
                           target_node=command.target_node, user=user,
                           position=command.position, values=command.values)


async def _user_id(conn: AsyncConnection, actor: Actor, user: int | str | None) -> int | None:
    """A user of the caller's workspace named by id or email."""
    if user is None:
        return None
    column = users.c.id if isinstance(user, int) else users.c.email
    value = user if isinstance(user, int) else user.strip().lower()
    found = await conn.scalar(select(users.c.id).where(
        column == value, users.c.workspace_id == actor.workspace_id,
        users.c.active.is_(True)))
    if found is None:
        text = message("task_no_user", user=user)
        raise ValidationFailed(text, [Problem("user", text, code="unknown_user")])
    return int(found)
