"""The rule engine in the write pipeline, and rules fired outside a save (timed rules,
record actions, flow events).

During a save (DESIGN.md order of execution): the rules of the entity and operation are
tried in order on the record as it stands; each fires at most once per save, its local
actions (set field, tag, assign) change the record at once and formulas are recomputed,
and rules earlier in the order are tried again on the changed record — so they settle.
After the row is written, the fired rules' other actions run (through the same pipeline
for the records they touch) and each firing is traced.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from loom.engines.expressions import Compiled, ExpressionError
from loom.engines.rules.compiler import CompiledRule
from loom.metamodel.i18n import message, register_messages
from loom.platform.outbox.store import enqueue_all
from loom.platform.records.context import WriteBudget, WriteContext
from loom.platform.records.evaluation import prepare
from loom.platform.rules.actions import LOCAL_ACTIONS, ActionRunner, Run
from loom.platform.rules.traces import firing_status, keep_traces, trace_row, write_trace
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import FULL_ACCESS

log = logging.getLogger("loom.rules")

register_messages({
    "rule_condition_failed": {"en": "the condition could not be evaluated: {detail}",
                              "zh-CN": "条件无法求值：{detail}"},
})


@dataclass
class Firing:
    rule: CompiledRule
    inputs: dict[str, Any]
    actions: list[dict[str, Any]] = field(default_factory=list)


def _triggered(rule: CompiledRule, changed: set[str]) -> bool:
    trigger = rule.spec.trigger
    if trigger.on == "field_change":
        return bool(set(trigger.fields or []) & changed) if trigger.fields else bool(changed)
    return True


def _expressions(rules: list[CompiledRule]) -> tuple[list[Compiled], set[str]]:
    compiled = [c for rule in rules for c in rule.expressions()]
    paths = {p for rule in rules for p in rule.paths}
    return compiled, paths


class RuleHook:
    """Plugged into the write pipeline (``before_save`` / ``after_save``)."""

    def __init__(self, runner: ActionRunner) -> None:
        self.runner = runner

    async def before_save(self, ctx: WriteContext) -> None:
        rules = ctx.runtime.rules.on_save(ctx.entity, ctx.operation)
        if rules:
            ctx.fired = await self._settle(ctx, rules)

    async def _settle(self, ctx: WriteContext, rules: list[CompiledRule]) -> list[Firing]:
        fired: list[Firing] = []
        done: set[str] = set()
        groups: set[str] = set()
        compiled, paths = _expressions(rules)
        while True:
            changed = ctx.changed()
            data, env = await prepare(ctx.conn, ctx.runtime, ctx.entity, ctx.new, compiled,
                                      ctx.actor, ctx.now, prior=ctx.old, changed=changed,
                                      paths=paths)
            firing = None
            for rule in rules:
                if rule.name in done or (rule.spec.group and rule.spec.group in groups):
                    continue
                if not _triggered(rule, changed) or not await self._holds(
                        ctx, rule, data, env):
                    continue
                firing = Firing(rule, rule.inputs(data))
                break
            if firing is None:
                return fired
            rule = firing.rule
            ctx.budget.rule_run(rule.name)
            done.add(rule.name)
            if rule.spec.group:
                groups.add(rule.spec.group)
            fired.append(firing)
            run = self._run(ctx, rule, data, env)
            for action in rule.actions:
                if isinstance(action.spec, LOCAL_ACTIONS):
                    changes = await self.runner.local_changes(run, action, ctx.new)
                    ctx.new.update(changes)
                    firing.actions.append({"type": action.spec.type, "set": changes})
            if ctx.recompute is not None:
                await ctx.recompute()
            if rule.spec.stop_on_match:
                return fired

    async def _holds(self, ctx: WriteContext, rule: CompiledRule, data: dict[str, Any],
                     env: Any) -> bool:
        try:
            return rule.holds(data, env)
        except ExpressionError as exc:  # traced, and the save goes on without the rule
            await write_trace(ctx.conn, ctx.runtime, ctx.actor, rule=rule.name,
                              entity=ctx.entity, record_id=ctx.record_id,
                              trigger=ctx.operation, status="failed", now=ctx.now,
                              inputs=rule.inputs(data), actions=[],
                              error=str(message("rule_condition_failed", detail=str(exc))))
            return False

    def _run(self, ctx: WriteContext, rule: CompiledRule, data: dict[str, Any],
             env: Any) -> Run:
        record = ctx.new if ctx.operation != "delete" else dict(ctx.old or {})
        version = record.get("version") or 0
        key = f"rule:{ctx.runtime.app_id}:{rule.name}:{ctx.entity}:{ctx.record_id}:{version}"
        return Run(ctx.conn, ctx.runtime, ctx.actor, rule, record, data, env, ctx.now,
                   ctx.budget, key, outbox=ctx.outbox)

    async def after_save(self, ctx: WriteContext) -> None:
        if ctx.operation == "delete":
            rules = ctx.runtime.rules.on_save(ctx.entity, "delete")
            if rules:
                ctx.fired = await self._deleted(ctx, rules)
        fired, ctx.fired = ctx.fired, []
        traces = []
        for firing in fired:
            rule = firing.rule
            actions = [(index, action) for index, action in enumerate(rule.actions)
                       if not isinstance(action.spec, LOCAL_ACTIONS)]
            if actions:  # a rule of local actions only did all it does before the save
                record = ctx.new if ctx.operation != "delete" else (ctx.old or {})
                compiled, paths = _expressions([rule])
                data, env = await prepare(ctx.conn, ctx.runtime, ctx.entity, record,
                                          compiled, ctx.actor, ctx.now, prior=ctx.old,
                                          paths=paths)
                run = self._run(ctx, rule, data, env)
                for index, action in actions:
                    firing.actions.append(await self.runner.run_action(run, action, index))
            traces.append(trace_row(ctx.runtime, ctx.actor, rule=rule.name, entity=ctx.entity,
                                    record_id=ctx.record_id, trigger=rule.spec.trigger.on,
                                    status=firing_status(firing.actions), now=ctx.now,
                                    inputs=firing.inputs, actions=firing.actions))
        keep_traces(ctx.later, traces)

    async def _deleted(self, ctx: WriteContext, rules: list[CompiledRule]) -> list[Firing]:
        compiled, paths = _expressions(rules)
        data, env = await prepare(ctx.conn, ctx.runtime, ctx.entity, ctx.old or {}, compiled,
                                  ctx.actor, ctx.now, paths=paths)
        fired, groups = [], set()
        for rule in rules:
            if rule.spec.group and rule.spec.group in groups:
                continue
            if await self._holds(ctx, rule, data, env):
                ctx.budget.rule_run(rule.name)
                fired.append(Firing(rule, rule.inputs(data)))
                if rule.spec.group:
                    groups.add(rule.spec.group)
                if rule.spec.stop_on_match:
                    break
        return fired


class RuleExecutor:
    """Fires a rule on one stored record outside a save: the worker's timed rules, record
    actions (buttons) and flow events. Local actions become one update of the record
    through the pipeline; the other actions follow; the firing is traced."""

    def __init__(self, pipeline: Any, runner: ActionRunner) -> None:
        self.pipeline = pipeline
        self.runner = runner

    async def fire(self, conn: Any, runtime: Any, actor: Actor, rule: CompiledRule,
                   record_id: int, *, trigger: str, key: str, now: Any,
                   check_condition: bool = True,
                   budget: WriteBudget | None = None) -> Firing | None:
        budget = budget or WriteBudget()
        record = await self.pipeline.load(conn, runtime, rule.entity, record_id, lock=True)
        compiled, paths = _expressions([rule])
        data, env = await prepare(conn, runtime, rule.entity, record, compiled, actor, now,
                                  paths=paths)
        if check_condition and not rule.holds(data, env):
            return None
        budget.rule_run(rule.name)
        firing = Firing(rule, rule.inputs(data))
        outbox: list[dict[str, Any]] = []
        run = Run(conn, runtime, actor, rule, record, data, env, now, budget, key, outbox)
        changes: dict[str, Any] = {}
        working = dict(record)
        for action in rule.actions:
            if isinstance(action.spec, LOCAL_ACTIONS):
                change = await self.runner.local_changes(run, action, working)
                working.update(change)
                changes.update(change)
                firing.actions.append({"type": action.spec.type, "set": change})
        if changes:
            record = await self.pipeline.update(conn, runtime, actor.via("rule"), rule.entity,
                                                record_id, changes, budget=budget,
                                                access=FULL_ACCESS)
            data, env = await prepare(conn, runtime, rule.entity, record, compiled, actor,
                                      now, paths=paths)
            run = Run(conn, runtime, actor, rule, dict(record), data, env, now, budget, key,
                      outbox)
        for index, action in enumerate(rule.actions):
            if not isinstance(action.spec, LOCAL_ACTIONS):
                firing.actions.append(await self.runner.run_action(run, action, index))
        await enqueue_all(conn, workspace_id=runtime.workspace_id, app_id=runtime.app_id,
                          items=outbox, now=now)
        await write_trace(conn, runtime, actor, rule=rule.name, entity=rule.entity,
                          record_id=record_id, trigger=trigger,
                          status=firing_status(firing.actions), now=now,
                          inputs=firing.inputs, actions=firing.actions)
        return firing
