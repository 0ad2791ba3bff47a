"""Choosing an assignee: a fixed user, a user field, the pool (nobody), round robin among
candidates, or the candidate with the fewest open items. Round robin and least-loaded
choose under a lock on their pointer row, so two records assigned at the same moment never
both get the same "next" user."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from loom.metamodel.rules import Assign, Recipient
from loom.platform.compiled.conditions import environment, filter_clause
from loom.platform.storage.system_tables import assignment_pointers

if TYPE_CHECKING:
    from loom.platform.rules.actions import Run


async def choose_assignee(run: Run, spec: Assign, index: int, target: str) -> int | None:
    resolver = run.recipients()
    if spec.strategy == "pool":
        return None
    if spec.strategy == "user":
        found = await resolver.user_ids(Recipient(kind="user", user=spec.user))
        return found[0] if found else None
    if spec.strategy == "field":
        found = await resolver.user_ids(Recipient(kind="field", field=spec.source))
        return found[0] if found else None
    candidates = await resolver.candidates(spec.candidates) if spec.candidates else []
    if not candidates:
        return None
    group = ""
    if spec.candidates and spec.candidates.field and "." in spec.candidates.field:
        group = str(run.data.get(spec.candidates.field.split(".")[0]))  # e.g. the team
    key = f"{run.rule.name}:{index}:{group}"[:200]
    last = await _lock_pointer(run, key)
    if spec.strategy == "round_robin":
        chosen = next((user for user in candidates if last is None or user > last),
                      candidates[0])
    else:
        chosen = await _least_loaded(run, spec, target, candidates)
    await run.conn.execute(update(assignment_pointers).where(
        assignment_pointers.c.app_id == run.runtime.app_id, assignment_pointers.c.key == key)
        .values(last_user_id=chosen, updated_at=run.now))
    return chosen


async def _lock_pointer(run: Run, key: str) -> int | None:
    """The pointer row, created if new and locked until the transaction ends (SQLite
    serialises writers anyway)."""
    dialect = postgresql if run.conn.dialect.name == "postgresql" else sqlite
    await run.conn.execute(dialect.insert(assignment_pointers).values(
        app_id=run.runtime.app_id, key=key, last_user_id=None, updated_at=run.now)
        .on_conflict_do_nothing(index_elements=["app_id", "key"]))
    query = select(assignment_pointers.c.last_user_id).where(
        assignment_pointers.c.app_id == run.runtime.app_id, assignment_pointers.c.key == key)
    if run.conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return await run.conn.scalar(query)


async def _least_loaded(run: Run, spec: Assign, target: str, candidates: list[int]) -> int:
    load = spec.load
    entity = (load.entity if load and load.entity else None) or run.entity
    column_name = (load.field if load and load.field else None) or target
    table = run.runtime.tables[entity]
    column = table.c[column_name]
    query: Any = select(column, func.count()).where(column.in_(candidates))
    if load is not None and load.condition is not None:
        where = filter_clause(run.runtime, entity, load.condition,
                              environment(run.runtime, run.actor, run.now),
                              dialect=run.conn.dialect.name)
        if where is not None:
            query = query.where(where)
    counts = dict((await run.conn.execute(query.group_by(column))).all())
    return min(candidates, key=lambda user: (counts.get(user, 0), user))
