"""Table changes SQLite can only make by rebuilding the table: a column's type (its
affinity converts values on every write, so "007" written into a number column reads back
as 7) and dropping a foreign key (kept in the table's definition).

Alembic's batch mode does the rebuild: create the new table, copy the rows, drop the old
one, rename. Inside a transaction, dropping a table that other rows point at counts each
of them as a broken reference until commit, so the rows are set aside and emptied out
first and put back into the new table afterwards: that settles the count, and the new
column types apply to the values on the way in.
"""

from __future__ import annotations

from collections.abc import Callable

from alembic.operations import BatchOperations, Operations
from alembic.operations import ops as alembic_ops
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

# Names for SQLite's unnamed foreign keys, so batch mode can drop one by name.
REFERENCE_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def change_type(conn: Connection, operations: Operations,
                op: alembic_ops.AlterColumnOp) -> None:
    """Give a column its new type, keeping every row."""
    _rebuild(conn, operations, op.table_name, lambda batch: batch.alter_column(
        op.column_name, type_=op.modify_type, existing_type=op.existing_type))


def drop_reference(conn: Connection, operations: Operations,
                   op: alembic_ops.DropConstraintOp) -> None:
    """Drop a column's foreign key, keeping the column and its values."""
    constraint = op.to_constraint()
    name = REFERENCE_NAMES["fk"] % {
        "table_name": op.table_name, "column_0_name": constraint.column_keys[0],
        "referred_table_name": constraint.referred_table.name}
    _rebuild(conn, operations, op.table_name,
             lambda batch: batch.drop_constraint(name, type_="foreignkey"))


def _rebuild(conn: Connection, operations: Operations, table_name: str,
             change: Callable[[BatchOperations], None]) -> None:
    quote = conn.dialect.identifier_preparer.quote
    table, held = quote(table_name), quote(f"loom_rebuild_{table_name}")
    columns = ", ".join(quote(column["name"])
                        for column in inspect(conn).get_columns(table_name))
    conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")  # reset by the commit
    conn.exec_driver_sql(f"CREATE TEMP TABLE {held} AS SELECT {columns} FROM {table}")
    conn.exec_driver_sql(f"DELETE FROM {table}")
    with operations.batch_alter_table(table_name, recreate="always",
                                      naming_convention=REFERENCE_NAMES) as batch:
        change(batch)
    conn.exec_driver_sql(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM temp.{held}")
    conn.exec_driver_sql(f"DROP TABLE temp.{held}")
