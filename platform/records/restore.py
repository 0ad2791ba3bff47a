"""Restoring an item of the recycle bin: the record comes back with its id (so its history
goes on where it stopped), with the records its delete cascaded to, and the references
the delete cleared are set again where the referencing record still exists and still
points nowhere.

All or nothing, in one transaction, refused with every reason at once: an entity that is
gone from the app, an id taken meanwhile, a unique value someone else uses now, a lookup
pointing at a record that no longer exists (restore that one first), a value that no
longer fits its field. The restored rows are written as they were (version + 1, audited
as ``restore``); they set off no rules and start no flows — they were created once, and
their emails and tasks went out then — but roll-ups over them are refreshed. The cleared
references are set again through the pipeline, like any change (audited, rules on
update fire as they did when the delete cleared them).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.field_values.coercion import BadValue, coerce
from loom.metamodel.entity import SYSTEM_FIELDS
from loom.metamodel.errors import Conflict, NotFound, Problem
from loom.metamodel.fields import FieldType
from loom.metamodel.i18n import message, register_messages
from loom.platform.compiled.app import AppRuntime
from loom.platform.records.audit import audit_row, field_changes, write_audit
from loom.platform.records.change_request import field_problem
from loom.platform.records.context import WriteBudget, WriteContext
from loom.platform.records.database_checks import find_duplicates
from loom.platform.records.recycle_bin import oldest_kept
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import FULL_ACCESS
from loom.platform.storage.system_tables import recycle_bin, users

register_messages({
    "recycle_not_found": {"en": "The recycle bin has no item {id} (items are kept {days} "
                                "days)",
                          "zh-CN": "回收站中没有编号为 {id} 的项目（项目保留 {days} 天）"},
    "recycle_restored_already": {"en": "Item {id} was restored already ({at}, by {who})",
                                 "zh-CN": "项目 {id} 已于 {at} 由{who}恢复"},
    "restore_refused": {"en": "The records cannot be restored: {count} problem(s)",
                        "zh-CN": "无法恢复这些记录：{count} 处问题"},
    "restore_entity_gone": {"en": "The app has no entity '{entity}' any more",
                            "zh-CN": "应用中已没有实体“{entity}”"},
    "restore_id_taken": {"en": "{entity} #{id} exists again (a new record took its id)",
                         "zh-CN": "{entity} #{id} 已存在（新记录占用了它的编号）"},
    "restore_missing_link": {
        "en": "{label}: {target} #{value} no longer exists; restore it first",
        "zh-CN": "{label}：{target} #{value} 已不存在，请先恢复它",
    },
})


async def restore_item(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                       pipeline: Any, item_id: int, *, now: datetime,
                       days: int) -> dict[str, Any]:
    """Restore bin item ``item_id``; what came back and which references were set again."""
    item = await _item(conn, runtime, item_id, now, days)
    # dependants were deleted first: parents come back first
    entries = list(reversed(item["payload"]["rows"]))
    problems: list[Problem] = []
    rows = [(entry["entity"], _typed(runtime, entry, problems)) for entry in entries]
    if not problems:
        problems += await _conflicts(conn, runtime, rows)
    if problems:
        raise Conflict(message("restore_refused", count=len(problems)), problems)
    budget = WriteBudget.for_batch(len(rows))
    for entity, row in rows:
        await _put_back(conn, runtime, actor, pipeline, entity, row, now, budget)
    relinked, left = await _relink(conn, runtime, actor, pipeline, item["payload"]["cleared"],
                                   budget)
    await conn.execute(update(recycle_bin).where(recycle_bin.c.id == item_id)
                       .values(restored_at=now, restored_by=actor.user_id))
    top, *others = [{"entity": entity, "id": row["id"]} for entity, row in rows]
    return {"id": item_id, "restored": [top, *sorted(others, key=lambda r: (r["entity"],
                                                                            r["id"]))],
            "relinked": relinked, "not_relinked": left}


async def _item(conn: AsyncConnection, runtime: AppRuntime, item_id: int, now: datetime,
                days: int) -> Any:
    row = (await conn.execute(
        select(recycle_bin, users.c.name.label("restorer"))
        .outerjoin(users, users.c.id == recycle_bin.c.restored_by)
        .where(recycle_bin.c.id == item_id, recycle_bin.c.app_id == runtime.app_id,
               recycle_bin.c.deleted_at >= oldest_kept(now, days))
        .with_for_update(of=recycle_bin))).mappings().first()
    if row is None:
        raise NotFound(message("recycle_not_found", id=item_id, days=days))
    if row["restored_at"] is not None:
        text = message("recycle_restored_already", id=item_id,
                       at=row["restored_at"].isoformat(timespec="minutes"),
                       who=row["restorer"] or "—")
        raise Conflict(text, [Problem(None, text, code="restored")])
    return row


def _typed(runtime: AppRuntime, entry: dict[str, Any],
           problems: list[Problem]) -> dict[str, Any]:
    """A kept row with its values typed for the entity as it is now (fields removed since
    are left out; a value that no longer fits is a problem)."""
    spec = runtime.doc.entities.get(entry["entity"])
    if spec is None:
        problems.append(Problem(None, message("restore_entity_gone", entity=entry["entity"]),
                                code="entity_gone"))
        return {}
    kept = entry["row"]
    row: dict[str, Any] = {name: kept.get(name) for name in ("id", "version", "created_by",
                                                             "updated_by")}
    for name in ("created_at", "updated_at"):
        row[name] = datetime.fromisoformat(kept[name].replace("Z", "+00:00"))
    for name, field in spec.stored_fields().items():
        try:
            row[name] = coerce(field, kept.get(name)) if field.type is not FieldType.JSON \
                else kept.get(name)
        except BadValue as error:
            problems.append(field_problem(spec, name, error))
    return row


async def _conflicts(conn: AsyncConnection, runtime: AppRuntime,
                     rows: list[tuple[str, dict[str, Any]]]) -> list[Problem]:
    """Ids taken, unique values used, lookups pointing at records that are gone."""
    problems: list[Problem] = []
    coming: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entity, row in rows:
        coming[entity].append(row)
    for entity, batch in coming.items():
        spec, table = runtime.entity(entity), runtime.tables[entity]
        ids = [row["id"] for row in batch]
        for taken in (await conn.execute(select(table.c.id).where(table.c.id.in_(ids))
                                         .order_by(table.c.id))).scalars():
            problems.append(Problem("id", message("restore_id_taken", entity=spec.label,
                                                  id=taken), code="id_taken"))
        positioned = list(enumerate(batch))
        every = {pos: {name for name, value in row.items() if value is not None}
                 for pos, row in positioned}
        for found in (await find_duplicates(conn, runtime, entity, spec, positioned,
                                            every)).values():
            problems += found
        for name, field in spec.stored_fields().items():
            if field.type is FieldType.LOOKUP and field.ref:
                problems += await _missing_links(conn, runtime, entity, name, batch,
                                                 {row["id"] for row in
                                                  coming.get(field.ref, [])})
    return problems


async def _missing_links(conn: AsyncConnection, runtime: AppRuntime, entity: str, name: str,
                         batch: list[dict[str, Any]], coming: set[int]) -> list[Problem]:
    spec = runtime.entity(entity)
    ref = spec.fields[name].ref or ""
    wanted = {row[name] for row in batch if row.get(name) is not None} - coming
    if not wanted:
        return []
    table = runtime.tables[ref]
    there = set((await conn.execute(select(table.c.id).where(
        table.c.id.in_(sorted(wanted))))).scalars())
    return [Problem(name, message("restore_missing_link", label=spec.field_label(name),
                                  target=runtime.entity(ref).label, value=value),
                    code="reference") for value in sorted(wanted - there)]


async def _put_back(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, pipeline: Any,
                    entity: str, row: dict[str, Any], now: datetime,
                    budget: WriteBudget) -> None:
    spec = runtime.entity(entity)
    row.update(version=(row["version"] or 0) + 1, updated_at=now, updated_by=actor.user_id)
    columns = set(runtime.tables[entity].c.keys())
    await conn.execute(insert(runtime.tables[entity]).values(
        {name: value for name, value in row.items() if name in columns}))
    ctx = WriteContext(conn, runtime, entity, spec, actor, now, "restore", None, row, budget)
    names = [name for name in spec.stored_fields() if name not in SYSTEM_FIELDS]
    await write_audit(conn, [audit_row(ctx, row["id"], row["version"],
                                       field_changes(None, row, names))])
    await pipeline.after_save(ctx)  # roll-ups over the restored records


async def _relink(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, pipeline: Any,
                  cleared: list[dict[str, Any]], budget: WriteBudget,
                  ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Set the cleared references again where they still point nowhere."""
    done: dict[tuple[str, str], int] = defaultdict(int)
    left: dict[tuple[str, str], int] = defaultdict(int)
    system = actor.via("system")
    for link in cleared:
        entity, name = link["entity"], link["field"]
        spec = runtime.doc.entities.get(entity)
        field = spec.fields.get(name) if spec is not None else None
        if field is None or field.type is not FieldType.LOOKUP:
            left[(entity, name)] += 1
            continue
        table = runtime.tables[entity]
        current = (await conn.execute(select(table.c[name]).where(
            table.c.id == link["id"]))).first()
        if current is None or current[0] is not None:
            left[(entity, name)] += 1
            continue
        await pipeline.update(conn, runtime, system, entity, link["id"],
                              {name: link["value"]}, budget=budget, access=FULL_ACCESS)
        done[(entity, name)] += 1
    return ([{"entity": e, "field": f, "count": n} for (e, f), n in sorted(done.items())],
            [{"entity": e, "field": f, "count": n} for (e, f), n in sorted(left.items())])
