"""Running flows. Each command (start, approve, reject, send back, transfer, add approver,
claim, complete, withdraw) runs in the caller's transaction: it locks the instance, moves
it to its next waiting points — tasks created, actions done, history appended — and
commits with the record write that caused it (every waiting point is a transaction
boundary). A stale command (a task already handled, a withdrawn instance) is a 409.

The instance runs on the app version it started with; the navigator (engines/flows) decides
where it goes, this module does it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.expressions import Env, ExpressionError
from loom.engines.flows.navigator import Arrival, JoinState
from loom.engines.rules.compiler import compile_steps
from loom.engines.timing import parse_duration
from loom.metamodel.errors import BadRequest, Conflict, LoomError, NotFound
from loom.metamodel.flows import START, ActionNode, End, Subflow, UserTask, Wait
from loom.metamodel.i18n import localize, message, register_messages
from loom.platform.compiled.app import AppRuntime
from loom.platform.flows import store
from loom.platform.flows.assignees import FlowAssignees, reads_record
from loom.platform.flows.commands import TaskCommands
from loom.platform.flows.instance import Instance, state_of
from loom.platform.flows.sla import SlaClocks
from loom.platform.flows.waiting import Waiting, moment_of
from loom.platform.outbox.notifications import notify
from loom.platform.records.context import WriteBudget
from loom.platform.records.evaluation import prepare
from loom.platform.rules.actions import LOCAL_ACTIONS, ActionRunner, Run
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import FULL_ACCESS
from loom.platform.storage.system_tables import flow_instances, tasks
from loom.platform.tasks.store import create_task

register_messages({
    "flow_not_found": {"en": "The app has no flow '{name}'", "zh-CN": "应用中没有流程“{name}”"},
    "flow_running": {"en": "Flow '{name}' is already running for this record (instance {id})",
                     "zh-CN": "该记录已有运行中的流程“{name}”（实例 {id}）"},
    "flow_not_assignee": {"en": "This task is not yours", "zh-CN": "这不是您的任务"},
    "flow_bad_action": {"en": "'{action}' is not possible on this task; possible: {allowed}",
                        "zh-CN": "此任务不能执行“{action}”；可执行：{allowed}"},
    "flow_send_back_target": {
        "en": "A task can be sent back only to the start or to a node already handled "
              "({handled})", "zh-CN": "只能退回到发起人或已处理过的节点（{handled}）"},
    "flow_needs_user": {"en": "Name the user (an email or id)",
                        "zh-CN": "请指定用户（邮箱或编号）"},
    "flow_no_withdraw": {"en": "This flow can no longer be withdrawn",
                         "zh-CN": "该流程已不能撤回"},
    "flow_only_initiator": {"en": "Only the initiator may withdraw the flow",
                            "zh-CN": "只有发起人可以撤回流程"},
    "flow_cc": {"en": "CC: {label}", "zh-CN": "抄送：{label}"},
    "flow_resubmit": {"en": "Resubmit: {label}", "zh-CN": "重新提交：{label}"},
})


class FlowRuntime(TaskCommands, Waiting, SlaClocks):
    def __init__(self, pipeline: Any, runner: ActionRunner, events: Any = None,
                 apps: Any = None) -> None:
        self.pipeline = pipeline
        self.runner = runner
        self.apps = apps  # the AppService: instances run on the version they started on
        self.events = events  # fires flow_event rules: async (instance, event) -> None

    # --- start ------------------------------------------------------------------------------

    async def start(self, conn: AsyncConnection, runtime: AppRuntime, actor: Actor, name: str,
                    record_id: int, now: datetime, *, budget: WriteBudget | None = None,
                    parent_activation: int | None = None) -> int:
        if name not in runtime.doc.flows:
            raise NotFound(message("flow_not_found", name=name))
        flow = runtime.flows[name]
        entity = flow.spec.entity
        record = await self.pipeline.load(conn, runtime, entity, record_id, lock=True)
        running = await conn.scalar(select(flow_instances.c.id).where(
            flow_instances.c.app_id == runtime.app_id, flow_instances.c.entity == entity,
            flow_instances.c.flow == name,
            flow_instances.c.record_id == record_id, flow_instances.c.status == "running"))
        if running is not None:
            raise Conflict(message("flow_running", name=name, id=running))
        row = await store.insert_instance(
            conn, workspace_id=runtime.workspace_id, app_id=runtime.app_id,
            app_version=runtime.version, flow=name, entity=entity, record_id=record_id,
            initiator_id=actor.user_id, started_at=now,
            parent_activation_id=parent_activation)
        instance = Instance(conn, runtime, actor, row, flow, now, budget or WriteBudget(),
                            record=record)
        self._note(instance, "started", node=START, actor_id=actor.user_id)
        await self._fire_event(instance, "started")
        await self.start_slas(instance)
        await self._advance(instance, START, None, [])
        await self.save(instance)
        return instance.id

    async def instance_for(self, conn: AsyncConnection, runtime_of: Any, actor: Actor,
                           instance_id: int, now: datetime) -> Instance:
        """A running instance, locked, with the app version it is pinned to."""
        row = await store.load_instance(conn, actor.workspace_id, instance_id, lock=True)
        runtime = await runtime_of(row)
        return Instance(conn, runtime, actor, row, runtime.flows[row["flow"]], now,
                        WriteBudget())

    async def instance_of_task(self, conn: AsyncConnection, runtime_of: Any, actor: Actor,
                               task_id: int, now: datetime) -> Instance | None:
        """The running instance of a flow's task, locked (None: the task is no flow's)."""
        row = await store.instance_of_task(conn, actor.workspace_id, task_id)
        if row is None:
            return None
        runtime = await runtime_of(row)  # first: it may refuse (another app's task)
        store.usable(row)
        return Instance(conn, runtime, actor, row, runtime.flows[row["flow"]], now,
                        WriteBudget())

    # --- saving ------------------------------------------------------------------------------

    async def save(self, instance: Instance) -> None:
        """Write what the command changed: its history (one INSERT) and the instance's
        state, one version up — once a command, and again only if it changed since (every
        command ends here)."""
        await self._flush_history(instance)
        state = state_of(instance.row)
        changed = {name: value for name, value in state.items()
                   if instance.stored.get(name) != value}
        if instance.saved and not changed:
            return
        await store.save_instance(instance.conn, instance.row, **changed)
        instance.stored, instance.saved = state, True

    def _note(self, instance: Instance, event: str, **values: Any) -> None:
        """A history row, written with the others when the command saves the instance."""
        instance.history.append(store.history_row(instance.id, instance.now, event, **values))

    async def _flush_history(self, instance: Instance) -> None:
        rows, instance.history = instance.history, []
        await store.append_history(instance.conn, rows)

    # --- moving on --------------------------------------------------------------------------

    async def _record(self, instance: Instance) -> dict[str, Any]:
        """The instance's record, read once a command (writes through the flow keep it)."""
        if instance.record is None:
            instance.record = await self.pipeline.load(
                instance.conn, instance.runtime, instance.flow.spec.entity,
                instance.row["record_id"])
        return instance.record

    async def _data(self, instance: Instance) -> tuple[dict[str, Any], Env]:
        return await prepare(instance.conn, instance.runtime, instance.flow.spec.entity,
                             await self._record(instance), instance.flow.expressions(),
                             instance.actor, instance.now)

    async def _advance(self, instance: Instance, node: str, outcome: str | None,
                       branch: list[str]) -> None:
        """``node`` completed: on to the next waiting points."""
        data: dict[str, Any] | None = None
        env: Any = None
        if instance.flow.decides_on_record(node):
            data, env = await self._data(instance)
        joins = JoinState(dict(instance.row["joins"]))
        step = instance.row["step"] + 1
        arrivals = instance.navigator.leave(node, outcome, tuple(branch), data or {}, env,
                                            joins, step)
        instance.row.update(joins=joins.arrived, step=step)  # saved with the command
        if not arrivals and outcome == "reject":
            await self._finish(instance, "rejected", "rejected")
            return
        for arrival in arrivals:
            if instance.row["status"] != "running":
                return
            await self._enter(instance, arrival, data)
        await self._finish_if_idle(instance)

    async def _enter(self, instance: Instance, arrival: Arrival, data: dict[str, Any] | None,
                     attempt: int = 1) -> None:
        node = instance.flow.spec.nodes[arrival.node]
        conn, now = instance.conn, instance.now
        if isinstance(node, UserTask | Wait) and data is None and reads_record(node):
            data, _env = await self._data(instance)
        data = data or {}
        if isinstance(node, End):
            self._note(instance, "reached", node=arrival.node)
            if node.terminate:
                await self._finish(instance, "completed", node.outcome)
            else:
                instance.row["outcome"] = node.outcome
            return
        if isinstance(node, ActionNode):
            noted, record = len(instance.history), instance.record
            try:
                async with conn.begin_nested():  # a failed action leaves nothing behind
                    await self._run_actions(instance, arrival, node)
            except (LoomError, ExpressionError) as exc:
                del instance.history[noted:]
                instance.record = record
                await self._action_failed(instance, arrival, node, exc, attempt)
                return
            await self._advance(instance, arrival.node, None, list(arrival.branch))
            return
        if isinstance(node, UserTask):
            await self._open_task(instance, arrival.node, node, list(arrival.branch), data)
            return
        if isinstance(node, Wait):
            await self._enter_wait(instance, arrival.node, node, list(arrival.branch), data)
            return
        if isinstance(node, Subflow):
            activation = await store.insert_activation(conn, instance.id, arrival.node,
                                                       list(arrival.branch), now, {})
            # the sub-flow may end at once and move this instance on from the database
            await self.save(instance)
            await self.start(conn, instance.runtime, instance.actor, node.flow,
                             instance.row["record_id"], now, budget=instance.budget,
                             parent_activation=activation)
            instance.record = None  # the sub-flow may have written it
            return
        raise BadRequest(f"node '{arrival.node}' of type {node.type} cannot run")

    async def _action_failed(self, instance: Instance, arrival: Arrival, node: ActionNode,
                             error: Exception, attempt: int) -> None:
        """An action node failed: its ``error`` edge if it has one; else it waits for a
        retry with backoff, and after the last one it is an incident an admin retries."""
        detail = str(error)
        if isinstance(error, LoomError):
            detail = "; ".join([error.render_detail("en"), *(
                f"{p.field}: {localize(p.message, 'en')}" if p.field else localize(p.message, "en")
                for p in error.problems)])
        if any(e.outcome == "error" for e in instance.flow.spec.outgoing(arrival.node)):
            self._note(instance, "error", node=arrival.node, details={"error": detail})
            await self._advance(instance, arrival.node, "error", list(arrival.branch))
            return
        retry = attempt <= node.retry.max
        activation = await store.insert_activation(
            instance.conn, instance.id, arrival.node, list(arrival.branch), instance.now,
            {"failed": True, "error": detail, "attempts": attempt, "incident": not retry})
        if retry:
            backoff = parse_duration(node.retry.backoff)
            due = instance.now + backoff.delta * attempt
            await self._timer(instance, "flow_retry", activation, arrival.node, due)
        self._note(instance, "retrying" if retry else "incident", node=arrival.node,
                   details={"error": detail, "attempt": attempt})

    async def _retry_action(self, instance: Instance, activation: dict[str, Any],
                            attempt: int | None = None) -> None:
        data, _env = await self._data(instance)
        tries = attempt if attempt is not None else activation["state"].get("attempts", 0) + 1
        await self._enter(instance, Arrival(activation["node"], tuple(activation["branch"])),
                          data, tries)
        await self._finish_if_idle(instance)

    async def retry_incidents(self, instance: Instance) -> int:
        """An administrator retries the failed action nodes (after fixing the cause)."""
        count = 0
        for activation in await store.active_activations(instance.conn, instance.id):
            if activation["state"].get("failed"):
                await self._end_activation(instance, activation, "cancelled")
                await self._retry_action(instance, activation, attempt=1)
                count += 1
        await self.save(instance)
        return count

    async def _run_actions(self, instance: Instance, arrival: Arrival,
                           node: ActionNode) -> None:
        runtime, entity = instance.runtime, instance.flow.spec.entity
        rule = instance.flow.actions.get(arrival.node)
        if rule is None:  # compiled once per published version
            rule = instance.flow.actions[arrival.node] = compile_steps(
                f"{instance.flow.spec.name}__{arrival.node}"[:40], entity, node.actions, None,
                runtime.doc)
        key = f"flow:{instance.id}:{arrival.node}:{instance.row['step']}"
        record = await self._record(instance)
        compiled = rule.expressions()
        data, env = await prepare(instance.conn, runtime, entity, record, compiled,
                                  instance.actor, instance.now, paths=rule.paths)
        run = Run(instance.conn, runtime, instance.actor, rule, record, data, env, instance.now,
                  instance.budget, key)
        changes: dict[str, Any] = {}
        done = []
        for index, action in enumerate(rule.actions):
            if isinstance(action.spec, LOCAL_ACTIONS):
                changes |= await self.runner.local_changes(run, action, {**record, **changes})
            else:
                if changes:
                    record = await self._write(instance, changes)
                    run.record, changes = dict(record), {}
                done.append(await self.runner.run_action(run, action, index))
                instance.record = None  # an action of its own may have written the record
        if changes:
            await self._write(instance, changes)
        await self._enqueue(instance, run.outbox)
        self._note(instance, "action", node=arrival.node, details={"actions": done})

    async def _write(self, instance: Instance, changes: dict[str, Any]) -> dict[str, Any]:
        instance.record = None  # the save's hooks and rules may change it further
        return await self.pipeline.update(
            instance.conn, instance.runtime, instance.actor.via("flow"),
            instance.flow.spec.entity, instance.row["record_id"], changes,
            budget=instance.budget, access=FULL_ACCESS)

    async def _enqueue(self, instance: Instance, items: list[dict[str, Any]]) -> None:
        from loom.platform.outbox.store import enqueue_all

        await enqueue_all(instance.conn, workspace_id=instance.runtime.workspace_id,
                          app_id=instance.runtime.app_id, items=items, now=instance.now)

    async def _open_task(self, instance: Instance, node_id: str, node: UserTask,
                         branch: list[str], data: dict[str, Any],
                         return_to: str | None = None) -> None:
        resolver = FlowAssignees(instance.conn, instance.runtime, instance.actor,
                                 instance.flow.spec.entity, data, instance.row["initiator_id"])
        users: list[int] = []
        pool = [a for a in node.assignees if a.kind == "pool"]
        for assignee in node.assignees:
            if assignee.kind != "pool":
                users += [u for u in await resolver.resolve(assignee) if u not in users]
        candidates = [u for a in pool for u in await resolver.resolve(a)]
        if node.initiator_approves == "skip":
            users = [u for u in users if u != instance.row["initiator_id"]]
        if not users and not candidates:
            if node.on_empty == "auto_approve":
                self._note(instance, "auto_approved", node=node_id)
                await self._advance(instance, node_id, "approve", branch)
                return
            if node.on_empty == "fail":
                await self._finish(instance, "failed", "no_assignee")
                return
            users = (await resolver.admins())[:1]
        first = users[:1] if node.mode in ("single", "sequential") else users
        state = {"mode": node.mode, "queue": users[1:] if node.mode == "sequential" else [],
                 "needed": self._needed(node, users), "approved": 0, "return_to": return_to}
        activation = await store.insert_activation(instance.conn, instance.id, node_id, branch,
                                                   instance.now, state)
        instance.opened.add(activation)
        title = node.label  # kept in every language; each assignee reads their own
        due = parse_duration(node.due).after(instance.now) if node.due else \
            moment_of(data.get(node.due_field), instance) if node.due_field else None
        if candidates and not users:
            await self._task(instance, activation, node, title, None, due, candidates)
        for user in first:
            await self._task(instance, activation, node, title, user, due)
        await self._task_timers(instance, activation, node_id, node, due)
        await self._cc(instance, node_id, node, resolver, title,
                       asked=set(users) | set(candidates))

    @staticmethod
    def _needed(node: UserTask, users: list[int]) -> int:
        if node.mode == "all":
            return max(len(users), 1)
        if node.mode == "quorum":
            return min(node.quorum or 1, max(len(users), 1))
        if node.mode == "sequential":
            return max(len(users), 1)
        return 1

    async def _task(self, instance: Instance, activation: int, node: UserTask, title: Any,
                    user: int | None, due: datetime | None,
                    candidates: list[int] | None = None, kind: str | None = None) -> int:
        task_id = await create_task(
            instance.conn, workspace_id=instance.runtime.workspace_id,
            app_id=instance.runtime.app_id, entity=instance.flow.spec.entity,
            record_id=instance.row["record_id"], title=title, assignee_id=user,
            now=instance.now, locale=instance.runtime.doc.app.default_locale, due_at=due,
            kind=kind or node.kind, activation_id=activation, candidates=candidates)
        self._note(instance, "task", node=None, task_id=task_id,
                   details={"assignee": user, "candidates": candidates})
        return task_id

    async def _cc(self, instance: Instance, node_id: str, node: UserTask,
                  resolver: FlowAssignees, title: Any, asked: set[int]) -> None:
        # someone the node already asks to decide needs no copy of it as well
        people = sorted({u for a in node.cc for u in await resolver.resolve(a)} - asked)
        if not people:
            return
        text = message("flow_cc", label=title)
        locale = instance.runtime.doc.app.default_locale
        await notify(instance.conn, workspace_id=instance.runtime.workspace_id, user_ids=people,
                     title=text, body=None, now=instance.now, locale=locale,
                     app_id=instance.runtime.app_id, entity=instance.flow.spec.entity,
                     record_id=instance.row["record_id"])
        for person in people:  # a read-only copy in their inbox, closed when read
            await create_task(instance.conn, workspace_id=instance.runtime.workspace_id,
                              app_id=instance.runtime.app_id, entity=instance.flow.spec.entity,
                              record_id=instance.row["record_id"], title=text,
                              assignee_id=person, now=instance.now, locale=locale, kind="cc")
        self._note(instance, "cc", node=node_id, details={"to": people})

    async def _finish_if_idle(self, instance: Instance) -> None:
        # a node this command opened still waits: no need to ask the database
        if instance.row["status"] == "running" and not instance.opened and \
                not await store.active_activations(instance.conn, instance.id):
            await self._finish(instance, "completed", instance.row.get("outcome"), active=[])

    async def _finish(self, instance: Instance, status: str, outcome: str | None, *,
                      active: list[dict[str, Any]] | None = None) -> None:
        """The instance ends; ``active``: its active activations when just read."""
        conn, now = instance.conn, instance.now
        await self.stop_slas(instance)
        if active is None:
            active = await store.active_activations(conn, instance.id)
        for activation in active:
            await self._end_activation(instance, activation, "cancelled")
            await self._cancel_tasks(conn, activation["id"], now)
        instance.row.update(status=status, outcome=outcome, ended_at=now)
        self._note(instance, status, details={"outcome": outcome})
        await self.save(instance)
        await self._end_children(instance)
        if instance.row.get("parent_activation_id"):
            await self._resume_parent(instance, status, outcome)
        event = {"completed": "completed", "rejected": "rejected",
                 "withdrawn": "withdrawn"}.get(status)
        if status == "completed" and outcome in ("approved", "rejected"):
            event = outcome
        if event:
            await self._fire_event(instance, event)
            if event != "completed" and status == "completed":
                await self._fire_event(instance, "completed")

    async def _end_children(self, instance: Instance) -> None:
        """Sub-flows still running when their parent ends end with it."""
        if not any(isinstance(node, Subflow) for node in instance.flow.spec.nodes.values()):
            return  # no node of this flow starts one
        children = await store.children(instance.conn, instance.id)
        for row in children:
            child = await self.instance_for(instance.conn, self._pinned(instance.conn),
                                            instance.actor, row["id"], instance.now)
            await self._finish(child, "cancelled", "parent_ended")

    async def _resume_parent(self, instance: Instance, status: str,
                             outcome: str | None) -> None:
        """A sub-flow ended: its parent's node completes (a rejection leaves by the
        parent's reject edge)."""
        activation = await store.load_activation(instance.conn,
                                                 instance.row["parent_activation_id"])
        if activation["status"] != "active":
            return  # the parent moved on (withdrawn, ended) meanwhile
        parent = await self.instance_for(instance.conn, self._pinned(instance.conn),
                                         instance.actor, activation["instance_id"],
                                         instance.now)
        parent.budget = instance.budget
        await self._end_activation(parent, activation, "done")
        rejected = status == "rejected" or outcome == "rejected"
        await self._advance(parent, activation["node"], "reject" if rejected else None,
                            activation["branch"])
        await self.save(parent)

    def _pinned(self, conn: AsyncConnection) -> Any:
        async def runtime_of(row: Any) -> AppRuntime:
            return await self.apps.runtime_at(conn, row["app_id"], row["app_version"])

        return runtime_of

    async def _end_activation(self, instance: Instance, activation: dict[str, Any],
                              status: str, state: dict[str, Any] | None = None) -> None:
        """A node is done waiting; its timers cancelled (no query for a task without
        any: only waits, failed actions and tasks with ``timers`` have them)."""
        node = instance.flow.spec.nodes.get(activation["node"])
        timed = not isinstance(node, UserTask) or bool(node.timers)
        instance.opened.discard(activation["id"])
        await store.end_activation(instance.conn, activation, status, instance.now, state,
                                   timers=timed)

    async def _cancel_tasks(self, conn: AsyncConnection, activation_id: int, now: datetime,
                            keep: int | None = None) -> None:
        query = update(tasks).where(tasks.c.activation_id == activation_id,
                                    tasks.c.status == "open")
        if keep is not None:
            query = query.where(tasks.c.id != keep)
        await conn.execute(query.values(status="cancelled", completed_at=now,
                                        version=tasks.c.version + 1))

    async def _fire_event(self, instance: Instance, event: str) -> None:
        if self.events is not None:
            spec = instance.flow.spec
            if instance.runtime.rules.on_flow_event(spec.entity, spec.name or "", event):
                instance.record = None  # the rules may write the record
            await self.events(instance, event)
