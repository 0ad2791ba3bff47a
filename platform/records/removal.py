"""What deleting a record does to the records around it, decided before anything changes.

Each lookup pointing at a deleted record says (``on_delete``): ``restrict`` refuses,
``set_null`` clears the reference, ``cascade`` deletes the referencing record too — and
so on down the cascade. On top of that, a record the app's rules, flows, record actions
or roles name by a value (``engines/key_references.py``) may not go: they would stop
working. ``plan_removal`` finds all of it set-based (one query per lookup and level), so
``GET …/delete-impact`` can show it and the pipeline can refuse a delete whole, naming
every reason, before it changes a row. ``Removal`` records what a delete then did, for
its answer and for the recycle bin.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.field_values.coercion import is_record_id
from loom.engines.key_references import KeyReference
from loom.metamodel.errors import Conflict, NotFound, Problem
from loom.metamodel.fields import FieldType
from loom.metamodel.i18n import localize, message, register_messages
from loom.platform.compiled.app import AppRuntime
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import authorize, require_reach

CHUNK = 500  # ids per IN list

register_messages({
    "named_by_metadata": {
        "en": "{kind} “{label}” ({name}) finds the {entity} with {field} = {value}; it would "
              "stop working. Change it first",
        "zh-CN": "{kind}“{label}”（{name}）按{field} = {value}查找{entity}，删除后它将无法"
                 "工作，请先修改它",
    },
})

KIND_LABELS = {"rule": {"en": "Rule", "zh-CN": "规则"}, "flow": {"en": "Flow", "zh-CN": "流程"},
               "action": {"en": "Record action", "zh-CN": "记录操作"},
               "role": {"en": "Role", "zh-CN": "角色"}}


def referencing_lookups(runtime: AppRuntime, entity: str) -> list[tuple[str, str]]:
    """(entity, lookup field) of every lookup that points at ``entity`` records."""
    return [(child_name, field_name)
            for child_name, child in runtime.doc.entities.items()
            for field_name, spec in child.fields.items()
            if spec.type is FieldType.LOOKUP and spec.ref == entity and spec.has_column]


def on_delete(runtime: AppRuntime, child: str, field_name: str) -> str:
    """What deleting the referenced record does to ``child.field_name``: the lookup's own
    setting, else cascade for line items of a subtable, else restrict."""
    spec = runtime.doc.entities[child].fields[field_name]
    if spec.on_delete:
        return spec.on_delete
    for parent in runtime.doc.entities.values():
        for other in parent.fields.values():
            if other.type is FieldType.SUBTABLE and other.entity == child and \
                    other.link_field == field_name:
                return "cascade"
    return "restrict"


def named_problem(runtime: AppRuntime, ref: KeyReference, key: str = "named_by_metadata",
                  ) -> Problem:
    """One rule (flow, action, role) that finds a record by a value, in the reader's words."""
    spec = runtime.entity(ref.entity)
    return Problem(ref.field, message(key, kind=KIND_LABELS[ref.kind], label=ref.label,
                                      name=ref.name, entity=spec.label,
                                      field=spec.field_label(ref.field), value=ref.value),
                   code="named_by_metadata")


def referenced_problem(runtime: AppRuntime, child: str, field_name: str,
                       count: int) -> Problem:
    """``count`` records of ``child`` still point here through a restricting lookup."""
    spec = runtime.entity(child)
    return Problem(None, message("referenced", count=count, entity=spec.label,
                                 label=spec.field_label(field_name)), code="referenced")


@dataclass
class RemovalPlan:
    """What deleting ``entity`` #``record_id`` would do: the records that go with it, the
    references cleared, the references that refuse it, the metadata that names one of
    the records going."""

    entity: str
    record_id: int
    deletes: dict[str, set[int]] = field(default_factory=dict)  # besides the record
    clears: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    restricts: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    named: list[tuple[int, KeyReference]] = field(default_factory=list)

    def size(self) -> int:
        """How many records the delete writes: the record, those going with it, those
        whose reference it clears."""
        return 1 + sum(len(ids) for ids in self.deletes.values()) + sum(
            len(ids) for ids in self.clears.values())

    def problems(self, runtime: AppRuntime) -> list[Problem]:
        found = [named_problem(runtime, ref) for _id, ref in self.named]
        return found + [referenced_problem(runtime, child, field_name, len(ids))
                        for (child, field_name), ids in sorted(self.restricts.items())]

    def refuse(self, runtime: AppRuntime) -> None:
        """Raise the 409 naming every reason, if there is one."""
        problems = self.problems(runtime)
        if problems:
            raise Conflict(problems[0].message, problems)

    def as_json(self, runtime: AppRuntime, locale: str) -> dict[str, Any]:
        out = {"entity": self.entity, "id": self.record_id, "allowed": True,
               **effects_json(runtime, locale, Counter({e: len(ids) for e, ids in
                                                        self.deletes.items() if ids}),
                              Counter({key: len(ids) for key, ids in self.clears.items()
                                       if ids})),
               "restricts": [_field_group(runtime, locale, child, name, len(ids))
                             for (child, name), ids in sorted(self.restricts.items())],
               "named_by": [{"kind": ref.kind, "name": ref.name,
                             "label": localize(ref.label, locale), "entity": ref.entity,
                             "id": record_id, "field": ref.field, "value": ref.value,
                             "path": ref.path} for record_id, ref in self.named]}
        problems = self.problems(runtime)
        out["allowed"] = not problems
        out["errors"] = [problem.render(locale) for problem in problems]
        return out


@dataclass
class Removal:
    """What one delete did: the rows it removed (dependants first, the record last) and
    the references it cleared (entity, field, record id, the id it held)."""

    entity: str
    record_id: int
    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    cleared: list[tuple[str, str, int, int]] = field(default_factory=list)
    recycle_bin_id: int | None = None

    def as_json(self, runtime: AppRuntime, locale: str) -> dict[str, Any]:
        deletes = Counter(entity for entity, row in self.rows
                          if (entity, row["id"]) != (self.entity, self.record_id))
        clears = Counter((entity, name) for entity, name, _id, _old in self.cleared)
        return {"entity": self.entity, "id": self.record_id,
                "recycle_bin_id": self.recycle_bin_id,
                **effects_json(runtime, locale, deletes, clears)}


def effects_json(runtime: AppRuntime, locale: str, deletes: Counter[str],
                 clears: Counter[tuple[str, str]]) -> dict[str, Any]:
    """``deletes`` per entity and ``clears`` per lookup, labelled in ``locale``."""
    return {"deletes": [{"entity": entity, "label": _label(runtime, entity, locale),
                         "count": count} for entity, count in sorted(deletes.items())],
            "clears": [_field_group(runtime, locale, entity, name, count)
                       for (entity, name), count in sorted(clears.items())]}


def _label(runtime: AppRuntime, entity: str, locale: str) -> str:
    spec = runtime.doc.entities.get(entity)
    return localize(spec.label, locale) if spec is not None else entity


def _field_group(runtime: AppRuntime, locale: str, entity: str, name: str,
                 count: int) -> dict[str, Any]:
    spec = runtime.doc.entities.get(entity)
    return {"entity": entity, "label": _label(runtime, entity, locale), "field": name,
            "field_label": localize(spec.field_label(name), locale) if spec else name,
            "count": count}


async def require_delete(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                         entity: str, record_id: int, now: datetime) -> None:
    """May ``actor`` delete this record (403, or 404 outside their reach)?"""
    access = await authorize(conn, actor, runtime, entity, "delete")
    await require_reach(conn, runtime, actor, access, entity, record_id, "delete", now)


async def delete_impact(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                        entity: str, record_id: int, now: datetime) -> RemovalPlan:
    """What deleting the record would do, for someone who may delete it."""
    await require_delete(conn, runtime, actor, entity, record_id, now)
    table = runtime.tables[entity]
    if not is_record_id(record_id) or await conn.scalar(
            select(table.c.id).where(table.c.id == record_id)) is None:
        raise NotFound(message("not_found_record", entity=runtime.entity(entity).label,
                               id=record_id))
    return await plan_removal(conn, runtime, entity, record_id)


async def plan_removal(conn: AsyncConnection, runtime: AppRuntime, entity: str,
                       record_id: int) -> RemovalPlan:
    """Walk the cascade level by level: what deleting the record would delete, clear and
    run into. Changes nothing."""
    plan = RemovalPlan(entity, record_id)
    going: dict[str, set[int]] = {entity: {record_id}}
    frontier: dict[str, set[int]] = {entity: {record_id}}
    while frontier:
        following: dict[str, set[int]] = {}
        for parent, ids in sorted(frontier.items()):
            plan.named += await _named(conn, runtime, parent, ids)
            for child, field_name in referencing_lookups(runtime, parent):
                found = await _pointing(conn, runtime, child, field_name, ids)
                behaviour = on_delete(runtime, child, field_name)
                if behaviour == "cascade":
                    new = found - going.setdefault(child, set())
                    going[child] |= new
                    if new:
                        following.setdefault(child, set()).update(new)
                elif found:
                    target = plan.restricts if behaviour == "restrict" else plan.clears
                    target.setdefault((child, field_name), set()).update(found)
        frontier = following
    going[entity].discard(record_id)
    plan.deletes = {name: ids for name, ids in going.items() if ids}
    # a record that goes anyway is not also "cleared"
    plan.clears = {key: ids - going.get(key[0], set()) for key, ids in plan.clears.items()}
    return plan


async def _pointing(conn: AsyncConnection, runtime: AppRuntime, child: str, field_name: str,
                    ids: Iterable[int]) -> set[int]:
    table = runtime.tables[child]
    found: set[int] = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        found.update((await conn.execute(select(table.c.id).where(
            table.c[field_name].in_(ordered[start:start + CHUNK])))).scalars())
    return found


async def _named(conn: AsyncConnection, runtime: AppRuntime, entity: str,
                 ids: set[int]) -> list[tuple[int, KeyReference]]:
    """The records among ``ids`` the metadata names by a value, with the names."""
    fields = runtime.keys.fields(entity)
    if not fields:
        return []
    table = runtime.tables[entity]
    columns = [name for name in fields if name == "id" or name in table.c]
    if not columns:
        return []
    found: list[tuple[int, KeyReference]] = []
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        rows = (await conn.execute(select(*[table.c[name] for name in
                                            dict.fromkeys(["id", *columns])])
                                   .where(table.c.id.in_(ordered[start:start + CHUNK]))
                                   .order_by(table.c.id))).mappings().all()
        for row in rows:
            found += [(row["id"], ref) for ref in runtime.keys.naming(entity, dict(row))]
    return found
