"""The write pipeline: the one path every record change takes — API, UI, import, rule, flow.

Order (DESIGN.md): load the current row (locked on PostgreSQL) and check permission, read
the input (dropping what may not be written) → defaults → before-save hooks → validate
everything (types, required, references, unique; all problems at once) → write with an
optimistic version check and the audit row → after-save hooks (rules, flows, outbox).
All of it runs on the caller's connection, inside the caller's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.field_values.coercion import is_record_id
from loom.engines.forms.validation import missing_required
from loom.metamodel.entity import EntitySpec
from loom.metamodel.errors import Conflict, NotFound, Problem, ValidationFailed
from loom.metamodel.fields import FieldType
from loom.metamodel.i18n import message
from loom.platform.clock import Clock
from loom.platform.compiled.app import AppRuntime
from loom.platform.outbox.store import enqueue_all
from loom.platform.records import recycle_bin
from loom.platform.records.audit import audit_row, field_changes, write_audit
from loom.platform.records.change_request import check_set_values, literal_defaults, read_changes
from loom.platform.records.context import (
    PipelineHook,
    WriteBudget,
    WriteContext,
    snapshot,
    write_later,
)
from loom.platform.records.database_checks import (
    find_duplicates,
    group_label,
    resolve_references,
    unique_groups,
)
from loom.platform.records.evaluation import prepare, record_env
from loom.platform.records.removal import (
    Removal,
    on_delete,
    plan_removal,
    referenced_problem,
    referencing_lookups,
    require_delete,
)
from loom.platform.records.serials import next_serial
from loom.platform.records.subtable_rows import (
    RowsGiven,
    RowsSaved,
    SubtableWriter,
    take_rows,
)
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import FULL_ACCESS, Access, authorize, require_reach

log = logging.getLogger("loom.records")
TRUSTED_SOURCES = frozenset({"rule", "flow", "system", "job"})
REFERENCE_TYPES = (FieldType.LOOKUP, FieldType.USER, FieldType.DEPARTMENT)


class RecordPipeline:
    def __init__(self, clock: Clock, hooks: Sequence[PipelineHook] = ()) -> None:
        self.clock = clock
        self.hooks = list(hooks)
        self.subtables = SubtableWriter(self)

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
        rows: dict[int, RowsSaved] = {}
        env = record_env(runtime, actor, now)  # of the expression defaults
        for position, item in enumerate(items):
            given: list[RowsGiven] = []
            found: list[Problem] = []
            if not keep_valid:  # a refused record of an import could not take its rows back
                item, given, found = take_rows(spec, item, access)
            changes, more = read_changes(spec, item, access, tz=tz,
                                         trusted=actor.source in TRUSTED_SOURCES)
            found += more
            values = literal_defaults(spec, changes, tz=tz) | changes
            values = runtime.expressions[entity].default_values(
                spec, values, env, tz=tz) | values
            ctx = WriteContext(conn, runtime, entity, spec, actor, now, "create", None, values,
                               budget)
            if given:
                rows[position] = await self.subtables.save(ctx, given)
                found += rows[position].problems
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
        stored = await self._insert(conn, runtime, entity, spec, actor, contexts, single)
        for ctx, row in zip(contexts, stored, strict=True):
            ctx.new.update(id=row["id"], version=ctx.new.get("version", 1), created_at=now,
                           updated_at=now, created_by=actor.user_id, updated_by=actor.user_id)
        await write_audit(conn, [
            audit_row(ctx, ctx.new["id"], ctx.new["version"],
                      field_changes(None, ctx.new, list(spec.fields))
                      | (rows[pos].audit if pos in rows else {}))
            for pos, ctx in zip(kept, contexts, strict=True)])
        budget.enter(f"new {entity}")
        writes = budget.writes
        try:
            for ctx in contexts:
                await self._after_save(ctx, flush=False)
            await write_later(conn, contexts)
        finally:
            budget.leave()
        # what the hooks wrote may have changed the records: then they are as saved here
        records = stored if budget.writes == writes else [ctx.new for ctx in contexts]
        return ({pos: self._public(spec, record) for pos, record in zip(kept, records,
                                                                        strict=True)},
                refused)

    async def _insert(self, conn: AsyncConnection, runtime: AppRuntime, entity: str,
                      spec: EntitySpec, actor: Actor, contexts: list[WriteContext],
                      single: bool) -> list[dict[str, Any]]:
        """Insert the new records; one staged with its line items already has its row,
        which gets its values. Returns the rows as stored (RETURNING, no second read)."""
        table = runtime.tables[entity]
        columns = set(spec.stored_fields())
        rows = []
        for ctx in contexts:
            row = {name: ctx.new.get(name) for name in columns}
            row.update(created_at=ctx.now, updated_at=ctx.now,
                       created_by=actor.user_id, updated_by=actor.user_id)
            rows.append(row)
        fresh = [row | {"version": 1} for ctx, row in zip(contexts, rows, strict=True)
                 if ctx.new.get("id") is None]
        staged: dict[int, dict[str, Any]] = {}
        try:
            for ctx, row in zip(contexts, rows, strict=True):
                if ctx.new.get("id") is not None:
                    staged[ctx.new["id"]] = dict((await conn.execute(
                        update(table).where(table.c.id == ctx.new["id"]).values(**row)
                        .returning(*table.c))).mappings().one())
            inserted = iter(await _insert_rows(conn, table, fresh) if fresh else [])
        except IntegrityError as exc:
            raise _integrity_problem(exc, table, spec,
                                     contexts[0].new if len(contexts) == 1 else None) from None
        return [staged[ctx.new["id"]] if ctx.new.get("id") is not None else next(inserted)
                for ctx in contexts]

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
        data, given, found = take_rows(spec, data, access)
        changes, more = read_changes(spec, data, access, tz=tz, current=current,
                                     trusted=actor.source in TRUSTED_SOURCES)
        found += more
        changes.update(computed or {})
        ctx = WriteContext(conn, runtime, entity, spec, actor, self.clock.now(), "update",
                           current, {**current, **changes}, budget)
        budget.enter(f"{entity}#{record_id}")
        try:
            rows = await self.subtables.save(ctx, given) if given else RowsSaved()
            found += rows.problems
            found += await self._before_save(ctx, tz)
            changed = ctx.changed()
            problems = {0: _with_required(spec, found, ctx.new, ctx.required)}
            await self._check_database(conn, runtime, entity, spec, [(0, ctx.new)],
                                       {0: changed}, problems)
            _raise_problems(problems, single=True)
            stored = set(spec.stored_fields()) & changed
            if not (stored or rows.touched or rows.staged):
                return self._public(spec, current)
            # what the rows' stage wrote is written again: a rule may have set it back
            row = await self._write_update(ctx, stored | rows.staged)
            await write_audit(conn, [audit_row(ctx, record_id, row["version"],
                                               field_changes(current, ctx.new, sorted(stored))
                                               | rows.audit)])
            writes = budget.writes
            await self._after_save(ctx)
        finally:
            budget.leave()
        # as in ``_create``: the row as stored, unless the hooks wrote more
        return self._public(spec, row if budget.writes == writes else ctx.new)

    async def _write_update(self, ctx: WriteContext, fields: set[str]) -> dict[str, Any]:
        """Write the changed fields with the next version; the row as stored comes back."""
        table = ctx.runtime.tables[ctx.entity]
        old_version = ctx.old["version"] if ctx.old else 0
        values = {name: ctx.new[name] for name in fields}
        values.update(version=old_version + 1, updated_at=ctx.now,
                      updated_by=ctx.actor.user_id)
        try:
            result = await ctx.conn.execute(
                update(table).where(table.c.id == ctx.record_id,
                                    table.c.version == old_version)
                .values(**values).returning(*table.c))
        except IntegrityError as exc:
            raise _integrity_problem(exc, table, ctx.spec, ctx.new) from None
        row = result.mappings().first()
        if row is None:  # changed between load and write (only without row locks)
            raise Conflict(message("stale_version", current="?", sent=old_version))
        ctx.new.update(version=row["version"], updated_at=ctx.now,
                       updated_by=ctx.actor.user_id)
        return dict(row)

    # --- delete ---------------------------------------------------------------------------

    async def delete(self, conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                     entity: str, record_id: int, *, expected_version: int | None = None,
                     budget: WriteBudget | None = None) -> Removal:
        """Delete a record; records pointing at it are handled as their lookup says
        (restrict: refuse, set_null: clear the reference, cascade: delete them too).
        Decided first (``plan_removal``): refused whole — naming every restriction and
        every rule or flow that finds one of the records by a value — before a row
        changes. Then done record by record through this pipeline, each change audited,
        and what went is kept in the recycle bin."""
        await require_delete(conn, runtime, actor, entity, record_id, self.clock.now())
        current = await self.load(conn, runtime, entity, record_id, lock=True)
        _check_version(runtime.entity(entity), current, expected_version)
        plan = await plan_removal(conn, runtime, entity, record_id)
        plan.refuse(runtime)
        removal = Removal(entity, record_id)
        # each record the plan touches is one write, with what its own change sets off
        await self._remove(conn, runtime, actor, entity, current,
                           budget or WriteBudget.for_batch(plan.size()), removal)
        await recycle_bin.keep(conn, runtime, actor, removal, self.clock.now())
        return removal

    async def _remove(self, conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                      entity: str, current: dict[str, Any], budget: WriteBudget,
                      removal: Removal) -> None:
        spec, record_id = runtime.entity(entity), current["id"]
        ctx = WriteContext(conn, runtime, entity, spec, actor, self.clock.now(), "delete",
                           current, {}, budget)
        budget.enter(f"delete {entity}#{record_id}")
        try:
            await self._release_references(ctx, removal)
            table = runtime.tables[entity]
            # the row as it finally was (its dependants' roll-ups may have moved it on)
            row = (await conn.execute(delete(table).where(table.c.id == record_id)
                                      .returning(*table.c))).mappings().first()
            ctx.old = dict(row) if row is not None else current
            removal.rows.append((entity, ctx.old))
            await write_audit(conn, [audit_row(ctx, record_id, ctx.old["version"],
                                               field_changes(ctx.old, None, list(spec.fields)))])
            await self._after_save(ctx)
        finally:
            budget.leave()

    async def _release_references(self, ctx: WriteContext, removal: Removal) -> None:
        runtime = ctx.runtime
        problems = []
        system = ctx.actor.via("system")
        for child_name, field_name in referencing_lookups(runtime, ctx.entity):
            table = runtime.tables[child_name]
            ids = list((await ctx.conn.execute(
                select(table.c.id).where(table.c[field_name] == ctx.record_id)
                .order_by(table.c.id))).scalars())
            if not ids:
                continue
            behaviour = on_delete(runtime, child_name, field_name)
            if behaviour == "restrict":  # set off since the plan was made (by a rule)
                problems.append(referenced_problem(runtime, child_name, field_name, len(ids)))
                continue
            for child_id in ids:
                if behaviour == "cascade":
                    row = await self.load(ctx.conn, runtime, child_name, child_id, lock=True)
                    await self._remove(ctx.conn, runtime, system, child_name, row,
                                       ctx.budget, removal)
                else:
                    await self.update(ctx.conn, runtime, system, child_name, child_id,
                                      {field_name: None}, budget=ctx.budget,
                                      access=FULL_ACCESS)
                    removal.cleared.append((child_name, field_name, child_id,
                                            int(ctx.record_id or 0)))
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
        before = snapshot(ctx.new)  # a hook may change a list in place
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
        if not compiled or ctx.computed_from == ctx.new:
            return  # nothing to compute, or the record is as it was when last computed
        data, env = await prepare(ctx.conn, ctx.runtime, ctx.entity, ctx.new, compiled,
                                  ctx.actor, ctx.now, prior=ctx.old, changed=ctx.changed())
        values, failures = exprs.compute(data, env, tz=tz)
        for name, reason in failures:
            log.warning("formula failed", extra={"entity": ctx.entity, "field": name,
                                                 "reason": reason})
        ctx.new.update(values)
        data.update(values)
        ctx.required = exprs.required(data, env)
        ctx.computed_from = snapshot(ctx.new)

    async def after_save(self, ctx: WriteContext) -> None:
        """The after-save hooks and the outbox, for a write made beside create, update and
        delete (a restore from the recycle bin: ``ctx.operation`` says so to each hook)."""
        await self._after_save(ctx)

    async def _after_save(self, ctx: WriteContext, *, flush: bool = True) -> None:
        """``flush``: write what the hooks kept for later now (a batch writes it once,
        for all its records)."""
        for hook in self.hooks:
            await hook.after_save(ctx)
        # side effects the hooks decided on are recorded in this same transaction
        await enqueue_all(ctx.conn, workspace_id=ctx.runtime.workspace_id,
                          app_id=ctx.runtime.app_id, items=ctx.outbox, now=ctx.now)
        ctx.outbox.clear()
        if flush:
            await write_later(ctx.conn, [ctx])

    @staticmethod
    def _public(spec: EntitySpec, record: dict[str, Any]) -> dict[str, Any]:
        """The record as callers see it: system fields and the entity's current fields."""
        names = ("id", "version", "created_at", "updated_at", "created_by", "updated_by")
        out = {name: record.get(name) for name in names}
        out.update({name: record.get(name) for name in spec.stored_fields()})
        return out


async def _insert_rows(conn: AsyncConnection, table: Table,
                       rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert ``rows`` with multi-row statements; the rows as stored, in the order of
    ``rows``."""
    if conn.dialect.name == "sqlite":
        # SQLite gives each row of an INSERT the next rowid, in the order given, but does
        # not promise to return them in that order; asked to keep the order, SQLAlchemy
        # would send one INSERT per row. Sorted by id, they are in the order given.
        stored = (await conn.execute(insert(table).returning(*table.c), rows)).mappings()
        return sorted((dict(row) for row in stored), key=lambda row: row["id"])
    return [dict(row) for row in (await conn.execute(
        insert(table).returning(*table.c, sort_by_parameter_order=True), rows)).mappings()]


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
