"""Validation that needs the database: references point at existing records (or active
users, departments) and unique values are unused. Written for many records at once, so a
bulk write costs one query per field, not one per record."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.field_values.coercion import is_record_id
from loom.metamodel.entity import EntitySpec
from loom.metamodel.errors import Problem
from loom.metamodel.fields import FieldType
from loom.metamodel.i18n import LOCALES, localize, message
from loom.platform.compiled.app import AppRuntime
from loom.platform.storage.system_tables import departments, users

# (position in the batch, record values) — the values are changed in place when a
# reference given by email/name is resolved to its id.
Batch = Sequence[tuple[int, dict[str, Any]]]


async def resolve_references(conn: AsyncConnection, runtime: AppRuntime, spec: EntitySpec,
                             batch: Batch, fields: set[str]) -> dict[int, list[Problem]]:
    """Check and resolve the reference fields in ``fields`` for every record of ``batch``."""
    problems: dict[int, list[Problem]] = defaultdict(list)
    by_position = dict(batch)
    for name in sorted(fields):
        field = spec.fields.get(name)
        if field is None or field.type not in (FieldType.USER, FieldType.DEPARTMENT,
                                               FieldType.LOOKUP):
            continue
        given = [(pos, values[name]) for pos, values in batch if values.get(name) is not None]
        if not given:
            continue
        if field.type is FieldType.LOOKUP:
            target = runtime.tables[field.ref or ""]
            known = await _existing(conn, target.c.id, None, {v for _, v in given
                                                              if is_record_id(v)})
            found = {v: v for v in known}
            key = "missing_reference"
        elif field.type is FieldType.USER:
            found = await _by_key(conn, users.c.id, users.c.email, given,
                                  and_(users.c.workspace_id == runtime.workspace_id,
                                       users.c.active.is_(True)), lower=True)
            key = "missing_user"
        else:
            found = await _by_key(conn, departments.c.id, departments.c.name, given,
                                  departments.c.workspace_id == runtime.workspace_id)
            key = "missing_department"
        target_label = runtime.doc.entities[field.ref].label if field.ref else ""
        for pos, value in given:
            lookup_key = value.lower() if isinstance(value, str) and key == "missing_user" \
                else value
            if lookup_key in found:
                by_position[pos][name] = found[lookup_key]
            else:
                problems[pos].append(Problem(name, message(
                    key, label=spec.field_label(name), value=value, target=target_label),
                    code="reference"))
    return problems


async def _existing(conn: AsyncConnection, id_column: Any, condition: Any,
                    ids: set[int]) -> set[int]:
    if not ids:
        return set()
    query = select(id_column).where(id_column.in_(ids))
    if condition is not None:
        query = query.where(condition)
    return set((await conn.execute(query)).scalars())


async def _by_key(conn: AsyncConnection, id_column: Any, key_column: Any,
                  given: list[tuple[int, Any]], condition: Any, *,
                  lower: bool = False) -> dict[Any, int]:
    """Map given ids and keys (email, name) to ids that exist under ``condition``."""
    ids = {v for _, v in given if is_record_id(v)}
    keys = {(v.lower() if lower else v) for _, v in given if isinstance(v, str)}
    clauses = []
    if ids:
        clauses.append(id_column.in_(ids))
    if keys:
        clauses.append(key_column.in_(keys))
    if not clauses:  # nothing that could match (e.g. ids out of range)
        return {}
    rows = (await conn.execute(select(id_column, key_column)
                               .where(condition, or_(*clauses)))).all()
    found: dict[Any, int] = {}
    for row_id, key in rows:
        if row_id in ids:
            found[row_id] = row_id
        if key in keys:
            found[key] = row_id
    return found


def unique_groups(spec: EntitySpec) -> list[tuple[str, ...]]:
    """Field groups whose values must be unique together (single unique fields first)."""
    groups = [(name,) for name, field in spec.stored_fields().items()
              if field.unique or field.type is FieldType.SERIAL]
    groups += [tuple(index.fields) for index in spec.indexes if index.unique]
    return groups


async def find_duplicates(conn: AsyncConnection, runtime: AppRuntime, entity: str,
                          spec: EntitySpec, batch: Batch,
                          changed: dict[int, set[str]]) -> dict[int, list[Problem]]:
    """Unique values already used by another record, or twice within the batch."""
    table = runtime.tables[entity]
    problems: dict[int, list[Problem]] = defaultdict(list)
    for group in unique_groups(spec):
        candidates = [(pos, values) for pos, values in batch
                      if set(group) & changed.get(pos, set())
                      and all(values.get(name) is not None for name in group)]
        if not candidates:
            continue
        keys = {pos: tuple(values[name] for name in group) for pos, values in candidates}
        columns = [table.c[name] for name in group]
        target = columns[0] if len(columns) == 1 else tuple_(*columns)
        wanted = [key[0] if len(group) == 1 else key for key in keys.values()]
        rows = (await conn.execute(select(table.c.id, *columns)
                                   .where(target.in_(wanted)))).all()
        taken = {tuple(row[1:]): row[0] for row in rows}
        seen: dict[tuple[Any, ...], int] = {}
        for pos, values in candidates:
            key = keys[pos]
            owner = taken.get(key)
            clash = (owner is not None and owner != values.get("id")) or key in seen
            seen.setdefault(key, pos)
            if clash:
                name = group[0]
                problems[pos].append(Problem(name, message(
                    "not_unique", label=group_label(spec, group),
                    value="/".join(str(v) for v in key)), code="unique"))
    return problems


def group_label(spec: EntitySpec, group: tuple[str, ...]) -> Any:
    """The label of a unique field, or of a group of fields unique together."""
    if len(group) == 1:
        return spec.field_label(group[0])
    return {locale: "+".join(localize(spec.field_label(name), locale) for name in group)
            for locale in LOCALES}
