"""Real tables per entity, generated from metadata with SQLAlchemy Core.

Every user column is nullable at the database level: "required" is a rule of the write
pipeline (it may depend on conditions, and adding a required field must never rewrite or
fail on a table that already has rows). Unique fields get unique indexes, lookups foreign keys.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
)
from sqlalchemy.types import TypeEngine

from loom.metamodel.app import AppDocument
from loom.metamodel.entity import EntitySpec
from loom.metamodel.fields import FieldSpec, FieldType
from loom.platform.storage.types import ID, UTCDateTime
from loom.platform.storage.view_indexes import view_indexes

MAX_IDENTIFIER = 63  # PostgreSQL's limit; SQLite has none


@dataclass(frozen=True)
class Namespace:
    """Where one app's tables live.

    PostgreSQL: a schema per workspace (``ws_<workspace>``), tables ``<app>__<entity>``.
    SQLite has no schemas, so the workspace joins the table-name prefix instead.
    """

    schema: str | None
    prefix: str

    @classmethod
    def for_app(cls, workspace: str, app: str, *, postgres: bool) -> Namespace:
        if postgres:
            return cls(schema=f"ws_{workspace}", prefix=f"{app}__")
        return cls(schema=None, prefix=f"{workspace}__{app}__")

    def table_name(self, entity: str) -> str:
        return f"{self.prefix}{entity}"

    def owns(self, table_name: str) -> bool:
        return table_name.startswith(self.prefix)

    def entity_of(self, table_name: str) -> str:
        return table_name[len(self.prefix):]


def object_name(kind: str, table: str, columns: list[str]) -> str:
    """Index/constraint name, shortened with a stable hash when it would exceed 63 chars."""
    name = f"{kind}_{table}_{'_'.join(columns)}"
    if len(name) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:10]
    return f"{kind}_{digest}_{table}"[:MAX_IDENTIFIER]


def column_type(spec: FieldSpec) -> TypeEngine:
    """The database type that stores a field's value."""
    kind = spec.storage_type()
    if kind in (FieldType.DECIMAL, FieldType.CURRENCY, FieldType.PERCENT):
        return Numeric(spec.decimal_digits(), spec.decimal_scale(), asdecimal=True)
    if kind is FieldType.INTEGER:
        return BigInteger()
    if kind is FieldType.RATING:
        return Integer()
    if kind is FieldType.BOOLEAN:
        return Boolean(create_constraint=False)
    if kind is FieldType.DATE:
        return Date()
    if kind is FieldType.DATETIME:
        return UTCDateTime()
    if kind in (FieldType.LOOKUP, FieldType.USER, FieldType.DEPARTMENT):
        return ID
    if kind in (FieldType.MULTISELECT, FieldType.JSON, FieldType.ADDRESS, FieldType.LOCATION,
                FieldType.FILE, FieldType.IMAGE, FieldType.SIGNATURE):
        return JSON()
    return Text()


def _system_stubs(metadata: MetaData) -> None:
    """The platform tables entity columns point at (users, departments), by id only."""
    Table("users", metadata, Column("id", ID, primary_key=True))
    Table("departments", metadata, Column("id", ID, primary_key=True))


class EntityTables:
    """The SQLAlchemy tables of one app version, keyed by entity name."""

    def __init__(self, doc: AppDocument, namespace: Namespace) -> None:
        self.namespace = namespace
        self.metadata = MetaData()
        _system_stubs(self.metadata)
        self.views = doc.views
        self.tables: dict[str, Table] = {}
        for name, entity in doc.entities.items():
            self.tables[name] = self._build(name, entity)

    def __getitem__(self, entity: str) -> Table:
        return self.tables[entity]

    def _qualified(self, entity: str) -> str:
        table = self.namespace.table_name(entity)
        return f"{self.namespace.schema}.{table}" if self.namespace.schema else table

    def _build(self, name: str, entity: EntitySpec) -> Table:
        table_name = self.namespace.table_name(name)
        columns: list[Column] = [
            Column("id", ID, primary_key=True, autoincrement=True),
            Column("version", Integer, nullable=False, default=1),
            Column("created_at", UTCDateTime, nullable=False),
            Column("updated_at", UTCDateTime, nullable=False),
            Column("created_by", ID, ForeignKey("users.id"), nullable=True),
            Column("updated_by", ID, ForeignKey("users.id"), nullable=True),
        ]
        indexes: list[Index] = []
        for field_name, spec in entity.stored_fields().items():
            columns.append(Column(field_name, column_type(spec), *self._foreign_key(spec),
                                  nullable=True))
            if spec.unique or spec.type is FieldType.SERIAL:
                indexes.append(Index(object_name("uq", table_name, [field_name]), field_name,
                                     unique=True))
            elif spec.index or spec.type in (FieldType.LOOKUP, FieldType.USER):
                # lookups are joined and filtered on constantly (related lists, owners)
                indexes.append(Index(object_name("ix", table_name, [field_name]), field_name))
        for index in entity.indexes:
            kind = "uq" if index.unique else "ix"
            indexes.append(Index(index.name or object_name(kind, table_name, index.fields),
                                 *index.fields, unique=index.unique))
        # only PostgreSQL namespaces have a schema: its indexes can say NULLS LAST
        indexes += view_indexes(name, entity, self.views, {c.name: c for c in columns},
                                lambda parts: object_name("ixv", table_name, parts),
                                postgres=self.namespace.schema is not None)
        # AUTOINCREMENT: SQLite would otherwise give the id of the newest record to the
        # next one once it is deleted — mixing two records' histories, and taking the id
        # a restore from the recycle bin needs
        return Table(table_name, self.metadata, *columns, *indexes,
                     schema=self.namespace.schema, sqlite_autoincrement=True)

    def _foreign_key(self, spec: FieldSpec) -> list[ForeignKey]:
        if spec.type is FieldType.LOOKUP and spec.ref:
            return [ForeignKey(f"{self._qualified(spec.ref)}.id")]
        if spec.type is FieldType.USER:
            return [ForeignKey("users.id")]
        if spec.type is FieldType.DEPARTMENT:
            return [ForeignKey("departments.id")]
        return []
