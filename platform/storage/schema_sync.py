"""Schema evolution on publish: compare the entity tables an app version needs with the
database, using Alembic's autogenerate comparison, and apply the safe part with Alembic
operations on the publish transaction's own connection.

The rules: additive changes (new tables, columns, indexes) are applied and never rewrite a
table; removed fields and entities keep their columns and tables (hidden, data kept until an
explicit purge); a type change is applied only when it cannot lose data; a new unique index
over duplicate data is refused with the duplicates named. Anything refused refuses the whole
publish, and the transaction rolls back, so nothing is half-applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alembic.autogenerate import produce_migrations
from alembic.operations import Operations
from alembic.operations import ops as alembic_ops
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.schema import AddConstraint, Table

from loom.metamodel.app import AppDocument
from loom.metamodel.errors import Problem, SchemaChangeRefused
from loom.metamodel.fields import FieldSpec, FieldType
from loom.metamodel.i18n import message, register_messages
from loom.platform.storage import sqlite_rebuild
from loom.platform.storage.entity_tables import EntityTables, column_type

register_messages({
    "schema_type_change": {
        "en": "{entity}.{field}: changing the type from {old} to {new} could lose data; "
        "add a new field and copy the values instead",
        "zh-CN": "{entity}.{field}：将类型从 {old} 改为 {new} 可能丢失数据；"
        "请新建一个字段并复制数据",
    },
    "schema_narrowing": {
        "en": "{entity}.{field}: the new size ({new_digits} digits, {new_scale} decimals) is "
        "smaller than the old ({old_digits}, {old_scale}) and could round or cut values",
        "zh-CN": "{entity}.{field}：新的精度（{new_digits} 位，{new_scale} 位小数）小于原精度"
        "（{old_digits} 位，{old_scale} 位小数），可能截断或舍入数据",
    },
    "schema_leftover_column": {
        "en": "{entity}.{field}: a removed field of that name still keeps its data in a "
        "different type; purge it first or choose another name",
        "zh-CN": "{entity}.{field}：同名的已删除字段仍以另一种类型保留着数据；"
        "请先清除它或换一个名称",
    },
    "schema_duplicates": {
        "en": "{entity}.{fields}: cannot be made unique, {count} values are used more than once "
        "(e.g. {examples})",
        "zh-CN": "{entity}.{fields}：无法设为唯一，有 {count} 个值重复出现（例如 {examples}）",
    },
    "schema_option_values": {
        "en": "{entity}.{field}: existing values are not among the options (e.g. {examples})",
        "zh-CN": "{entity}.{field}：已有数据中存在不在选项中的值（例如 {examples}）",
    },
    "schema_lock_timeout": {
        "en": "the tables are busy (another transaction holds a lock); try publishing again",
        "zh-CN": "数据表正忙（其他事务持有锁），请稍后重新发布",
    },
})

TEXTUAL = frozenset({FieldType.TEXT, FieldType.TEXTAREA, FieldType.RICH_TEXT, FieldType.EMAIL,
                     FieldType.PHONE, FieldType.URL, FieldType.SELECT, FieldType.SERIAL})
NUMERIC = frozenset({FieldType.DECIMAL, FieldType.CURRENCY, FieldType.PERCENT})
# Targets that accept any text without checking: free text never rejects a value.
FREE_TEXT = frozenset({FieldType.TEXT, FieldType.TEXTAREA, FieldType.RICH_TEXT})


@dataclass
class SchemaPlan:
    """What a publish will do to the tables, in words and in Alembic operations."""

    operations: list[alembic_ops.MigrateOperation] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # (entity, column or None, effect) for each table change, so the impact of a publish
    # can be counted: add_column, hide_column, hide_table, change_type, index, reference
    effects: list[tuple[str, str | None, str]] = field(default_factory=list)


class _Planner:
    """Walks Alembic's proposed operations and sorts them into apply / keep / refuse."""

    def __init__(self, conn: Connection, tables: EntityTables, old: AppDocument | None,
                 new: AppDocument) -> None:
        self.conn = conn
        self.tables = tables
        self.old = old
        self.new = new
        self.postgres = conn.dialect.name == "postgresql"
        self.plan = SchemaPlan()
        self.created: set[str] = set()
        self.added: set[tuple[str, str]] = set()  # (table, column) new in this publish

    def run(self, upgrade_ops: alembic_ops.UpgradeOps) -> SchemaPlan:
        for op in upgrade_ops.ops:
            if isinstance(op, alembic_ops.CreateTableOp):
                self.created.add(op.table_name)
                self.plan.operations.append(op)
                self.plan.changes.append(f"create table {op.table_name}")
            elif isinstance(op, alembic_ops.DropTableOp):
                self.plan.kept.append(f"table {op.table_name} kept (entity removed)")
                self.plan.effects.append((self._entity(op.table_name), None, "hide_table"))
            elif isinstance(op, alembic_ops.ModifyTableOps):
                self.added.update((op.table_name, sub.column.name) for sub in op.ops
                                  if isinstance(sub, alembic_ops.AddColumnOp))
                for sub in op.ops:
                    self._table_op(op.table_name, sub)
            else:
                self._table_op(getattr(op, "table_name", ""), op)
        return self.plan

    def _entity(self, table_name: str) -> str:
        return self.tables.namespace.entity_of(table_name)

    def _table_op(self, table_name: str, op: alembic_ops.MigrateOperation) -> None:
        entity = self._entity(table_name)
        plan = self.plan
        if isinstance(op, alembic_ops.AddColumnOp):
            plan.operations.append(op)
            plan.changes.append(f"add column {entity}.{op.column.name}")
            plan.effects.append((entity, op.column.name, "add_column"))
        elif isinstance(op, alembic_ops.DropColumnOp):
            plan.kept.append(f"column {entity}.{op.column_name} kept (field removed)")
            plan.effects.append((entity, op.column_name, "hide_column"))
        elif isinstance(op, alembic_ops.AlterColumnOp):
            self._alter(entity, op)
        elif isinstance(op, alembic_ops.CreateIndexOp):
            if op.unique and table_name not in self.created:
                self._check_duplicates(entity, table_name, list(op.columns))
            plan.operations.append(op)
            plan.changes.append(f"create index {op.index_name}")
            plan.effects.append((entity, None, "index"))
        elif isinstance(op, alembic_ops.DropIndexOp):
            plan.operations.append(op)
            plan.changes.append(f"drop index {op.index_name}")
        elif isinstance(op, alembic_ops.CreateForeignKeyOp):
            if self.postgres:  # SQLite cannot add constraints; the pipeline checks references
                plan.operations.append(op)
                plan.changes.append(f"add reference {entity}.{','.join(op.local_cols)}")
                plan.effects.append((entity, None, "reference"))
        elif isinstance(op, alembic_ops.DropConstraintOp):
            # only foreign keys come and go (unique rules are indexes): a removed lookup's
            # column is kept, its reference to the other table is not
            plan.operations.append(op)
            columns = ",".join(op.to_constraint().column_keys) \
                if op.constraint_type == "foreignkey" else op.constraint_name
            plan.changes.append(f"drop reference {entity}.{columns}")

    def _alter(self, entity: str, op: alembic_ops.AlterColumnOp) -> None:
        if op.modify_type is None:
            return  # nullability/defaults are not managed at the database level
        old = field_spec(self.old, entity, op.column_name)
        new = field_spec(self.new, entity, op.column_name)
        if new is None:
            return
        if old is None:
            self.plan.problems.append(Problem(
                f"entities.{entity}.fields.{op.column_name}",
                message("schema_leftover_column", entity=entity, field=op.column_name)))
            return
        # Whether the change is safe was decided on the metadata (check_field_changes).
        # SQLite needs it applied too: a column's declared type is its affinity, which
        # converts values on every write ("007" into a number column reads back as 7).
        if self.postgres:
            target = column_type(new).compile(dialect=self.conn.dialect)
            op.kw["postgresql_using"] = f'"{op.column_name}"::{target}'
        self.plan.operations.append(op)
        self.plan.effects.append((entity, op.column_name, "change_type"))
        self.plan.changes.append(f"change type {entity}.{op.column_name} "
                                 f"{old.storage_type()} -> {new.storage_type()}")

    def _check_duplicates(self, entity: str, table_name: str, columns: list[Any]) -> None:
        table = self._table(table_name)
        if table is None:
            return
        names = [c if isinstance(c, str) else c.name for c in columns]
        cols = [table.c[name] for name in names if name in table.c]
        if len(cols) != len(names):
            return
        if any((table_name, name) in self.added for name in names):
            return  # a new column holds only NULLs, which never collide (nor exist yet)
        dupes = (select(*cols, func.count().label("n")).where(*[c.is_not(None) for c in cols])
                 .group_by(*cols).having(func.count() > 1))
        rows = self.conn.execute(dupes.limit(5)).all()
        if not rows:
            return
        total = self.conn.execute(select(func.count()).select_from(dupes.subquery())).scalar()
        examples = ", ".join("/".join(str(v) for v in row[:-1]) for row in rows[:3])
        self.plan.problems.append(Problem(
            f"entities.{entity}.fields.{names[0]}",
            message("schema_duplicates", entity=entity, fields="+".join(names), count=total,
                    examples=examples)))

    def _table(self, table_name: str) -> Table | None:
        entity = self._entity(table_name)
        return self.tables.tables.get(entity)


def _include_object(tables: EntityTables):
    namespace = tables.namespace

    def include(obj: Any, name: str | None, type_: str, reflected: bool,
                compare_to: Any) -> bool:
        if type_ == "table":
            return bool(name) and namespace.owns(name) and obj.schema == namespace.schema
        return True

    return include


def _include_name(tables: EntityTables):
    """Which schemas and tables Alembic reflects at all: only this app's. (The object
    filter above runs after reflection; without this, every publish would read the
    structure of every table of every app and workspace in the database.)"""
    namespace = tables.namespace

    def include(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
        if type_ == "schema":
            return name == namespace.schema
        if type_ == "table":
            return bool(name) and namespace.owns(name) and \
                parent_names.get("schema_name") == namespace.schema
        return True

    return include


def _migration_context(conn: Connection, tables: EntityTables) -> MigrationContext:
    return MigrationContext.configure(conn, opts={
        "target_metadata": tables.metadata,
        "compare_type": True,
        "include_schemas": tables.namespace.schema is not None,
        "include_name": _include_name(tables),
        "include_object": _include_object(tables),
    })


def plan_changes(conn: Connection, tables: EntityTables, old: AppDocument | None,
                 new: AppDocument) -> SchemaPlan:
    """What publishing ``new`` (over ``old``) would do to the tables; nothing is applied."""
    upgrade_ops = produce_migrations(_migration_context(conn, tables), tables.metadata).upgrade_ops
    plan = _Planner(conn, tables, old, new).run(upgrade_ops)
    check_field_changes(conn, tables, old, new, plan)
    return plan


def field_spec(doc: AppDocument | None, entity: str, name: str) -> FieldSpec | None:
    if doc is None or entity not in doc.entities:
        return None
    return doc.entities[entity].fields.get(name)


def type_change_problem(entity: str, name: str, old: FieldSpec,
                        new: FieldSpec) -> Problem | None:
    """Why changing ``old`` into ``new`` could lose data, or None when it cannot.

    Changes into a select are allowed here and checked against the data separately.
    """
    before, after = old.storage_type(), new.storage_type()
    path = f"entities.{entity}.fields.{name}"
    if before in NUMERIC | {FieldType.INTEGER} and after in NUMERIC:
        old_digits = 18 if before is FieldType.INTEGER else old.decimal_digits()
        old_scale = 0 if before is FieldType.INTEGER else old.decimal_scale()
        if new.decimal_digits() - new.decimal_scale() >= old_digits - old_scale and \
                new.decimal_scale() >= old_scale:
            return None
        return Problem(path, message("schema_narrowing", entity=entity, field=name,
                                     new_digits=new.decimal_digits(),
                                     new_scale=new.decimal_scale(),
                                     old_digits=old_digits, old_scale=old_scale))
    if before == after:
        if before is FieldType.LOOKUP and old.ref != new.ref:
            return Problem(path, message("schema_type_change", entity=entity, field=name,
                                         old=f"lookup({old.ref})", new=f"lookup({new.ref})"))
        return None
    if after in FREE_TEXT and (before in TEXTUAL | NUMERIC or before is FieldType.INTEGER):
        return None
    if after is FieldType.SELECT and before in TEXTUAL:
        return None
    return Problem(path, message("schema_type_change", entity=entity, field=name,
                                 old=before.value, new=after.value))


def check_field_changes(conn: Connection, tables: EntityTables, old: AppDocument | None,
                        new: AppDocument, plan: SchemaPlan) -> None:
    """Type changes decided on the metadata; a select's options checked against the data."""
    for entity_name, entity in new.entities.items():
        for name, spec in entity.stored_fields().items():
            old_spec = field_spec(old, entity_name, name)
            if old_spec is None:
                continue
            problem = type_change_problem(entity_name, name, old_spec, spec)
            if problem is not None:
                plan.problems.append(problem)
            elif spec.type is FieldType.SELECT and not (
                    old_spec.type is FieldType.SELECT
                    and set(old_spec.option_values()) <= set(spec.option_values())):
                _check_option_values(conn, tables, entity_name, name, spec, plan)


def _check_option_values(conn: Connection, tables: EntityTables, entity: str, name: str,
                         spec: FieldSpec, plan: SchemaPlan) -> None:
    column = tables[entity].c[name]
    query = (select(column).distinct().where(column.is_not(None))
             .where(column.not_in(spec.option_values())).limit(3))
    bad = conn.execute(query).scalars().all()
    if bad:
        plan.problems.append(Problem(
            f"entities.{entity}.fields.{name}.options",
            message("schema_option_values", entity=entity, field=name,
                    examples=", ".join(map(str, bad)))))


def _apply(conn: Connection, tables: EntityTables, plan: SchemaPlan) -> None:
    operations = Operations(_migration_context(conn, tables))
    sqlite = conn.dialect.name == "sqlite"
    for op in plan.operations:
        if isinstance(op, alembic_ops.CreateForeignKeyOp):
            # NOT VALID: enforce for new writes without scanning (and locking) old rows
            constraint = op.to_constraint()
            ddl = AddConstraint(constraint).compile(dialect=conn.dialect)
            conn.exec_driver_sql(f"{ddl} NOT VALID")
        elif sqlite and isinstance(op, alembic_ops.AlterColumnOp):
            sqlite_rebuild.change_type(conn, operations, op)
        elif sqlite and isinstance(op, alembic_ops.DropConstraintOp):
            sqlite_rebuild.drop_reference(conn, operations, op)
        else:
            operations.invoke(op)


async def sync_schema(conn: AsyncConnection, tables: EntityTables, old: AppDocument | None,
                      new: AppDocument, *, lock_timeout_ms: int = 5000) -> SchemaPlan:
    """Bring the tables to ``new`` inside the caller's transaction, or refuse (nothing applied).

    On PostgreSQL the DDL waits at most ``lock_timeout_ms`` for locks held by running
    transactions, so a publish never stalls the application behind it.
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(text(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}"))
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{tables.namespace.schema}"'))
    plan = await conn.run_sync(plan_changes, tables, old, new)
    if plan.problems:
        raise SchemaChangeRefused("The database cannot take this change safely", plan.problems)
    await conn.run_sync(_apply, tables, plan)
    return plan
