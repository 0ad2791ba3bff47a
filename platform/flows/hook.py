"""Flows in the write pipeline: a save whose record meets a flow's start (create, update,
a field change, and its condition) starts the flow in the same transaction. Also the two
bridges to rules: the ``start_flow`` action and the ``flow_event`` trigger."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from loom.metamodel.flows import Wait
from loom.platform.flows.instance import Instance
from loom.platform.flows.runtime import FlowRuntime
from loom.platform.records.context import WriteContext
from loom.platform.records.evaluation import prepare
from loom.platform.rules.actions import Run
from loom.platform.rules.hook import RuleExecutor
from loom.platform.storage.system_tables import flow_instances


class FlowHook:
    def __init__(self, flows: FlowRuntime) -> None:
        self.flows = flows

    async def before_save(self, ctx: WriteContext) -> None:
        return None

    async def after_save(self, ctx: WriteContext) -> None:
        if ctx.operation in ("delete", "restore"):
            return
        await self._recheck_waits(ctx)
        for name, flow in ctx.runtime.flows.items():
            start = flow.spec.start
            if flow.spec.entity != ctx.entity or start.on == "manual":
                continue
            if start.on in ("create", "update") and start.on != ctx.operation:
                continue
            if start.on == "field_change" and not (
                    set(start.fields or []) & ctx.changed() if start.fields else ctx.changed()):
                continue
            if flow.start_condition is not None:
                data, env = await prepare(ctx.conn, ctx.runtime, ctx.entity, ctx.new,
                                          [flow.start_condition], ctx.actor, ctx.now,
                                          prior=ctx.old, changed=ctx.changed())
                if not flow.start_condition.holds(data, env):
                    continue
            running = await ctx.conn.scalar(select(flow_instances.c.id).where(
                flow_instances.c.app_id == ctx.runtime.app_id,
                flow_instances.c.entity == ctx.entity, flow_instances.c.flow == name,
                flow_instances.c.record_id == ctx.record_id,
                flow_instances.c.status == "running"))
            if running is None:
                await self.flows.start(ctx.conn, ctx.runtime, ctx.actor, name,
                                       int(ctx.record_id or 0), ctx.now, budget=ctx.budget)


    async def _recheck_waits(self, ctx: WriteContext) -> None:
        """Instances of this record waiting for a condition may go on now; their SLA
        clocks may stop, pause or run again."""
        if not any(flow.spec.slas or any(isinstance(node, Wait) and node.condition is not None
                                         for node in flow.spec.nodes.values())
                   for flow in ctx.runtime.flows.values()):
            return  # the version this save runs on has none (older instances: next save)
        ids = list((await ctx.conn.execute(select(flow_instances.c.id).where(
            flow_instances.c.app_id == ctx.runtime.app_id,
            flow_instances.c.entity == ctx.entity, flow_instances.c.record_id == ctx.record_id,
            flow_instances.c.status == "running").order_by(flow_instances.c.id))).scalars())
        apps = self.flows.apps
        for instance_id in ids:
            async def runtime_of(row: Any) -> Any:
                return await apps.runtime_at(ctx.conn, row["app_id"], row["app_version"])

            instance = await self.flows.instance_for(ctx.conn, runtime_of, ctx.actor,
                                                     instance_id, ctx.now)
            instance.budget = ctx.budget
            await self.flows.recheck_waits(instance)
            if instance.row["status"] == "running":
                await self.flows.recheck_slas(instance)
            await self.flows.save(instance)


def flow_starter(flows: FlowRuntime) -> Any:
    """The ``start_flow`` rule action."""
    async def start(run: Run, flow: str) -> int:
        return await flows.start(run.conn, run.runtime, run.actor, flow,
                                 int(run.record["id"]), run.now, budget=run.budget)

    return start


def flow_events(executor: RuleExecutor) -> Any:
    """Fires the ``flow_event`` rules of an instance's record."""
    async def fire(instance: Instance, event: str) -> None:
        spec = instance.flow.spec
        for rule in instance.runtime.rules.on_flow_event(spec.entity, spec.name or "", event):
            await executor.fire(instance.conn, instance.runtime, instance.actor, rule,
                                instance.row["record_id"], trigger="flow_event",
                                key=f"flow:{instance.id}:{event}:{rule.name}",
                                now=instance.now, budget=instance.budget)

    return fire
