"""Names for the references a page of records holds, so a reader sees "云启科技" and "张伟"
where the records say ``customer: 16`` and ``owner: 7``.

Lookups are titled by their entity's title field through ``record_titles`` — the one
permission check, so a record beyond the reader's reach, or whose title they may not see,
stays a bare id. People and departments are named to everyone of the workspace: colleagues
see each other's names in every list anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.entity import SYSTEM_FIELDS
from loom.metamodel.fields import FieldType
from loom.platform.compiled.app import AppRuntime
from loom.platform.records.titles import record_titles
from loom.platform.security.actors import Actor
from loom.platform.storage.system_tables import departments, users

USERS = "@user"
DEPARTMENTS = "@department"
PEOPLE_FIELDS = frozenset({"created_by", "updated_by"})


async def reference_titles(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                           entity: str, items: Iterable[Mapping[str, Any]],
                           now: datetime) -> dict[str, dict[str, str]]:
    """``{referenced entity | "@user" | "@department": {id: title}}`` for the lookups,
    user and department fields of ``items`` (and of their line items)."""
    wanted: dict[str, set[int]] = {}
    for item in items:
        _collect(runtime, entity, item, wanted)
    titles: dict[str, dict[str, str]] = {}
    people = wanted.pop(USERS, set())
    teams = wanted.pop(DEPARTMENTS, set())
    refs = [(target, ref) for target, ids in wanted.items() for ref in ids]
    for (target, ref), title in (await record_titles(conn, runtime, actor, refs,
                                                     now)).items():
        titles.setdefault(target, {})[str(ref)] = title
    if people:
        titles[USERS] = await _names(conn, users, actor.workspace_id, people)
    if teams:
        titles[DEPARTMENTS] = await _names(conn, departments, actor.workspace_id, teams)
    return titles


def _collect(runtime: AppRuntime, entity: str, item: Mapping[str, Any],
             wanted: dict[str, set[int]]) -> None:
    """The references of one record, and of its line items read inline with it."""
    spec = runtime.entity(entity)
    for name, value in item.items():
        field = spec.fields.get(name)
        if field is not None and field.type is FieldType.SUBTABLE and field.entity:
            for row in value if isinstance(value, list) else []:
                if isinstance(row, Mapping):
                    _collect(runtime, field.entity, row, wanted)
            continue
        target = _target(field, name)
        if target is None:
            continue
        for ref in value if isinstance(value, list) else [value]:
            if isinstance(ref, int) and not isinstance(ref, bool):
                wanted.setdefault(target, set()).add(ref)


def _target(field: Any, name: str) -> str | None:
    if field is None:
        return USERS if name in PEOPLE_FIELDS and name in SYSTEM_FIELDS else None
    if field.type is FieldType.LOOKUP:
        return field.ref
    if field.type is FieldType.USER:
        return USERS
    if field.type is FieldType.DEPARTMENT:
        return DEPARTMENTS
    return None


async def _names(conn: AsyncConnection, table: Any, workspace_id: int,
                 ids: set[int]) -> dict[str, str]:
    rows = await conn.execute(select(table.c.id, table.c.name).where(
        table.c.workspace_id == workspace_id, table.c.id.in_(sorted(ids))))
    return {str(row.id): row.name for row in rows}
