"""Tasks that close themselves: a rule's ``create_task`` may say ``done_when`` — a condition
on the task's record. Every save of that record checks its open tasks from such actions;
once the condition holds the task is done and its reminders and escalations are cancelled,
so nobody is chased for a call that was already logged."""

from __future__ import annotations

from sqlalchemy import select

from loom.platform.records.context import WriteContext
from loom.platform.records.evaluation import prepare
from loom.platform.storage.system_tables import tasks
from loom.platform.tasks.store import complete_task


class TaskCloser:
    """Plugged into the write pipeline after the rules (a task made by this very save may
    already be done)."""

    async def before_save(self, ctx: WriteContext) -> None:
        return None

    async def after_save(self, ctx: WriteContext) -> None:
        if ctx.operation in ("delete", "restore") or ctx.record_id is None:
            return
        closers = ctx.runtime.rules.task_closers(ctx.entity)
        if not closers:
            return
        rules = sorted({rule for rule, _index in closers})
        rows = (await ctx.conn.execute(select(
            tasks.c.id, tasks.c.source_rule, tasks.c.source_action).where(
            tasks.c.app_id == ctx.runtime.app_id, tasks.c.entity == ctx.entity,
            tasks.c.record_id == ctx.record_id, tasks.c.status == "open",
            tasks.c.source_rule.in_(rules)))).all()
        due = [(task_id, closers[(rule, index)]) for task_id, rule, index in rows
               if (rule, index) in closers]
        if not due:
            return
        data, env = await prepare(ctx.conn, ctx.runtime, ctx.entity, ctx.new,
                                  [condition for _task, condition in due], ctx.actor, ctx.now,
                                  prior=ctx.old, changed=ctx.changed())
        for task_id, condition in due:
            if condition.holds(data, env):
                await complete_task(ctx.conn, ctx.runtime.workspace_id, task_id, None, ctx.now)
