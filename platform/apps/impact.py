"""What a publish would do to the running app, counted before anyone commits to it: which
tables change and how many rows they hold, which rules would now fire on the records
already stored (the rule engine's own preview, one SQL count each), and which running flow
instances stay on the version they started with.

It runs inside the dry run's SAVEPOINT, after the table changes were applied there, so the
new rules are counted against the tables as they would be."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import LoomError
from loom.metamodel.i18n import localize
from loom.platform.compiled.app import AppRuntime
from loom.platform.records.reads import capped_count
from loom.platform.rules.trial import preview
from loom.platform.security.actors import Actor
from loom.platform.storage.schema_sync import SchemaPlan
from loom.platform.storage.system_tables import flow_instances

RECORD_TRIGGERS = ("create", "update", "field_change", "schedule", "date_offset")


async def publish_impact(conn: AsyncConnection, actor: Actor, old: AppRuntime | None,
                         new: AppRuntime, plan: SchemaPlan, now: datetime,
                         locale: str) -> dict[str, Any]:
    return {"tables": await _tables(conn, old, new, plan),
            "rules": await _rules(conn, actor, old, new, now, locale),
            "flows": await _flows(conn, old, new)}


async def _capped_count(conn: AsyncConnection, query: Any) -> dict[str, Any]:
    rows, capped = await capped_count(conn, query)
    return {"rows": rows, "rows_capped": capped}


async def _tables(conn: AsyncConnection, old: AppRuntime | None, new: AppRuntime,
                  plan: SchemaPlan) -> list[dict[str, Any]]:
    """Per changed table: its rows, and per hidden field the rows that hold a value."""
    out: dict[str, dict[str, Any]] = {}
    for entity, column, effect in plan.effects:
        table = new.tables.tables.get(entity)
        if table is None and old is not None:
            table = old.tables.tables.get(entity)  # a removed entity's table, kept
        if table is None:
            continue
        if entity not in out:
            out[entity] = {"entity": entity, **await _capped_count(conn, select(table.c.id)),
                           "changes": [], "hidden_values": {}}
        out[entity]["changes"].append({"effect": effect, "field": column})
        hidden = old.tables.tables.get(entity) if old is not None else None
        if effect == "hide_column" and hidden is not None and column in hidden.c:
            # the column is only in the old version's table definition
            counted = await _capped_count(conn, select(hidden.c.id).where(
                hidden.c[column].is_not(None)))
            out[entity]["hidden_values"][column] = counted["rows"]
    return list(out.values())


def _rule_changed(old: AppRuntime | None, new: AppRuntime, name: str) -> str | None:
    if old is None or name not in old.doc.rules:
        return "added"
    before, after = old.doc.rules[name], new.doc.rules[name]
    if before.enabled is False and after.enabled:
        return "enabled"
    if (before.condition, before.trigger) != (after.condition, after.trigger) \
            or before.entity != after.entity:
        return "changed"
    return None


async def _rules(conn: AsyncConnection, actor: Actor, old: AppRuntime | None,
                 new: AppRuntime, now: datetime, locale: str) -> list[dict[str, Any]]:
    """New, re-enabled or re-conditioned rules: the stored records they would fire on."""
    out = []
    for compiled in new.rules.rules:  # the enabled ones
        name, spec = compiled.name, compiled.spec
        why = _rule_changed(old, new, name)
        if why is None or spec.trigger.on not in RECORD_TRIGGERS:
            continue
        item: dict[str, Any] = {"rule": name, "entity": spec.entity, "why": why,
                                "trigger": spec.trigger.on}
        try:
            item.update(await preview(conn, new, actor, compiled, now))
        except LoomError as exc:
            item["count"] = None
            item["not_counted"] = localize(exc.detail, locale) if exc.detail else str(exc)
        out.append(item)
    return out


async def _flows(conn: AsyncConnection, old: AppRuntime | None,
                 new: AppRuntime) -> list[dict[str, Any]]:
    """Running instances per flow: they finish on the version they started with."""
    rows = (await conn.execute(
        select(flow_instances.c.flow, flow_instances.c.app_version, func.count())
        .where(flow_instances.c.app_id == new.app_id, flow_instances.c.status == "running")
        .group_by(flow_instances.c.flow, flow_instances.c.app_version)
        .order_by(flow_instances.c.flow, flow_instances.c.app_version))).all()
    by_flow: dict[str, dict[str, Any]] = {}
    for flow, version, count in rows:
        item = by_flow.setdefault(flow, {"flow": flow, "running": 0, "versions": {},
                                         "status": _flow_status(old, new, flow)})
        item["running"] += count
        item["versions"][str(version)] = count
    return list(by_flow.values())


def _flow_status(old: AppRuntime | None, new: AppRuntime, flow: str) -> str:
    if flow not in new.doc.flows:
        return "removed"
    if old is None or flow not in old.doc.flows:
        return "added"
    return "unchanged" if old.doc.flows[flow] == new.doc.flows[flow] else "changed"
