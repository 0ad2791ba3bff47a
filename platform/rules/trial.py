"""Trying a rule before trusting it: a dry run on one record, or a count of the records its
condition holds for.

A dry run does the real thing — the same executor, pipeline and actions a firing uses —
inside a SAVEPOINT that is then rolled back, so what it reports is exactly what would
happen (records created, validation refused, recipients found) and nothing of it stays:
no record change, notification, task, outbox item or trace. A preview counts in SQL, with
the condition's one translation that list filters use, never by loading every record.

The rule tried is the published one, a definition sent with the request, or the one in the
app's draft; either way it is checked and compiled against the *published* entities,
because those are the tables its records live in (a rule naming a field that is only in
the draft is refused with that field named, instead of failing half-way).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError as PydanticError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.expressions import ExpressionError, NotTranslatable
from loom.engines.rules.compiler import CompiledRule, compile_rule
from loom.engines.rules.rule_checks import check_rules
from loom.metamodel.app import AppDocument
from loom.metamodel.errors import LoomError, NotFound, Problem, ValidationFailed
from loom.metamodel.fields import API_NAME_PATTERN
from loom.metamodel.i18n import message, register_messages
from loom.metamodel.rules import RuleSpec
from loom.metamodel.validation import format_path, schema_problems
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import column_resolver, environment, related_source
from loom.platform.records.change_request import check_set_values, read_changes
from loom.platform.records.context import WriteBudget
from loom.platform.records.evaluation import prepare
from loom.platform.records.reads import capped_count, get_record
from loom.platform.rules.actions import LOCAL_ACTIONS, Run
from loom.platform.rules.hook import RuleExecutor
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import FULL_ACCESS

SAMPLE_SIZE = 10

register_messages({
    "rule_not_found": {"en": "There is no rule '{name}' in this app",
                       "zh-CN": "应用中没有规则“{name}”"},
    "rule_not_in_draft": {"en": "The draft has no rule '{name}'",
                          "zh-CN": "草稿中没有规则“{name}”"},
    "rule_try_invalid": {"en": "The rule has problems", "zh-CN": "规则有误"},
    "rule_try_values": {"en": "The record values have {count} problem(s)",
                        "zh-CN": "记录的值有 {count} 处问题"},
    "rule_try_condition": {"en": "The condition could not be evaluated: {detail}",
                           "zh-CN": "条件无法求值：{detail}"},
    "rule_preview_not_sql": {
        "en": "This condition cannot be counted in the database: {reason}",
        "zh-CN": "该条件无法在数据库中统计：{reason}",
    },
})


@dataclass
class Trial:
    """What a dry run found: whether the condition held, on which values, and what each
    action did (or the error that would have refused the change)."""

    matched: bool
    inputs: dict[str, Any]
    actions: list[dict[str, Any]] = field(default_factory=list)
    record: dict[str, Any] | None = None   # the record as the run would leave it
    failure: LoomError | None = None


# --- which rule ---------------------------------------------------------------------------

def published_rule(runtime: AppRuntime, name: str) -> CompiledRule:
    """The rule as published; a disabled one too, since trying it is how one decides to
    enable it."""
    compiled = runtime.rules.by_name.get(name)
    if compiled is not None:
        return compiled
    spec = runtime.doc.rules.get(name)
    if spec is None:
        raise NotFound(message("rule_not_found", name=name))
    return compile_rule(name, spec, runtime.doc)


def proposed_rule(runtime: AppRuntime, name: str, definition: Any) -> CompiledRule:
    """A rule definition sent with the request (``rule`` in the body), not yet in any
    version; its problems are named under ``rule.…``."""
    if not re.fullmatch(API_NAME_PATTERN, name) or len(name) > 40:
        text = message("meta_bad_name", name=name, max=40)
        raise ValidationFailed(message("rule_try_invalid"), [Problem("name", text)])
    # the app schema reads the definition with the messages a builder sees at publish
    problems = schema_problems({"app": {"label": runtime.slug}, "rules": {name: definition}})
    if problems:
        raise ValidationFailed(message("rule_try_invalid"),
                               _renamed(problems, f"rules.{name}", "rule"))
    try:
        spec = RuleSpec.model_validate({**definition, "name": name})
    except PydanticError as exc:  # the schema should have caught it; report, never crash
        raise ValidationFailed(message("rule_try_invalid"), [
            Problem(format_path(("rule", *err["loc"])), err["msg"]) for err in exc.errors()
        ]) from None
    return checked_rule(runtime, name, spec, field="rule")


def draft_rule(runtime: AppRuntime, name: str, draft: AppDocument) -> CompiledRule:
    """The rule as it stands in the app's draft (parsed by the caller)."""
    spec = draft.rules.get(name)
    if spec is None:
        raise NotFound(message("rule_not_in_draft", name=name))
    return checked_rule(runtime, name, spec, field=f"rules.{name}")


def checked_rule(runtime: AppRuntime, name: str, spec: RuleSpec, *,
                 field: str) -> CompiledRule:
    """``spec`` checked as publish would check it, against the published entities, and
    compiled. Cycles are left out: a dry run is bounded anyway and fires one rule."""
    doc = runtime.doc.model_copy(update={"rules": {name: spec}})
    prefix = f"rules.{name}"
    problems = [p for p in check_rules(doc)
                if p.code != "rule_cycle" and (p.field or "").startswith(prefix)]
    if problems:
        raise ValidationFailed(message("rule_try_invalid"), _renamed(problems, prefix, field))
    return compile_rule(name, spec, runtime.doc)


def _renamed(problems: list[Problem], prefix: str, replacement: str) -> list[Problem]:
    def rename(path: str | None) -> str | None:
        if path is None or not path.startswith(prefix):
            return path
        return replacement + path[len(prefix):]

    return [Problem(rename(p.field), p.message, p.code) for p in problems]


# --- dry runs -----------------------------------------------------------------------------

async def _evaluate(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                    rule: CompiledRule, record: dict[str, Any],
                    now: datetime) -> tuple[bool, dict[str, Any]]:
    data, env = await prepare(conn, runtime, rule.entity, record, rule.expressions(), actor,
                              now, paths=rule.paths)
    try:
        matched = rule.holds(data, env)
    except ExpressionError as exc:
        text = message("rule_try_condition", detail=str(exc))
        raise ValidationFailed(text, [Problem("condition", text, code="condition")]) from None
    return matched, rule.inputs(data)


async def try_on_record(conn: AsyncConnection, executor: RuleExecutor, runtime: AppRuntime,
                        actor: Actor, rule: CompiledRule, record_id: int,
                        now: datetime) -> Trial:
    """Dry-run ``rule`` on a stored record: the executor fires it for real inside a
    savepoint, which is rolled back."""
    record = await executor.pipeline.load(conn, runtime, rule.entity, record_id)
    matched, inputs = await _evaluate(conn, runtime, actor, rule, record, now)
    if not matched:
        return Trial(False, inputs)
    savepoint = await conn.begin_nested()
    try:
        firing = await executor.fire(conn, runtime, actor, rule, record_id, trigger="try",
                                     key=f"try:{runtime.app_id}:{rule.name}:{record_id}",
                                     now=now, check_condition=False)
        assert firing is not None  # the condition is not checked again
        after = await get_record(conn, runtime, actor, rule.entity, record_id, now)
        return Trial(True, inputs, firing.actions, after)
    except LoomError as exc:  # what would refuse the change is the answer, not an error
        return Trial(True, inputs, failure=exc)
    finally:
        await savepoint.rollback()


async def try_on_values(conn: AsyncConnection, executor: RuleExecutor, runtime: AppRuntime,
                        actor: Actor, rule: CompiledRule, values: Any,
                        now: datetime) -> Trial:
    """Dry-run ``rule`` on a record that is not stored, given as field values: the
    condition sees it as a save would (typed, formulas computed); local actions report
    the values they would set, other actions run inside a rolled-back savepoint."""
    spec = runtime.entity(rule.entity)
    tz = ZoneInfo(runtime.doc.app.timezone)
    typed, problems = read_changes(spec, values, FULL_ACCESS, tz=tz, trusted=True)
    if problems:
        raise ValidationFailed(message("rule_try_values", count=len(problems)),
                               [Problem(f"record.{p.field}", p.message, p.code)
                                for p in problems])
    record = await _with_formulas(conn, runtime, actor, rule.entity, typed, now, tz)
    matched, inputs = await _evaluate(conn, runtime, actor, rule, record, now)
    if not matched:
        return Trial(False, inputs)
    savepoint = await conn.begin_nested()
    try:
        return await _run_on_values(conn, executor, runtime, actor, rule, record, inputs,
                                    now, tz)
    except LoomError as exc:
        return Trial(True, inputs, failure=exc)
    finally:
        await savepoint.rollback()


async def _run_on_values(conn: AsyncConnection, executor: RuleExecutor, runtime: AppRuntime,
                         actor: Actor, rule: CompiledRule, record: dict[str, Any],
                         inputs: dict[str, Any], now: datetime, tz: ZoneInfo) -> Trial:
    runner, budget = executor.runner, WriteBudget()
    budget.rule_run(rule.name)
    key = f"try:{runtime.app_id}:{rule.name}:new"
    data, env = await prepare(conn, runtime, rule.entity, record, rule.expressions(), actor,
                              now, paths=rule.paths)
    run = Run(conn, runtime, actor, rule, dict(record), data, env, now, budget, key, [])
    working, actions = dict(record), []
    for action in rule.actions:
        if isinstance(action.spec, LOCAL_ACTIONS):
            change = await runner.local_changes(run, action, working)
            working.update(change)
            actions.append({"type": action.spec.type, "set": change})
    # what a save would refuse of those values, it refuses here too
    problems = check_set_values(runtime.entity(rule.entity), record, working, tz=tz)
    if problems:
        return Trial(True, inputs, actions, failure=ValidationFailed(
            message("rule_try_values", count=len(problems)), problems))
    working = await _with_formulas(conn, runtime, actor, rule.entity, working, now, tz)
    data, env = await prepare(conn, runtime, rule.entity, working, rule.expressions(), actor,
                              now, paths=rule.paths)
    run = Run(conn, runtime, actor, rule, dict(working), data, env, now, budget, key, [])
    for index, action in enumerate(rule.actions):
        if not isinstance(action.spec, LOCAL_ACTIONS):
            actions.append(await runner.run_action(run, action, index))
    return Trial(True, inputs, actions, working)


async def _with_formulas(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                         entity: str, record: dict[str, Any], now: datetime,
                         tz: ZoneInfo) -> dict[str, Any]:
    """``record`` with its formula fields computed, as a save would see it."""
    expressions = runtime.expressions[entity]
    compiled = expressions.compiled()
    if not compiled:
        return dict(record)
    data, env = await prepare(conn, runtime, entity, record, compiled, actor, now)
    values, _failures = expressions.compute(data, env, tz=tz)  # a failed formula is blank
    return {**record, **values}


# --- previews -----------------------------------------------------------------------------

async def preview(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                  rule: CompiledRule, now: datetime, *,
                  days: int | None = None) -> dict[str, Any]:
    """How many stored records the condition holds for (capped like list counts), and
    the first few of their ids — one SQL query each. With ``days``: only the records
    created (a create rule) or changed (any other) in that many days before ``now``."""
    table = runtime.tables[rule.entity]
    matching = select(table.c.id)
    if days is not None:
        stamp = table.c.created_at if rule.spec.trigger.on == "create" else table.c.updated_at
        matching = matching.where(stamp >= now - timedelta(days=days))
    if rule.condition is not None:
        reason = rule.condition.sql_problem
        where = None
        if reason is None:
            try:
                where = rule.condition.to_sql(column_resolver(runtime, rule.entity),
                                              environment(runtime, actor, now),
                                              dialect=conn.dialect.name,
                                              related=related_source(runtime))
            except NotTranslatable as exc:
                reason = exc.reason
        if where is None:
            text = message("rule_preview_not_sql", reason=reason)
            raise ValidationFailed(text, [Problem("condition", text, code="not_sql")])
        matching = matching.where(where)
    count, capped = await capped_count(conn, matching)
    sample = list((await conn.execute(matching.order_by(table.c.id).limit(SAMPLE_SIZE)))
                  .scalars())
    return {"count": count, "count_capped": capped, "sample": sample}
