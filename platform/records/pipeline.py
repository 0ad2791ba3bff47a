"""The write pipeline: the one path every record change takes — API, UI, import, rule, flow.

Order (DESIGN.md): load the current row (locked on PostgreSQL) and check permission, read
the input (dropping what may not be written) → defaults → before-save hooks → validate
everything (types, required, references, unique; all problems at once) → write with an
optimistic version check and the audit row → after-save hooks (rules, flows, outbox).
All of it runs on the caller's connection, inside the caller's transaction.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.forms.validation import missing_required
from loom.engines.forms.values import is_record_id
from loom.metamodel.entity import EntitySpec
from loom.metamodel.errors import Conflict, NotFound, Problem, ValidationFailed
from loom.metamodel.fields import FieldType
from loom.metamodel.i18n import message
from loom.platform.apps.runtime import AppRuntime
from loom.platform.clock import Clock
from loom.platform.outbox.store import enqueue
from loom.platform.records.audit import audit_row, field_changes, write_audit
from loom.platform.records.checks import (
    find_duplicates,
    group_label,
    resolve_references,
    unique_groups,
)
from loom.platform.records.context import PipelineHook, WriteBudget, WriteContext
from loom.platform.records.evaluation import prepare, record_env
from loom.platform.records.prepare import check_set_values, literal_defaults, read_changes
from loom.platform.records.serials import next_serial
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import FULL_ACCESS, Access, authorize, require_reach

log = logging.getLogger("loom.records")
TRUSTED_SOURCES = frozenset({"rule", "flow", "system", "job"})
REFERENCE_TYPES = (FieldType.LOOKUP, FieldType.USER, FieldType.DEPARTMENT)


class RecordPipeline:
    def __init__(self, clock: Clock, hooks: Sequence[PipelineHook] = ()) -> None:
        self.clock = clock
        self.hooks = list(hooks)

    # --- create ---------------------------------------------------------------------------

    async def create(self, conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                     entity: str, data: Any, *,
                     budget: WriteBudget | None = None) -> dict[str, Any]:
        return (await self.create_many(conn, runtime, actor, entity, [data],
                                       budget=budget, single=True))[0]

    async def create_many(self, conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                          entity: str, items: Sequence[Any], *,
                          budget: WriteBudget | None = None,
                          single: bool = False) -> list[dict[str, Any]]:
        """Create records, all or none. Checks and the insert are set-based over the batch."""
        created, _ = await self._create(conn, runtime, actor, entity, items, budget=budget,
                                        single=single, keep_valid=False)
        return list(created.values())

    async def create_valid(self, conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                           entity: str, items: Sequence[Any], *,
                           budget: WriteBudget | None = None,
                           ) -> tuple[dict[int, dict[str, Any]], dict[int, list[Problem]]]:
        """Create the records of ``items`` that pass every check, set-based like
        ``create_many``; the refused ones come back with their problems (by position in
        ``items``) instead of failing the batch — for imports, which report refused rows
        and keep the others."""
        return await self._create(conn, runtime, actor, entity, items, budget=budget,
                                  single=False, keep_valid=True)

    async def _create(self, conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                      entity: str, items: Sequence[Any], *, budget: WriteBudget | None,
                      single: bool, keep_valid: bool,
                      ) -> tuple[dict[int, dict[str, Any]], dict[int, list[Problem]]]:
        access = await authorize(conn, actor, runtime, entity, "create")
        if not items:  # an INSERT of no rows would be one row of defaults
            return {}, {}
        spec, tz = runtime.entity(entity), _tz(runtime)
        budget = budget or WriteBudget.for_batch(len(items))
        now = self.clock.now()
        contexts: list[WriteContext] = []
        problems: dict[int, list[Problem]] = {}
        for position, item in enumerate(items):
            changes, found = read_changes(spec, item, access, tz=tz,
                                          trusted=actor.source in TRUSTED_SOURCES)
            values = literal_defaults(spec, changes, tz=tz) | changes
            values = runtime.expressions[entity].default_values(
                spec, values, record_env(runtime, actor, now), tz=tz) | values
            ctx = WriteContext(conn, runtime, entity, spec, actor, now, "create", None, values,
                               budget)
            found += await self._before_save(ctx, tz)
            problems[position] = _with_required(spec, found, ctx.new, ctx.required)
            contexts.append(ctx)
        batch = [(pos, ctx.new) for pos, ctx in enumerate(contexts)]
        changed = {pos: ctx.changed() for pos, ctx in enumerate(contexts)}
        await self._check_database(conn, runtime, entity, spec, batch, changed, problems)
        refused = {pos: found for pos, found in problems.items() if found}
        if not keep_valid:
            _raise_problems(problems, single)
        kept = [pos for pos in range(len(contexts)) if pos not in refused]
        contexts = [contexts[pos] for pos in kept]
        if not contexts:
            return {}, refused
        for ctx in contexts:
            await self._fill_serials(ctx, tz)
        ids = await self._insert(conn, runtime, entity, spec, actor, contexts, single)
        records = []
        for ctx, record_id in zip(contexts, ids, strict=True):
            ctx.new.update(id=record_id, version=1, created_at=now, updated_at=now,
                           created_by=actor.user_id, updated_by=actor.user_id)
            records.append(ctx.new)
        await write_audit(conn, [
            audit_row(ctx, ctx.new["id"], 1, field_changes(None, ctx.new, list(spec.fields)))
            for ctx in contexts])
        budget.enter(f"new {entity}")
        try:
            for ctx in contexts:
                await self._after_save(ctx)
        finally:
            budget.leave()
        return ({pos: self._public(spec, record) for pos, record in zip(kept, records,
                                                                        strict=True)},
                refused)

    async def _insert(self, conn: AsyncConnection, runtime: AppRuntime, entity: str,
                      spec: EntitySpec, actor: Actor, contexts: list[WriteContext],
                      single: bool) -> list[int]:
        table = runtime.tables[entity]
        columns = set(spec.stored_fields())
        rows = []
        for ctx in contexts:
            row = {name: ctx.new.get(name) for name in columns}
            row.update(version=1, created_at=ctx.now, updated_at=ctx.now,
                       created_by=actor.user_id, updated_by=actor.user_id)
            rows.append(row)
        try:
            result = await conn.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        except IntegrityError as exc:
            raise _integrity_problem(exc, table, spec,
                                     contexts[0].new if len(contexts) == 1 else None) from None
        return list(result.scalars())

    async def _fill_serials(self, ctx: WriteContext, tz: ZoneInfo) -> None:
        for name, field in ctx.spec.fields.items():
            if field.type is FieldType.SERIAL and ctx.new.get(name) is None:
                ctx.new[name] = await next_serial(ctx.conn, ctx.runtime.app_id, ctx.entity,
                                                  name, field.format or "{seq}", ctx.now, tz)

    # --- update ---------------------------------------------------------------------------

    async def update(self, conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                     entity: str, record_id: int, data: Any, *,
                     expected_version: int | None = None,
                     budget: WriteBudget | None = None,
                     access: Access | None = None,
                     computed: dict[str, Any] | None = None) -> dict[str, Any]:
        """Change a record. ``expected_version`` (from If-Match) makes a stale write a 409.
        ``computed``: values of computed fields (roll-ups, formulas) the platform sets."""
        if access is None:
            access = await authorize(conn, actor, runtime, entity, "update")
            await require_reach(conn, runtime, actor, access, entity, record_id, "update",
                                self.clock.now())
        spec, tz, budget = runtime.entity(entity), _tz(runtime), budget or WriteBudget()
        current = await self.load(conn, runtime, entity, record_id, lock=True)
        _check_version(spec, current, expected_version)
        changes, found = read_changes(spec, data, access, tz=tz, current=current,
                                      trusted=actor.source in TRUSTED_SOURCES)
        changes.update(computed or {})
        ctx = WriteContext(conn, runtime, entity, spec, actor, self.clock.now(), "update",
                           current, {**current, **changes}, budget)
        budget.enter(f"{entity}#{record_id}")
        try:
            found += await self._before_save(ctx, tz)
            changed = ctx.changed()
            problems = {0: _with_required(spec, found, ctx.new, ctx.required)}
            await self._check_database(conn, runtime, entity, spec, [(0, ctx.new)],
                                       {0: changed}, problems)
            _raise_problems(problems, single=True)
            stored = set(spec.stored_fields()) & changed
            if not stored:
                return self._public(spec, current)
            version = await self._write_update(ctx, stored)
            await write_audit(conn, [audit_row(ctx, record_id, version,
                                               field_changes(current, ctx.new, sorted(stored)))])
            await self._after_save(ctx)
        finally:
            budget.leave()
        return self._public(spec, ctx.new)

    async def _write_update(self, ctx: WriteContext, fields: set[str]) -> int:
        table = ctx.runtime.tables[ctx.entity]
        old_version = ctx.old["version"] if ctx.old else 0
        values = {name: ctx.new[name] for name in fields}
        values.update(version=old_version + 1, updated_at=ctx.now,
                      updated_by=ctx.actor.user_id)
        try:
            result = await ctx.conn.execute(
                update(table).where(table.c.id == ctx.record_id,
                                    table.c.version == old_version)
                .values(**values).returning(table.c.version))
        except IntegrityError as exc:
            raise _integrity_problem(exc, table, ctx.spec, ctx.new) from None
        version = result.scalar_one_or_none()
        if version is None:  # changed between load and write (only without row locks)
            raise Conflict(message("stale_version", current="?", sent=old_version))
        ctx.new.update(version=version, updated_at=ctx.now, updated_by=ctx.actor.user_id)
        return version

    # --- delete ---------------------------------------------------------------------------

    async def delete(self, conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                     entity: str, record_id: int, *, expected_version: int | None = None,
                     budget: WriteBudget | None = None, check: bool = True) -> None:
        """Delete a record; records pointing at it are handled as their lookup says
        (restrict: refuse, set_null: clear the reference, cascade: delete them too)."""
        if check:
            access = await authorize(conn, actor, runtime, entity, "delete")
            await require_reach(conn, runtime, actor, access, entity, record_id, "delete",
                                self.clock.now())
        spec, budget = runtime.entity(entity), budget or WriteBudget()
        current = await self.load(conn, runtime, entity, record_id, lock=True)
        _check_version(spec, current, expected_version)
        ctx = WriteContext(conn, runtime, entity, spec, actor, self.clock.now(), "delete",
                           current, {}, budget)
        budget.enter(f"delete {entity}#{record_id}")
        try:
            await self._release_references(ctx)
            table = runtime.tables[entity]
            await conn.execute(delete(table).where(table.c.id == record_id))
            await write_audit(conn, [audit_row(ctx, record_id, current["version"],
                                               field_changes(current, None, list(spec.fields)))])
            await self._after_save(ctx)
        finally:
            budget.leave()

    async def _release_references(self, ctx: WriteContext) -> None:
        runtime = ctx.runtime
        problems = []
        for child_name, child in runtime.doc.entities.items():
            for field_name, field in child.fields.items():
                if field.type is not FieldType.LOOKUP or field.ref != ctx.entity:
                    continue
                table = runtime.tables[child_name]
                ids = list((await ctx.conn.execute(
                    select(table.c.id).where(table.c[field_name] == ctx.record_id)
                    .order_by(table.c.id))).scalars())
                if not ids:
                    continue
                behaviour = on_delete(runtime, child_name, field_name)
                if behaviour == "restrict":
                    problems.append(Problem(None, message(
                        "referenced", count=len(ids), entity=child.label,
                        label=child.field_label(field_name)), code="referenced"))
                    continue
                system = ctx.actor.via("system")
                for child_id in ids:
                    if behaviour == "cascade":
                        await self.delete(ctx.conn, runtime, system, child_name, child_id,
                                          budget=ctx.budget, check=False)
                    else:
                        await self.update(ctx.conn, runtime, system, child_name, child_id,
                                          {field_name: None}, budget=ctx.budget,
                                          access=FULL_ACCESS)
        if problems:
            raise Conflict(problems[0].message, problems)

    # --- shared steps ---------------------------------------------------------------------

    async def load(self, conn: AsyncConnection, runtime: AppRuntime, entity: str,
                   record_id: int, *, lock: bool = False) -> dict[str, Any]:
        table = runtime.tables[entity]
        row = None
        if is_record_id(record_id):  # beyond the id range the database would fail, not miss
            query = select(table).where(table.c.id == record_id)
            if lock:
                query = query.with_for_update()
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            raise NotFound(message("not_found_record", entity=runtime.entity(entity).label,
                                   id=record_id))
        return dict(row)

    async def _check_database(self, conn: AsyncConnection, runtime: AppRuntime, entity: str,
                              spec: EntitySpec, batch: list[tuple[int, dict[str, Any]]],
                              changed: dict[int, set[str]],
                              problems: dict[int, list[Problem]]) -> None:
        reference_fields = {name for name, field in spec.fields.items()
                            if field.type in REFERENCE_TYPES
                            and any(name in names for names in changed.values())}
        for pos, found in (await resolve_references(conn, runtime, spec, batch,
                                                    reference_fields)).items():
            problems.setdefault(pos, []).extend(found)
        if unique_groups(spec):
            for pos, found in (await find_duplicates(conn, runtime, entity, spec, batch,
                                                     changed)).items():
                problems.setdefault(pos, []).extend(found)

    async def _before_save(self, ctx: WriteContext, tz: ZoneInfo) -> list[Problem]:
        """Run the before-save hooks; what they set is checked like any input."""
        before = copy.deepcopy(ctx.new)  # deep: a hook may change a list in place
        ctx.recompute = lambda: self._compute(ctx, tz)
        await self._compute(ctx, tz)
        for hook in self.hooks:
            await hook.before_save(ctx)
        found = check_set_values(ctx.spec, before, ctx.new, tz=tz) + ctx.problems
        await self._compute(ctx, tz)
        return found

    async def _compute(self, ctx: WriteContext, tz: ZoneInfo) -> None:
        """Formula fields from the record as it stands, and which fields its conditions
        make required (DESIGN.md: formulas are recomputed after every change)."""
        exprs = ctx.runtime.expressions[ctx.entity]
        compiled = exprs.compiled()
        if not compiled:
            return
        data, env = await prepare(ctx.conn, ctx.runtime, ctx.entity, ctx.new, compiled,
                                  ctx.actor, ctx.now, prior=ctx.old, changed=ctx.changed())
        values, failures = exprs.compute(data, env, tz=tz)
        for name, reason in failures:
            log.warning("formula failed", extra={"entity": ctx.entity, "field": name,
                                                 "reason": reason})
        ctx.new.update(values)
        data.update(values)
        ctx.required = exprs.required(data, env)

    async def _after_save(self, ctx: WriteContext) -> None:
        for hook in self.hooks:
            await hook.after_save(ctx)
        # side effects the hooks decided on are recorded in this same transaction
        for item in ctx.outbox:
            await enqueue(ctx.conn, workspace_id=ctx.runtime.workspace_id,
                          app_id=ctx.runtime.app_id, kind=item["kind"], key=item["key"],
                          payload=item["payload"], now=ctx.now)
        ctx.outbox.clear()

    @staticmethod
    def _public(spec: EntitySpec, record: dict[str, Any]) -> dict[str, Any]:
        """The record as callers see it: system fields and the entity's current fields."""
        names = ("id", "version", "created_at", "updated_at", "created_by", "updated_by")
        out = {name: record.get(name) for name in names}
        out.update({name: record.get(name) for name in spec.stored_fields()})
        return out


def on_delete(runtime: AppRuntime, child: str, field_name: str) -> str:
    """What deleting the referenced record does to ``child.field_name``: the lookup's own
    setting, else cascade for line items of a subtable, else restrict."""
    field = runtime.doc.entities[child].fields[field_name]
    if field.on_delete:
        return field.on_delete
    for parent in runtime.doc.entities.values():
        for spec in parent.fields.values():
            if spec.type is FieldType.SUBTABLE and spec.entity == child and \
                    spec.link_field == field_name:
                return "cascade"
    return "restrict"


def _tz(runtime: AppRuntime) -> ZoneInfo:
    return ZoneInfo(runtime.doc.app.timezone)


def _check_version(spec: EntitySpec, current: dict[str, Any], expected: int | None) -> None:
    if expected is not None and current["version"] != expected:
        raise Conflict(message("stale_version", current=current["version"], sent=expected))


def _with_required(spec: EntitySpec, found: list[Problem], record: dict[str, Any],
                   required_now: set[str]) -> list[Problem]:
    """The input's problems, then the required fields left blank (``required_now``: those
    whose ``required_if`` holds). A field whose value was refused is blank too, but is
    reported once: for what was wrong with the value."""
    refused = {problem.field for problem in found}
    return found + [problem for problem in missing_required(spec, record,
                                                            required_now.__contains__)
                    if problem.field not in refused]


def _raise_problems(problems: dict[int, list[Problem]], single: bool) -> None:
    found = [Problem(p.field, p.message, p.code, None if single else pos)
             for pos, items in sorted(problems.items()) for p in items]
    if found:
        raise ValidationFailed(message("validation_failed", count=len(found)), found)


def _integrity_problem(exc: IntegrityError, table: Table, spec: EntitySpec,
                       record: dict[str, Any] | None = None) -> ValidationFailed:
    """A constraint the database caught (a concurrent write slipped past the checks). The
    unique index the error names says which field; ``record`` (a single write) its value."""
    text = str(exc.orig)
    for index in table.indexes:
        group = tuple(column.name for column in index.columns)
        # PostgreSQL names the index, SQLite the columns ("UNIQUE constraint failed: t.a")
        sqlite_says = "UNIQUE constraint failed: " + ", ".join(f"{table.name}.{name}"
                                                               for name in group)
        if index.unique and (f'"{index.name}"' in text or text.strip().endswith(sqlite_says)):
            value = "/".join(str(record.get(name)) for name in group) if record else "?"
            return ValidationFailed(message("validation_failed", count=1), [Problem(
                group[0], message("not_unique", label=group_label(spec, group), value=value),
                code="unique")])
    return ValidationFailed(message("validation_failed", count=1), [Problem(
        None, message("missing_reference", label="", target="", value="?"))])
