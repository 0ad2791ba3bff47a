"""Stage paths in the write pipeline (engines/forms/stages.py decides, this applies): a
change that moves a record past a stage whose key fields are blank or whose key
conditions do not hold is refused — whatever the source, API, import, rule or flow — with
a problem per field; and the stage entries (when each stage was entered and left, when
its time limit falls due) are kept in the transaction of the change."""

from __future__ import annotations

from loom.engines.forms.stages import StagePath, Unmet
from loom.platform.records.context import WriteContext
from loom.platform.records.evaluation import prepare, record_env
from loom.platform.records.stage_entries import enter_stage, forget_record


class StageHook:
    """Plugged into the write pipeline after the rules, so it judges the record as the
    rules left it."""

    async def before_save(self, ctx: WriteContext) -> None:
        if ctx.operation == "delete":
            return
        for path in ctx.runtime.expressions[ctx.entity].stages:
            for unmet in await self._unmet(ctx, path):
                ctx.problems += unmet.problems(ctx.spec, path.field)

    async def _unmet(self, ctx: WriteContext, path: StagePath) -> list[Unmet]:
        old = ctx.old.get(path.field) if ctx.old is not None else None
        new = ctx.new.get(path.field)
        if ctx.old is not None and old == new:
            return path.emptied(new, ctx.new, ctx.changed())
        stages = path.required_for_move(old, new)
        if not stages:
            return []
        compiled = [check.compiled for stage in stages for check in stage.key_conditions]
        if compiled:
            data, env = await prepare(ctx.conn, ctx.runtime, ctx.entity, ctx.new, compiled,
                                      ctx.actor, ctx.now, prior=ctx.old,
                                      changed=ctx.changed())
        else:
            data, env = ctx.new, record_env(ctx.runtime, ctx.actor, ctx.now)
        return path.unmet(stages, new, data, env)

    async def after_save(self, ctx: WriteContext) -> None:
        paths = ctx.runtime.expressions[ctx.entity].stages
        if not paths or ctx.record_id is None:
            return
        if ctx.operation == "delete":
            await forget_record(ctx.conn, ctx.runtime.app_id, ctx.entity, ctx.record_id)
            return
        changed = ctx.changed()
        for path in paths:
            if path.field in changed:  # on create: every field given a value
                await _enter(ctx, path, ctx.record_id)


async def _enter(ctx: WriteContext, path: StagePath, record_id: int) -> None:
    value = ctx.new.get(path.field)
    stage = path.stage(value)
    due = stage.time_limit.after(ctx.now) if stage is not None and stage.time_limit else None
    await enter_stage(ctx.conn, app_id=ctx.runtime.app_id, entity=ctx.entity,
                      record_id=record_id, field=path.field, value=value, now=ctx.now,
                      user_id=ctx.actor.user_id, due_at=due)
