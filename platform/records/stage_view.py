"""A record's stage paths as its reader sees them (the 360° view): each path's stages, the
current one with when it was entered, when its time limit falls due and whether it is
overdue, what the record still needs before it may move past it, and the stages it went
through."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.field_values.coercion import to_json
from loom.engines.forms.stages import StagePath, Unmet
from loom.metamodel.entity import EntitySpec
from loom.metamodel.i18n import localize
from loom.platform.compiled.app import AppRuntime
from loom.platform.records.evaluation import prepare
from loom.platform.records.stage_entries import record_entries
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import Access
from loom.renderers.stage_paths import key_field, stage_path


async def record_stage_paths(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                             access: Access, entity: str, record_id: int, now: datetime,
                             locale: str) -> list[dict[str, Any]]:
    """The stage paths of one record the reader already reaches (``access``: theirs)."""
    spec = runtime.entity(entity)
    paths = [p for p in runtime.expressions[entity].stages if access.can_read(p.field)]
    if not paths:
        return []
    table = runtime.tables[entity]
    row = dict((await conn.execute(select(table).where(table.c.id == record_id))
                ).mappings().one())
    entries = await record_entries(conn, runtime.app_id, entity, record_id,
                                   [p.field for p in paths])
    found = []
    for path in paths:
        body = stage_path(spec, path.field, access.can_read, locale)
        history = entries.get(path.field, [])
        value = row.get(path.field)
        current = next((e for e in history if e["left_at"] is None and e["value"] == value),
                       None)
        unmet = await _unmet(conn, runtime, actor, entity, path, row, now)
        due = current["due_at"] if current is not None else None
        body["current"] = {
            "value": value,
            "entered_at": to_json(current["entered_at"]) if current is not None else None,
            "due_at": to_json(due), "overdue": due is not None and now >= due,
            "missing": _missing(spec, unmet, access, locale)}
        body["history"] = [{"value": e["value"], "entered_at": to_json(e["entered_at"]),
                            "left_at": to_json(e["left_at"])} for e in history]
        found.append(body)
    return found


async def _unmet(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, entity: str,
                 path: StagePath, row: dict[str, Any], now: datetime) -> list[Unmet]:
    stages = path.ahead(row.get(path.field))
    compiled = [check.compiled for stage in stages for check in stage.key_conditions]
    data, env = await prepare(conn, runtime, entity, row, compiled, actor, now)
    return path.unmet(stages, None, data, env)


def _missing(spec: EntitySpec, unmet: list[Unmet], access: Access,
             locale: str) -> dict[str, list[dict[str, Any]]]:
    """What the record still needs before it may move past its stage."""
    return {"fields": [key_field(spec, name, locale) for item in unmet for name in item.fields
                       if access.can_read(name)],
            "conditions": [{"label": localize(check.label, locale)}
                           for item in unmet for check in item.conditions]}
