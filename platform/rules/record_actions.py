"""Record actions: the buttons an entity defines in metadata (claim, release, convert, …).

Pressing one checks permission, locks the record, and only then asks whether the action's
condition holds — on the row as it is now, not as the caller last saw it. That order is
what makes a race safe: of two people claiming the same lead at once, the second waits
for the first's lock (PostgreSQL) or write transaction (SQLite), then finds an owner and
is told who got there first. The steps run through the rule executor, so
local changes are one pipeline update and everything is traced like any rule run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.expressions import Env, ExpressionError, describe_condition
from loom.engines.rules.compiler import CompiledRule
from loom.metamodel.errors import Conflict, LoomError, NotFound, Problem, ValidationFailed
from loom.metamodel.fields import LocalizedText
from loom.metamodel.i18n import localize, message, register_messages
from loom.metamodel.rules import RecordAction
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import environment
from loom.platform.records.evaluation import prepare
from loom.platform.rules.first_mover import lost_race
from loom.platform.rules.hook import RuleExecutor
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import authorize, within_reach

register_messages({
    "action_not_found": {"en": "{entity} has no action '{name}'",
                         "zh-CN": "{entity}没有“{name}”操作"},
    "action_not_available": {"en": "{action} is not available for this record: {reason}",
                             "zh-CN": "该记录当前不能执行“{action}”：{reason}"},
    "action_condition_failed": {"en": "the action's condition could not be evaluated: "
                                "{detail}",
                                "zh-CN": "操作的条件无法求值：{detail}"},
})


async def run_record_action(conn: AsyncConnection, executor: RuleExecutor,
                            runtime: AppRuntime, actor: Actor, entity: str, record_id: int,
                            name: str, *, now: datetime,
                            expected_version: int | None = None) -> None:
    """Run the action ``name`` on one record, in the caller's transaction. When the record
    moved on under the caller — out of their reach, to another version, or to a state where
    the action no longer holds — because someone else changed it first, the 409 names who
    (``first_mover.py``)."""
    # a button is pressed on a record the user can see; its condition decides the rest
    # (claiming a lead from the pool changes a record the user does not own yet), and its
    # steps run as automation, like a rule's
    access = await authorize(conn, actor, runtime, entity, "read")
    rule = runtime.rules.record_action(runtime.doc, entity, name)
    if rule is None:
        raise NotFound(message("action_not_found", entity=runtime.entity(entity).label,
                               name=name))

    async def refusal(otherwise: Exception, version: int | None = None) -> Exception:
        return await lost_race(conn, runtime, actor, access, entity, record_id, name, rule,
                               now, expected_version=version) or otherwise

    if not await within_reach(conn, runtime, access, entity, record_id,
                              environment(runtime, actor, now)):
        raise await refusal(NotFound(message(
            "not_found_record", entity=runtime.entity(entity).label, id=record_id)))
    record = await executor.pipeline.load(conn, runtime, entity, record_id, lock=True)
    if expected_version is not None and record["version"] != expected_version:
        raise await refusal(Conflict(message("stale_version", current=record["version"],
                                             sent=expected_version)), expected_version)
    data, env = await prepare(conn, runtime, entity, record, rule.expressions(), actor, now,
                              paths=rule.paths)
    try:
        available = rule.holds(data, env)
    except ExpressionError as exc:
        text = message("action_condition_failed", detail=str(exc))
        raise ValidationFailed(text, [Problem("condition", text, code="condition")]) from None
    if not available:
        button = runtime.entity(entity).actions[name]
        reason = Problem(None, unavailable_reason(rule, button, data, env),
                         code="action_not_available")
        refused = await refusal(Conflict(message("action_not_available", action=button.label,
                                                 reason=reason.message), [reason]))
        if isinstance(refused, LoomError) and reason not in refused.problems:
            refused.problems.append(reason)  # who was first, and what the action needs now
        raise refused
    key = f"action:{runtime.app_id}:{entity}:{record_id}:{name}:{record['version']}"
    await executor.fire(conn, runtime, actor, rule, record_id, trigger="action", key=key,
                        now=now, check_condition=False)


def unavailable_reason(rule: CompiledRule, button: RecordAction, data: dict[str, Any],
                       env: Env) -> LocalizedText:
    """Why the action's condition does not hold for this record, in every language: the
    action's own ``unavailable_message``, else the parts of its condition that fail."""
    if button.unavailable_message is not None:
        return button.unavailable_message
    assert rule.condition is not None  # no condition: always available
    return describe_condition(rule.condition, rule.scope, data, env)


async def action_states(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                        entity: str, record_id: int, now: datetime,
                        locale: str) -> list[dict[str, Any]]:
    """Each action of the entity as a button on a record the reader may see: its name,
    label, whether it can run now, and if not, why (in ``locale``) — what pressing it
    would answer, bar a change in between."""
    buttons = runtime.entity(entity).actions
    if not buttons:
        return []
    table = runtime.tables[entity]
    record = dict((await conn.execute(select(table).where(table.c.id == record_id))
                   ).mappings().one())
    rules = {name: runtime.rules.record_action(runtime.doc, entity, name) for name in buttons}
    compiled = [c for rule in rules.values() if rule is not None for c in rule.expressions()]
    paths = {p for rule in rules.values() if rule is not None for p in rule.paths}
    data, env = await prepare(conn, runtime, entity, record, compiled, actor, now, paths=paths)
    states = []
    for name, button in buttons.items():
        rule = rules[name]
        assert rule is not None
        state: dict[str, Any] = {"name": name, "label": localize(button.label, locale),
                                 "available": True}
        try:
            available = rule.holds(data, env)
            reason = None if available else unavailable_reason(rule, button, data, env)
        except ExpressionError as exc:
            available, reason = False, message("action_condition_failed", detail=str(exc))
        if not available:
            state.update(available=False, reason=localize(reason, locale))
        if button.confirm is not None:
            state["confirm"] = localize(button.confirm, locale)
        states.append(state)
    return states
