"""Rule traces: every firing leaves a row an administrator can read — which rule, on which
record, why (the values its condition read) and what each action did, or why it failed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.field_values.coercion import to_json
from loom.metamodel.i18n import message, register_messages
from loom.platform import metrics
from loom.platform.compiled.app import AppRuntime
from loom.platform.security.actors import Actor
from loom.platform.storage.system_tables import rule_runs

register_messages({
    "trace_no_recipient": {"en": "no recipient", "zh-CN": "没有收件人"},
})
# why an action did nothing (its trace entry's ``reason``) → the words for it
REASONS = {"no_recipient": "trace_no_recipient"}


def firing_status(actions: list[dict[str, Any]]) -> str:
    """``done``; ``skipped`` when the firing had actions and every one of them was
    skipped (an email with no recipient: nothing happened)."""
    if actions and all(a.get("status") == "skipped" for a in actions):
        return "skipped"
    return "done"


def _explained(actions: list[dict[str, Any]], locale: str) -> list[dict[str, Any]]:
    return [{**a, "reason_text": message(REASONS[a["reason"]]).render(locale)}
            if a.get("reason") in REASONS else a for a in actions or []]


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json(v) for v in value]
    value = to_json(value)
    return str(value) if not isinstance(value, str | int | float | bool | type(None)) \
        else value


def trace_row(runtime: AppRuntime, actor: Actor, *, rule: str, entity: str,
              record_id: int | None, trigger: str, status: str, now: datetime,
              inputs: dict[str, Any], actions: list[dict[str, Any]],
              error: str | None = None) -> dict[str, Any]:
    return {"workspace_id": runtime.workspace_id, "app_id": runtime.app_id,
            "app_version": runtime.version, "rule": rule, "entity": entity,
            "record_id": record_id, "trigger": trigger, "status": status, "at": now,
            "actor_id": actor.user_id, "source": actor.source, "inputs": _json(inputs),
            "actions": _json(actions), "error": error[:2000] if error else None}


async def write_traces(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """The traces of one save, in one statement."""
    if rows:
        await conn.execute(insert(rule_runs), rows)
        for row in rows:
            metrics.rule_runs.labels(row["status"]).inc()


def keep_traces(later: list[tuple[Any, dict[str, Any]]], rows: list[dict[str, Any]]) -> None:
    """The traces of one save, kept for the pipeline to insert with its batch's
    (``WriteContext.later``)."""
    later.extend((rule_runs, row) for row in rows)
    for row in rows:
        metrics.rule_runs.labels(row["status"]).inc()


async def write_trace(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                      **trace: Any) -> None:
    await write_traces(conn, [trace_row(runtime, actor, **trace)])


async def list_traces(conn: AsyncConnection, app_id: int, locale: str, *,
                      entity: str | None = None, record_id: int | None = None,
                      rule: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The app's traces, newest first; a skipped action's reason in ``locale``."""
    query = select(rule_runs).where(rule_runs.c.app_id == app_id)
    for column, value in ((rule_runs.c.entity, entity), (rule_runs.c.record_id, record_id),
                          (rule_runs.c.rule, rule)):
        if value is not None:
            query = query.where(column == value)
    rows = await conn.execute(query.order_by(rule_runs.c.id.desc()).limit(limit))
    return [{"id": r["id"], "rule": r["rule"], "entity": r["entity"],
             "record_id": r["record_id"], "trigger": r["trigger"], "status": r["status"],
             "at": r["at"], "version": r["app_version"], "actor_id": r["actor_id"],
             "source": r["source"], "inputs": r["inputs"],
             "actions": _explained(r["actions"], locale),
             "error": r["error"]} for r in rows.mappings()]
