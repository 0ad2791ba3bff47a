"""What one record write carries through the pipeline, and where engines plug in.

Hooks are called at fixed points of the write pipeline (see DESIGN.md, "The write
pipeline"): rules before and after the save, flows after it, and whatever they want done
outside the database goes into ``outbox`` and is written in the same transaction.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.entity import EntitySpec
from loom.metamodel.errors import Conflict, Problem
from loom.platform.compiled.app import AppRuntime
from loom.platform.security.actors import Actor

# "restore": a record back from the recycle bin, as it was (hooks decide what that means
# to them; rules and flows take no notice)
Operation = Literal["create", "update", "delete", "restore"]


class WriteBudget:
    """Bounds a chain of writes set off by one command (rules touching records that
    trigger rules …): depth and number of writes."""

    def __init__(self, max_depth: int = 8, max_writes: int = 500,
                 max_rule_runs: int = 200) -> None:
        self.max_depth = max_depth
        self.max_writes = max_writes
        self.max_rule_runs = max_rule_runs
        self.writes = 0
        self.rule_runs = 0
        self.chain: list[str] = []
        # records saved with their line items: their roll-ups are computed once, in their
        # own save, not refreshed by each line item written in it
        self.settling: set[tuple[str, int]] = set()

    @classmethod
    def for_batch(cls, records: int) -> WriteBudget:
        """The budget of a batch write: what one record's change may set off, per record
        (a rule creating a follow-up task for each of 500 new records is not a runaway)."""
        base = cls()
        count = max(records, 1)
        return cls(base.max_depth, base.max_writes * count, base.max_rule_runs * count)

    def widen(self, records: int) -> None:
        """Grant ``records`` more records' worth of writes and rule runs (the line items
        saved with a record are records of their own)."""
        base = WriteBudget()
        self.max_writes += base.max_writes * records
        self.max_rule_runs += base.max_rule_runs * records

    def rule_run(self, rule: str) -> None:
        """Count one rule firing; a runaway chain of rules stops with its names."""
        self.rule_runs += 1
        if self.rule_runs > self.max_rule_runs:
            chain = " → ".join(self.chain[-12:])
            raise Conflict(f"Too many rule runs ({self.rule_runs}; the last was '{rule}') "
                           f"in one change: {chain}")

    def enter(self, label: str) -> None:
        self.writes += 1
        self.chain.append(label)
        if len(self.chain) > self.max_depth or self.writes > self.max_writes:
            chain = " → ".join(self.chain[-12:])
            raise Conflict(f"Too many chained changes ({self.writes} writes, depth "
                           f"{len(self.chain)}): {chain}")

    def leave(self) -> None:
        self.chain.pop()

    @property
    def wrote_once(self) -> bool:
        """Whether the command made its one write and it set off no other: what the
        pipeline returned is then the record as stored (no need to read it again)."""
        return self.writes == 1


@dataclass
class WriteContext:
    conn: AsyncConnection
    runtime: AppRuntime
    entity: str
    spec: EntitySpec
    actor: Actor
    now: datetime
    operation: Operation
    old: dict[str, Any] | None
    new: dict[str, Any]
    budget: WriteBudget
    # side effects to deliver after commit: {"kind": "email"|"webhook", "key", "payload"}
    outbox: list[dict[str, Any]] = field(default_factory=list)
    # fields whose required_if holds for the record as it stands
    required: set[str] = field(default_factory=set)
    # recomputes formulas after a hook changed the record (set by the pipeline)
    recompute: Callable[[], Awaitable[None]] | None = None
    # rules that fired before the save; their other actions run after it
    fired: list[Any] = field(default_factory=list)
    # what a hook found wrong with the record as it stands, reported with the validation's
    problems: list[Problem] = field(default_factory=list)
    # rows a hook keeps for this save in a system table (rule traces): inserted after the
    # hooks ran, for a batch of records in one statement per table, not one per record
    later: list[tuple[Table, dict[str, Any]]] = field(default_factory=list)
    # the record as formulas were last computed from (the pipeline skips computing them
    # again from the same values)
    computed_from: dict[str, Any] | None = None

    @property
    def record_id(self) -> int | None:
        return (self.new or self.old or {}).get("id")

    def changed(self) -> set[str]:
        """Fields whose value differs from before this save (all set fields on create)."""
        if self.old is None:
            return {name for name, value in self.new.items() if value is not None}
        return {name for name in self.spec.fields
                if name in self.new and self.new.get(name) != self.old.get(name)}


def snapshot(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``record`` that a change in place (a list of tags) does not reach; the
    scalar values are immutable and shared."""
    return {name: copy.deepcopy(value) if isinstance(value, list | dict | set) else value
            for name, value in record.items()}


async def write_later(conn: AsyncConnection, contexts: list[WriteContext]) -> None:
    """Insert the rows the hooks kept in ``contexts`` (``WriteContext.later``), in the
    order they were kept, one multi-row statement per table."""
    by_table: dict[Table, list[dict[str, Any]]] = {}
    for ctx in contexts:
        for table, row in ctx.later:
            by_table.setdefault(table, []).append(row)
        ctx.later = []
    for table, rows in by_table.items():
        await conn.execute(insert(table), rows)


class PipelineHook(Protocol):
    """An engine taking part in record writes (rules, flows)."""

    async def before_save(self, ctx: WriteContext) -> None:
        """Change ``ctx.new`` (this record only) before validation, or add to
        ``ctx.problems`` what refuses it."""

    async def after_save(self, ctx: WriteContext) -> None:
        """React to a committed-to-be change: other records, flows, outbox."""
