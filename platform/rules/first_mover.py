"""Who got there first: when a record action cannot run because someone else changed the
record a moment ago — two reps claiming one lead, the loser's click arriving after the
winner's commit — the loser hears a 409 naming the winner, not a 404 (the claimed lead has
left their reach) or a bare "not available".

The audit trail says what changed the record: the entries after the version the caller
sent (If-Match), or else the newest run of entries by one other person (an action's own
update and the rules it set off). Inside a savepoint, rolled back at once, the record is
put back as it was before them; if the caller could reach it then and the action's
condition held, the race was lost to that person. Asking the one permission check and
the action's own condition on the earlier state keeps this honest: someone who could
never see the record still gets a 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.expressions import ExpressionError
from loom.engines.field_values.coercion import BadValue, coerce, to_json
from loom.metamodel.errors import Conflict, Problem
from loom.metamodel.i18n import message, register_messages
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import environment
from loom.platform.records.evaluation import prepare
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import Access, within_reach
from loom.platform.storage.system_tables import record_audit, rule_runs, users

TRAIL = 50  # newest audit entries looked at

register_messages({
    "action_done_first": {"en": "{who} did “{action}” on this {entity} first",
                          "zh-CN": "{who}已抢先对这条{entity}执行了“{action}”"},
    "action_changed_first": {
        "en": "{who} changed this {entity} first; “{action}” is no longer available",
        "zh-CN": "{who}已抢先修改了这条{entity}，“{action}”已不可用",
    },
})
SYSTEM_NAME = {"en": "The system", "zh-CN": "系统"}


async def lost_race(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, access: Access,
                    entity: str, record_id: int, name: str, rule: Any, now: datetime, *,
                    expected_version: int | None = None) -> Conflict | None:
    """The 409 naming who changed the record first, when that change is what stopped the
    action ``name`` (``rule``: the action compiled); else None."""
    entries = await _changes(conn, runtime, actor, entity, record_id, expected_version)
    if not entries or not await _was_available(conn, runtime, actor, access, entity,
                                               record_id, rule, entries, now):
        return None
    first = entries[-1]
    who = await conn.scalar(select(users.c.name).where(users.c.id == first["actor_id"])) \
        if first["actor_id"] is not None else None
    spec = runtime.entity(entity)
    label = spec.actions[name].label
    same = await conn.scalar(select(rule_runs.c.id).where(
        rule_runs.c.app_id == runtime.app_id, rule_runs.c.entity == entity,
        rule_runs.c.record_id == record_id, rule_runs.c.trigger == "action",
        rule_runs.c.rule == name, rule_runs.c.at >= first["at"],
        rule_runs.c.actor_id.is_(None) if first["actor_id"] is None
        else rule_runs.c.actor_id == first["actor_id"]).limit(1))
    text = message("action_done_first" if same is not None else "action_changed_first",
                   who=who or SYSTEM_NAME, action=label, entity=spec.label)
    return Conflict(text, [Problem(None, text, code="changed_first")], extra={
        "changed_by": {"id": first["actor_id"], "name": who},
        "changed_at": to_json(first["at"]), "version": entries[0]["version"]})


async def _changes(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, entity: str,
                   record_id: int, expected_version: int | None) -> list[Any]:
    """Newest first: the trail entries that took the record from what the caller saw."""
    rows = (await conn.execute(
        select(record_audit).where(record_audit.c.app_id == runtime.app_id,
                                   record_audit.c.entity == entity,
                                   record_audit.c.record_id == record_id)
        .order_by(record_audit.c.id.desc()).limit(TRAIL))).mappings().all()
    if not rows or rows[0]["action"] != "update":
        return []  # never changed, or deleted
    if expected_version is not None:
        entries = []
        for row in rows:
            if row["version"] <= expected_version or row["action"] != "update":
                break
            entries.append(row)
        return entries
    who = rows[0]["actor_id"]
    if who is not None and who == actor.user_id:
        return []  # the caller's own change: no race
    entries = []
    for row in rows:
        if row["actor_id"] != who or row["action"] != "update":
            break
        entries.append(row)
    return entries


async def _was_available(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                         access: Access, entity: str, record_id: int, rule: Any,
                         entries: list[Any], now: datetime) -> bool:
    """Could the caller reach the record before ``entries``, and did the action hold?"""
    spec, table = runtime.entity(entity), runtime.tables[entity]
    before: dict[str, Any] = {}
    for entry in entries:  # newest first: the oldest entry's "old" is what stays
        for field, change in entry["changes"].items():
            if field in spec.stored_fields() and field in table.c:
                before[field] = change[0]
    values = {}
    for field, value in before.items():
        try:
            values[field] = coerce(spec.fields[field], value)
        except BadValue:
            return False
    savepoint = await conn.begin_nested()
    try:
        if values:
            await conn.execute(update(table).where(table.c.id == record_id).values(**values))
        env = environment(runtime, actor, now)
        if not await within_reach(conn, runtime, access, entity, record_id, env):
            return False
        row = (await conn.execute(select(table).where(table.c.id == record_id))
               ).mappings().first()
        if row is None:
            return False
        data, env = await prepare(conn, runtime, entity, dict(row), rule.expressions(), actor,
                                  now, paths=rule.paths)
        try:
            return bool(rule.holds(data, env))
        except ExpressionError:
            return False
    finally:
        await savepoint.rollback()
