"""Writing computed values onto many records at once, as record changes.

A job computes, in one SELECT, a value per output field for every record of an entity.
The values land in a temporary staging table next to the record's current ones, with a
``changed`` flag (IS DISTINCT FROM, so NULLs compare as values). Then:

- the changed records nobody reacts to are written by one UPDATE … FROM, and their audit
  entries by one INSERT … SELECT (source ``job``, field by field old → new, exactly as the
  pipeline writes them);
- the changed records that a rule, a flow start, a waiting flow, a formula or a roll-up
  may react to (``watched``, decided in SQL by ``watchers``) are returned, to go through
  the write pipeline like any other change.

Everything here runs on the caller's connection, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    MetaData,
    Table,
    and_,
    case,
    cast,
    false,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.elements import True_
from sqlalchemy.types import TypeEngine

from loom.platform.storage.system_tables import record_audit
from loom.platform.storage.types import ID, UTCDateTime

STAGE = "loom_job_stage"


@dataclass
class Staging:
    """One staged write: ``writes`` maps each output field to the role (column of the
    computed SELECT) whose value it takes."""

    entity_table: Table
    writes: dict[str, str]
    roles: dict[str, TypeEngine[Any]]

    def __post_init__(self) -> None:
        self.counted: dict[str, int] = {}  # what ``counts`` found, once it has run
        self.analyzed = False
        table = self.entity_table
        self.table = Table(
            # no primary key: on PostgreSQL nothing looks a staged row up by id (hash
            # joins), and keeping an index while staging every record cost more than the
            # staging itself; SQLite gets its index once the scores are in (``fill``)
            STAGE, MetaData(), Column("id", ID, nullable=False),
            *(Column(f"new_{role}", kind) for role, kind in self.roles.items()),
            *(Column(f"old_{name}", table.c[name].type) for name in self.writes),
            Column("changed", Boolean, nullable=False),
            Column("watched", Boolean, nullable=False),
            prefixes=["TEMPORARY"])

    def new(self, field: str) -> ColumnElement[Any]:
        return self.table.c[f"new_{self.writes[field]}"]

    def old(self, field: str) -> ColumnElement[Any]:
        return self.table.c[f"old_{field}"]

    def differs(self, fields: list[str] | None = None) -> ColumnElement[bool]:
        """Whether any of ``fields`` (default: all written) changes, per staged row."""
        return or_(*(self.old(name).is_distinct_from(self.new(name))
                     for name in (fields if fields is not None else list(self.writes))))

    async def fill(self, conn: AsyncConnection, computed: Select[Any]) -> None:
        """Stage ``computed`` (``id`` and one column per role, for the records that get
        values) with the current values of the written fields, and the records left out
        that hold values, to clear them. Unchanged records without values are not staged."""
        await conn.execute(text(f"DROP TABLE IF EXISTS {STAGE}"))
        await conn.run_sync(self.table.create)
        current, stage = self.entity_table, self.table
        values = computed.subquery("computed")
        changed = or_(*(current.c[name].is_distinct_from(values.c[role])
                        for name, role in self.writes.items()))
        holding = or_(*(current.c[name].is_not(None) for name in self.writes))
        columns = ["id", *(f"new_{role}" for role in self.roles),
                   *(f"old_{name}" for name in self.writes), "changed", "watched"]
        staged = select(current.c.id, *(values.c[role] for role in self.roles),
                        *(current.c[name] for name in self.writes), changed, false())
        if conn.dialect.name == "postgresql":
            # one pass over the entity: the scores outer-joined (hash joins), the records
            # left out come with them
            await conn.execute(insert(stage).from_select(columns, staged.select_from(
                current.outerjoin(values, values.c.id == current.c.id))
                .where(or_(values.c.id.is_not(None), holding))))
            return
        # SQLite joins by nested loops: the scores drive, each finding its record by key;
        # then the records left out, each finding its staged row by the stage's index
        await conn.execute(insert(stage).from_select(columns, staged.select_from(
            values.join(current, current.c.id == values.c.id))))
        await conn.execute(text(f"CREATE UNIQUE INDEX {STAGE}_id ON {STAGE} (id)"))
        left_out = ~select(stage.c.id).where(stage.c.id == current.c.id).exists()
        await conn.execute(insert(stage).from_select(columns, select(
            current.c.id, *(null() for _ in self.roles),
            *(current.c[name] for name in self.writes), true(), false())
            .where(holding, left_out)))

    async def _analyze(self, conn: AsyncConnection) -> None:
        """Statistics for the statements that join the stage to the entity (a temporary
        table has none) — taken only when one runs: a run that changes nothing needs none."""
        if conn.dialect.name == "postgresql" and not self.analyzed:
            await conn.execute(text(f"ANALYZE {STAGE}"))
        self.analyzed = True

    async def mark_watched(self, conn: AsyncConnection,
                           predicate: ColumnElement[bool] | None) -> None:
        """Flag the changed rows ``predicate`` holds for (it may read the entity's other
        columns: it runs correlated to the entity row)."""
        if predicate is None:
            return
        await self._analyze(conn)
        current = self.entity_table
        statement = update(self.table).where(self.table.c.changed == true())
        if not isinstance(predicate, True_):
            statement = statement.where(
                select(current.c.id).where(current.c.id == self.table.c.id, predicate)
                .exists())
        await conn.execute(statement.values(watched=True))

    async def counts(self, conn: AsyncConnection) -> dict[str, int]:
        stage = self.table
        row = (await conn.execute(select(
            func.count().filter(stage.c.changed == true()),
            func.count().filter(and_(stage.c.changed == true(), stage.c.watched == true())),
        ))).one()
        records = await conn.scalar(select(func.count()).select_from(self.entity_table))
        self.counted = {"records": int(records or 0), "changed": row[0],
                        "through_pipeline": row[1], "set_based": row[0] - row[1]}
        return dict(self.counted)

    async def write_unwatched(self, conn: AsyncConnection, *, app_id: int, entity: str,
                              now: datetime) -> None:
        """The set-based path: one UPDATE of the changed, unwatched records, then their
        audit entries from the staged old and new values."""
        if self.counted.get("set_based") == 0:  # counted: nothing to write, no scan
            return
        await self._analyze(conn)
        stage, current = self.table, self.entity_table
        plain = and_(current.c.id == stage.c.id, stage.c.changed == true(),
                     stage.c.watched == false())
        values: dict[str, Any] = {name: self.new(name) for name in self.writes}
        values.update(version=current.c.version + 1, updated_at=now, updated_by=None)
        await conn.execute(update(current).where(plain).values(values))
        dialect = conn.dialect.name
        audit = select(literal(app_id), literal(entity), stage.c.id, literal("update"),
                       current.c.version, literal("job"), literal(now, UTCDateTime()),
                       self._changes_json(dialect)).select_from(
            stage.join(current, current.c.id == stage.c.id)).where(
            stage.c.changed == true(), stage.c.watched == false())
        await conn.execute(insert(record_audit).from_select(
            ["app_id", "entity", "record_id", "action", "version", "source", "at", "changes"],
            audit))

    def _changes_json(self, dialect: str) -> ColumnElement[Any]:
        """``{field: [old, new]}`` of the fields that differ, built in SQL."""
        if dialect == "postgresql":
            empty = cast(literal("{}"), postgresql.JSONB)
            built: ColumnElement[Any] = empty
            for name in self.writes:
                pair = func.jsonb_build_object(name, func.jsonb_build_array(self.old(name),
                                                                            self.new(name)))
                built = built.op("||")(func.coalesce(
                    _when(self.old(name).is_distinct_from(self.new(name)), pair), empty))
            return cast(built, postgresql.JSON)
        built = literal("{}")
        for name in self.writes:
            pair = func.json_object(name, func.json_array(self.old(name), self.new(name)))
            built = func.json_patch(built, func.coalesce(
                _when(self.old(name).is_distinct_from(self.new(name)), pair), "{}"))
        return built

    async def watched_rows(self, conn: AsyncConnection) -> list[dict[str, Any]]:
        """The changed records left for the pipeline: id and the new value per field."""
        if self.counted.get("through_pipeline") == 0:
            return []
        stage = self.table
        rows = (await conn.execute(
            select(stage.c.id, *(self.new(name).label(name) for name in self.writes))
            .where(stage.c.changed == true(), stage.c.watched == true())
            .order_by(stage.c.id))).mappings().all()
        return [dict(row) for row in rows]

    async def drop(self, conn: AsyncConnection) -> None:
        await conn.execute(text(f"DROP TABLE IF EXISTS {STAGE}"))


def _when(condition: ColumnElement[bool], value: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((condition, value))
