"""Importing records from a sheet (CSV or XLSX), streamed in batches through the write
pipeline — the same rules, formulas, validation and audit (source ``import``) as any
other write, set-based per batch.

- Each row's cells become the input the records API takes (``columns.read_cell``); the
  pipeline coerces and checks them like any input, with the importer's permissions.
- Lookups given by a field of the referenced record (``customer.code``) are found with one
  query per batch, among the records the importer may read.
- ``upsert`` matches rows to records by ``id`` or a unique field: found ones are updated
  (where the importer may update them), the others created. Blank cells are not given:
  defaults apply on create, values stay on update.
- Refused rows are reported — row number, field, message — and the others imported, in
  short transactions (``ShortTransactions``: a unit of rows sized to its pace, committed
  once the transaction has run for ``LOOM_WRITE_CHUNK_MS``), so an import never holds
  SQLite's write lock for long; ``all_or_nothing`` imports nothing when any row is refused
  and ``dry_run`` runs everything and keeps nothing — both in one transaction, which is
  what they promise (a large file runs as an operation, off the request).
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.field_values.coercion import BadValue, coerce, is_record_id
from loom.metamodel.errors import LoomError, PermissionDenied, Problem
from loom.metamodel.fields import FieldSpec, FieldType
from loom.metamodel.i18n import DEFAULT_LOCALE, Message, localize, message, register_messages
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import environment
from loom.platform.operations.progress import Progress
from loom.platform.records.change_request import field_problem
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import Access, authorize
from loom.platform.storage.chunks import ShortTransactions
from loom.platform.transfer.columns import BLANK, RECORD_ID, read_cell
from loom.platform.transfer.import_plan import ImportOptions, ImportPlan, plan_import
from loom.platform.transfer.sheets import Sheet, SheetRow

if TYPE_CHECKING:
    from loom.platform.services import Services

register_messages({
    "import_no_match": {"en": "{label}: there is no {target} with {via} '{value}'",
                        "zh-CN": "{label}：不存在{via}为“{value}”的{target}"},
    "import_ambiguous": {
        "en": "{label}: {count} {target} records have {via} '{value}'; use a unique field "
              "or the id",
        "zh-CN": "{label}：有 {count} 条{target}记录的{via}为“{value}”，请改用唯一字段或 id",
    },
})

ID_FIELD = FieldSpec(type=FieldType.INTEGER)
FIRST_UNIT = 10  # rows of the first unit, until the pace of this sheet's rows is known


class ImportRefused(LoomError):
    """An all-or-nothing import that refused rows, and so kept none."""

    status = 422
    type_slug = "import-refused"
    title = "Import refused"


@dataclass(frozen=True)
class RowProblem:
    row: int
    field: str | None
    column: str | None
    message: Message | str
    code: str | None = None

    def render(self, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
        item: dict[str, Any] = {"row": self.row, "field": self.field, "column": self.column,
                                "message": localize(self.message, locale)}
        if self.code:
            item["code"] = self.code
        return item


@dataclass
class ImportReport:
    entity: str
    options: ImportOptions
    rows: int = 0
    created: int = 0
    updated: int = 0
    rolled_back: bool = False
    problems: list[RowProblem] = field(default_factory=list)
    refused_rows: set[int] = field(default_factory=set)

    @property
    def refused(self) -> int:
        return len(self.refused_rows)

    def refuse(self, row: int, problem: RowProblem) -> None:
        self.refused_rows.add(row)
        self.problems.append(problem)

    def render(self, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
        return {"entity": self.entity, "mode": self.options.mode, "key": self.options.key
                if self.options.mode == "upsert" else None,
                "dry_run": self.options.dry_run, "all_or_nothing": self.options.all_or_nothing,
                "rows": self.rows, "created": self.created, "updated": self.updated,
                "refused": self.refused, "rolled_back": self.rolled_back,
                "errors": [p.render(locale) for p in sorted(self.problems,
                                                            key=lambda p: p.row)]}


@dataclass
class Writes:
    """One batch, read: records to create and to update, each with its row."""

    creates: list[tuple[SheetRow, dict[str, Any]]] = field(default_factory=list)
    updates: list[tuple[SheetRow, int, dict[str, Any]]] = field(default_factory=list)


class RecordImport:
    """One import of one sheet into one entity, as ``actor`` (acting through ``import``)."""

    def __init__(self, services: Services, runtime: AppRuntime, actor: Actor, entity: str,
                 options: ImportOptions) -> None:
        self.services = services
        self.runtime = runtime
        self.actor = actor.via("import")
        self.entity = entity
        self.spec = runtime.entity(entity)
        self.options = options
        self.report = ImportReport(entity, options)
        self.create_denied: PermissionDenied | None = None
        self.update_access: Access | None = None
        self.update_denied: PermissionDenied | None = None
        self.read_access: Access | None = None

    async def run(self, sheet: Sheet, progress: Progress | None = None) -> ImportReport:
        progress = progress or Progress()
        async with self.services.database.read() as conn:
            plan = await self._plan(conn, sheet)
        if self.options.dry_run or self.options.all_or_nothing:
            await self._in_one_transaction(plan, sheet.rows(), progress)
        else:
            await self._in_short_transactions(plan, sheet.rows(), progress)
        return self.report

    def _noted(self, progress: Progress) -> None:
        progress.so_far.update(rows=self.report.rows, created=self.report.created,
                               updated=self.report.updated, refused=self.report.refused)
        progress.note(self.report.rows)

    # --- transactions ----------------------------------------------------------------------

    async def _in_short_transactions(self, plan: ImportPlan, rows: Iterator[SheetRow],
                                     progress: Progress) -> None:
        """Rows in small units, committed once a transaction has run for its budget (the
        write lock is never held for long); refused rows are reported, the others kept."""
        chunks = ShortTransactions(self.services.database,
                                   budget_ms=self.services.settings.write_chunk_ms,
                                   before_commit=progress.save)
        size = FIRST_UNIT
        async with chunks:
            while batch := list(itertools.islice(rows, size)):
                self.report.rows += len(batch)
                await self._import_batch(await chunks.connection(), plan, batch)
                self._noted(progress)
                await chunks.checkpoint()
                size = chunks.paced(len(batch), self.options.batch_size)

    async def _in_one_transaction(self, plan: ImportPlan, rows: Iterator[SheetRow],
                                  progress: Progress) -> None:
        """A dry run or an all-or-nothing import: one transaction, kept only when it should
        be (what it promises cannot be kept in pieces; large ones run as an operation)."""
        async with self.services.database.write() as conn:
            savepoint = await conn.begin_nested()
            while batch := list(itertools.islice(rows, self.options.batch_size)):
                self.report.rows += len(batch)
                await self._import_batch(conn, plan, batch)
                self._noted(progress)
            if self.options.dry_run or self.report.refused:
                await savepoint.rollback()
                self.report.rolled_back = not self.options.dry_run
                if self.report.rolled_back:
                    self.report.created = self.report.updated = 0
            else:
                await savepoint.commit()

    async def _plan(self, conn: AsyncConnection, sheet: Sheet) -> ImportPlan:
        """Check the permissions (import, then create and update) and read the header."""
        await authorize(conn, self.actor, self.runtime, self.entity, "import")
        try:
            await authorize(conn, self.actor, self.runtime, self.entity, "create")
        except PermissionDenied as denied:
            if self.options.mode == "create":
                raise
            self.create_denied = denied
        if self.options.mode == "upsert":
            try:
                self.update_access = await authorize(conn, self.actor, self.runtime,
                                                     self.entity, "update")
            except PermissionDenied as denied:
                if self.create_denied is not None:
                    raise
                self.update_denied = denied
            try:
                self.read_access = await authorize(conn, self.actor, self.runtime,
                                                   self.entity, "read")
            except PermissionDenied:
                self.read_access = None
        targets: dict[str, Access | PermissionDenied] = {}
        for spec_field in self.spec.fields.values():
            if spec_field.type is FieldType.LOOKUP and spec_field.ref not in targets:
                try:
                    targets[spec_field.ref or ""] = await authorize(
                        conn, self.actor, self.runtime, spec_field.ref or "", "read")
                except PermissionDenied as denied:
                    targets[spec_field.ref or ""] = denied
        return plan_import(self.runtime, self.entity, sheet.headers, self.options, targets)

    # --- one batch -------------------------------------------------------------------------

    async def _import_batch(self, conn: AsyncConnection, plan: ImportPlan,
                            batch: list[SheetRow]) -> None:
        inputs: dict[int, dict[str, Any]] = {}
        finds: dict[str, dict[Any, list[SheetRow]]] = {}
        keys: dict[int, Any] = {}
        for row in batch:
            data = self._row_input(plan, row, finds)
            if data is not None:
                inputs[row.number] = data
                key = self._key_of(plan, row)
                if key is not BLANK:
                    keys[row.number] = key
        await self._find_references(conn, plan, finds, inputs)
        writes = await self._match(conn, plan, batch, inputs, keys)
        await self._create(conn, plan, writes.creates)
        for row, record_id, data in writes.updates:
            await self._update(conn, plan, row, record_id, data)

    def _row_input(self, plan: ImportPlan, row: SheetRow,
                   finds: dict[str, dict[Any, list[SheetRow]]]) -> dict[str, Any] | None:
        """The row as record input; lookups given by a field are noted in ``finds``."""
        data: dict[str, Any] = {}
        problems = []
        for position, column in plan.columns:
            cell = row.cells[position] if position < len(row.cells) else None
            spec_field = self.spec.fields[column.field]
            if column.via is None:
                value = read_cell(spec_field, cell)
                if value is not BLANK:
                    data[column.field] = value
                continue
            if isinstance(cell, str) and RECORD_ID.match(cell.strip()):
                data[column.field] = int(cell.strip()[1:])
                continue
            target = self.runtime.entity(spec_field.ref or "")
            try:
                value = read_cell(target.fields[column.via], cell)
                if value is not BLANK:
                    value = coerce(target.fields[column.via], value)
            except BadValue as error:
                problems.append(field_problem(target, column.via, error))
                continue
            if value is not BLANK and value is not None:
                finds.setdefault(column.field, {}).setdefault(value, []).append(row)
        for problem in problems:
            self._refuse(plan, row, problem)
        return None if problems else data

    def _key_of(self, plan: ImportPlan, row: SheetRow) -> Any:
        if plan.key is None or plan.key_position is None:
            return BLANK
        cell = row.cells[plan.key_position] if plan.key_position < len(row.cells) else None
        spec_field = self.spec.fields.get(plan.key, ID_FIELD)
        value = read_cell(spec_field, cell)
        if value is BLANK:
            return BLANK
        try:
            return coerce(spec_field, value)
        except BadValue:
            return BLANK  # the write reports the bad value

    async def _find_references(self, conn: AsyncConnection, plan: ImportPlan,
                               finds: dict[str, dict[Any, list[SheetRow]]],
                               inputs: dict[int, dict[str, Any]]) -> None:
        """Lookups by a field of the referenced record: one query per column."""
        env = environment(self.runtime, self.actor, self.services.clock.now())
        for name, wanted in finds.items():
            column = next(c for _, c in plan.columns if c.field == name)
            target_name = self.spec.fields[name].ref or ""
            table = self.runtime.tables[target_name]
            via = table.c[column.via or ""]
            query = select(table.c.id, via).where(via.in_(list(wanted)))
            access = plan.targets[name]
            if access.rows is not None:
                query = query.where(access.rows.where(self.runtime, env, conn.dialect.name))
            found: dict[Any, list[int]] = {}
            for record_id, value in (await conn.execute(query)).all():
                found.setdefault(value, []).append(record_id)
            target = self.runtime.entity(target_name)
            for value, rows in wanted.items():
                ids = found.get(value, [])
                for row in rows:
                    if len(ids) == 1:
                        if row.number in inputs:
                            inputs[row.number][name] = ids[0]
                        continue
                    key = "import_no_match" if not ids else "import_ambiguous"
                    self._refuse(plan, row, Problem(name, message(
                        key, label=self.spec.field_label(name), target=target.label,
                        via=target.field_label(column.via or ""), value=value,
                        count=len(ids)), code="reference"))
                    inputs.pop(row.number, None)

    async def _match(self, conn: AsyncConnection, plan: ImportPlan, batch: list[SheetRow],
                     inputs: dict[int, dict[str, Any]], keys: dict[int, Any]) -> Writes:
        """Which rows create and which update (upsert), with a few queries per batch: the
        records the keys match, and which of them the importer may update or see. A match
        the importer may see but not change is refused; one they may not even see is, as
        everywhere, not there: an unknown id, or a new record (whose key then clashes)."""
        writes = Writes()
        existing: dict[Any, int] = {}
        if plan.key is not None and keys:
            table = self.runtime.tables[self.entity]
            column = table.c[plan.key]
            values = [v for v in set(keys.values()) if plan.key != "id" or is_record_id(v)]
            if values:
                rows = await conn.execute(select(table.c.id, column).where(column.in_(values)))
                existing = {value: record_id for record_id, value in rows.all()}
        found = set(existing.values())
        updatable = await self._reachable(conn, self.update_access, found)
        visible = updatable | await self._reachable(conn, self.read_access, found - updatable)
        for row in batch:
            data = inputs.get(row.number)
            if data is None:
                continue
            key = keys.get(row.number, BLANK)
            record_id = existing.get(key) if key is not BLANK else None
            if record_id in updatable:
                writes.updates.append((row, record_id, data))
            elif record_id in visible:
                self._refuse(plan, row, Problem(None, self._update_refusal(), code="denied"))
            elif plan.key == "id" and key is not BLANK:
                self._refuse(plan, row, Problem("id", message(
                    "not_found_record", entity=self.spec.label, id=key), code="not_found"))
            else:
                writes.creates.append((row, data))
        return writes

    async def _reachable(self, conn: AsyncConnection, access: Access | None,
                         ids: set[int]) -> set[int]:
        """Those of ``ids`` within ``access``'s reach (none without access)."""
        if access is None or not ids:
            return set()
        if access.rows is None:
            return set(ids)
        table = self.runtime.tables[self.entity]
        env = environment(self.runtime, self.actor, self.services.clock.now())
        rows = await conn.execute(select(table.c.id).where(
            table.c.id.in_(ids), access.rows.where(self.runtime, env, conn.dialect.name)))
        return set(rows.scalars())

    def _update_refusal(self) -> Message | str:
        if self.update_denied is not None:
            return self.update_denied.detail or ""
        return message("denied_record", operation="update", operation_zh="修改",
                       entity=self.spec.label)

    async def _create(self, conn: AsyncConnection, plan: ImportPlan,
                      creates: list[tuple[SheetRow, dict[str, Any]]]) -> None:
        if not creates:
            return
        if self.create_denied is not None:
            for row, _ in creates:
                self._refuse(plan, row, Problem(None, self.create_denied.detail or "",
                                                code="denied"))
            return
        pipeline = self.services.pipeline
        try:
            async with conn.begin_nested():
                created, refused = await pipeline.create_valid(
                    conn, self.runtime, self.actor, self.entity, [d for _, d in creates])
        except LoomError:
            # something beyond the rows' own checks (a rule's write elsewhere, a write
            # that raced): row by row, to say which
            for row, data in creates:
                await self._one(plan, conn, row, "created", lambda data=data: pipeline.create(
                    conn, self.runtime, self.actor, self.entity, data))
            return
        self.report.created += len(created)
        for position, problems in refused.items():
            for problem in problems:
                self._refuse(plan, creates[position][0], problem)

    async def _update(self, conn: AsyncConnection, plan: ImportPlan, row: SheetRow,
                      record_id: int, data: dict[str, Any]) -> None:
        access = self.update_access  # reach checked for the batch (``_match``)
        await self._one(plan, conn, row, "updated", lambda: self.services.pipeline.update(
            conn, self.runtime, self.actor, self.entity, record_id, data, access=access))

    async def _one(self, plan: ImportPlan, conn: AsyncConnection, row: SheetRow,
                   counter: str, write: Callable[[], Awaitable[Any]]) -> None:
        """One write in its own savepoint: its problems refuse its row only."""
        try:
            async with conn.begin_nested():
                await write()
        except LoomError as error:
            for problem in error.problems or [Problem(None, error.detail or error.title)]:
                self._refuse(plan, row, problem)
            return
        setattr(self.report, counter, getattr(self.report, counter) + 1)

    def _refuse(self, plan: ImportPlan, row: SheetRow, problem: Problem) -> None:
        self.report.refuse(row.number, RowProblem(
            row.number, problem.field, plan.header_of(problem.field), problem.message,
            problem.code))


