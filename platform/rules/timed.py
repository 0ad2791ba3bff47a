"""The worker duty that runs ``schedule`` and ``date_offset`` rules as of a moment.

Idempotent by construction: every firing first claims its row in ``rule_firings`` —
(app, rule, record, slot), where the slot is the schedule's tick or the record's date
value — in the transaction that fires it, so running the worker twice at the same moment
fires nothing twice, and a second worker racing for the same record finds the row taken.

- ``schedule``: only the latest tick at or before ``as_of`` (in the app's zone) runs; a
  schedule that was down, or never ran, does not replay the ticks it missed. The matching
  records are selected by the rule's condition translated to SQL, in one query; a
  condition with no SQL form is evaluated in Python over keyset batches, and the log says
  so. When every match has fired, the tick is marked done (record 0).
- ``date_offset``: the records whose moment (field + offset) fell within
  ``(as_of − catch_up, as_of]`` and whose condition holds fire once per field value, so
  moving the date re-arms the rule; older moments are let go (see ``moments``).

Each record fires in its own transaction, through the write pipeline, as the system
actor. The condition is checked again on the locked row, because the selection ran in an
earlier transaction. A record whose actions fail (invalid values, conflicts, expression
errors) is rolled back — its firing row with it, so it stays *unfired* — and traced as
``failed`` in a fresh transaction; the other records go on. An unfired record is tried
again by a later run, no sooner than ``RETRY_AFTER`` after its last failure (so a broken
record cannot flood the traces every few seconds), for as long as its moment is current:
until the schedule's next tick (the tick stays open meanwhile), or while the date's moment
is within catch_up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, exists, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from loom.engines.expressions import Env, ExpressionError, NotTranslatable
from loom.engines.rules.compiler import CompiledRule
from loom.engines.timing import last_tick
from loom.metamodel.errors import LoomError
from loom.metamodel.fields import FieldType
from loom.metamodel.i18n import localize
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import column_resolver, environment, related_source
from loom.platform.records.evaluation import prepare
from loom.platform.rules.moments import DateWindow, moment_slot, value_slot, value_slot_sql
from loom.platform.rules.traces import write_trace
from loom.platform.security.actors import Actor, system_actor
from loom.platform.storage.system_tables import rule_firings, rule_runs

if TYPE_CHECKING:
    from loom.platform.services import Services

log = logging.getLogger("loom.rules.timed")

BATCH = 200
RETRY_AFTER = timedelta(minutes=15)
TICK = 0  # the record id of a schedule's "this tick is done" row


@dataclass
class Outcome:
    """What one pass of a rule did: firings, and records left to retry."""

    fired: int = 0
    pending: int = 0


@dataclass
class Pass:
    """One timed rule of one app, as of one moment."""

    services: Services
    runtime: AppRuntime
    rule: CompiledRule
    as_of: datetime
    actor: Actor = field(init=False)
    env: Env = field(init=False)

    def __post_init__(self) -> None:
        self.actor = system_actor(self.runtime.workspace_id, "rule")
        self.env = environment(self.runtime, self.actor, self.as_of)

    @property
    def table(self) -> Any:
        return self.runtime.tables[self.rule.entity]

    @property
    def dialect(self) -> str:
        return self.services.database.engine.dialect.name

    def not_fired(self, slot: ColumnElement[str]) -> ColumnElement[bool]:
        return ~exists().where(rule_firings.c.app_id == self.runtime.app_id,
                               rule_firings.c.rule == self.rule.name,
                               rule_firings.c.record_id == self.table.c.id,
                               rule_firings.c.slot == slot)


async def run_timed_rules(services: Services, as_of: datetime) -> int:
    """Fire every timed rule of every published app that is due at ``as_of``; returns
    how many firings ran."""
    async with services.database.read() as conn:
        runtimes = await services.apps.published_runtimes(conn)
    fired = 0
    for runtime in runtimes:
        for rule in runtime.rules.timed():
            run = Pass(services, runtime, rule, as_of)
            try:
                if rule.spec.trigger.on == "schedule":
                    fired += await _run_schedule(run)
                else:
                    fired += await _run_date_offset(run)
            except Exception:  # one broken rule must not keep the others from running
                log.exception("timed rule failed", extra={"app": runtime.slug,
                                                          "rule": rule.name})
    return fired


# --- the two triggers -------------------------------------------------------------------------

async def _run_schedule(run: Pass) -> int:
    zone = ZoneInfo(run.runtime.doc.app.timezone)
    slot = moment_slot(last_tick(run.rule.spec.trigger.cron or "", run.as_of.astimezone(zone)))
    async with run.services.database.read() as conn:
        if await _fired(conn, run, TICK, slot):
            return 0
    outcome = await _fire_selected(run, [run.not_fired(literal(slot))], lambda row: slot)
    if outcome.pending == 0:
        async with run.services.database.write() as conn:
            await _claim(conn, run, TICK, slot)
    return outcome.fired


async def _run_date_offset(run: Pass) -> int:
    trigger = run.rule.spec.trigger
    name = trigger.field or ""
    is_date = run.runtime.entity(run.rule.entity).fields[name].type is FieldType.DATE
    window = DateWindow.of(trigger, ZoneInfo(run.runtime.doc.app.timezone), is_date=is_date)
    column = run.table.c[name]
    low, high = window.bounds(run.as_of)
    filters = [column >= low, column <= high,
               run.not_fired(value_slot_sql(column, is_date=is_date, dialect=run.dialect))]
    outcome = await _fire_selected(
        run, filters, lambda row: value_slot(row[name]),
        keep=lambda row: window.due(row[name], run.as_of), columns=[column])
    return outcome.fired


# --- selecting and firing ---------------------------------------------------------------------

def _condition_sql(run: Pass) -> tuple[ColumnElement[bool] | None, bool]:
    """The condition as a WHERE clause, and whether it must be evaluated in Python."""
    condition = run.rule.condition
    if condition is None:
        return None, False
    reason = condition.sql_problem
    if reason is None:
        try:
            return condition.to_sql(column_resolver(run.runtime, run.rule.entity), run.env,
                                    dialect=run.dialect,
                                    related=related_source(run.runtime)), False
        except NotTranslatable as exc:
            reason = exc.reason
    log.info("timed rule condition has no SQL form; evaluating it in Python",
             extra={"app": run.runtime.slug, "rule": run.rule.name, "reason": reason})
    return None, True


async def _fire_selected(run: Pass, filters: list[ColumnElement[bool]],
                         slot_of: Callable[[Any], str], *,
                         keep: Callable[[Any], bool] | None = None,
                         columns: list[Any] | None = None) -> Outcome:
    """Fire the records passing ``filters`` and the condition. With an SQL form the
    matching ids are found by one statement; the Python fallback reads keyset batches."""
    where, in_python = _condition_sql(run)
    if where is not None:
        filters = [*filters, where]
    table = run.table
    outcome = Outcome()
    if not in_python:
        async with run.services.database.read() as conn:
            found = (await conn.execute(select(table.c.id, *(columns or [])).where(*filters)
                                        .order_by(table.c.id))).mappings().all()
        for start in range(0, len(found), BATCH):
            await _fire_batch(run, found[start:start + BATCH], slot_of, keep, outcome)
        return outcome
    last = 0
    while True:
        async with run.services.database.read() as conn:
            rows = (await conn.execute(select(table).where(table.c.id > last, *filters)
                                       .order_by(table.c.id).limit(BATCH))).mappings().all()
            if not rows:
                return outcome
            last = rows[-1]["id"]
            rows = await _holding(conn, run, rows)
        await _fire_batch(run, rows, slot_of, keep, outcome)


async def _fire_batch(run: Pass, rows: list[Any], slot_of: Callable[[Any], str],
                      keep: Callable[[Any], bool] | None, outcome: Outcome) -> None:
    rows = [row for row in rows if keep is None or keep(row)]
    async with run.services.database.read() as conn:
        waiting = await _recently_failed(conn, run, [row["id"] for row in rows])
    outcome.pending += len(waiting)
    for row in rows:
        if row["id"] in waiting:
            continue
        result = await _fire_one(run, row["id"], slot_of(row))
        outcome.fired += result == "fired"
        outcome.pending += result == "failed"


async def _holding(conn: AsyncConnection, run: Pass, rows: list[Any]) -> list[Any]:
    """The rows the condition holds for, evaluated in Python (the fallback)."""
    assert run.rule.condition is not None
    found = []
    for row in rows:
        record = dict(row)
        try:
            data, env = await prepare(conn, run.runtime, run.rule.entity, record,
                                      [run.rule.condition], run.actor, run.as_of)
            if run.rule.holds(data, env):
                found.append(row)
        except ExpressionError:  # the firing reports it, with the record's trace
            found.append(row)
    return found


async def _fire_one(run: Pass, record_id: int, slot: str) -> str:
    """Claim and fire one record in its own transaction: 'fired', 'skipped' (already
    fired, or the condition no longer holds) or 'failed' (traced)."""
    rule, runtime = run.rule, run.runtime
    key = f"rule:{runtime.app_id}:{rule.name}:{rule.entity}:{record_id}:{slot}"
    try:
        async with run.services.database.write() as conn:
            if not await _claim(conn, run, record_id, slot):
                return "skipped"
            firing = await run.services.rules.fire(
                conn, runtime, run.actor, rule, record_id, trigger=rule.spec.trigger.on,
                key=key, now=run.as_of, check_condition=True)
            if firing is None:  # changed since it was selected: not due after all
                await _unclaim(conn, run, record_id, slot)
                return "skipped"
        return "fired"
    except (LoomError, ExpressionError) as exc:
        error = _describe(exc, runtime.doc.app.default_locale)
    except Exception as exc:  # a fault nobody foresaw: traced too, the others go on
        log.exception("timed rule firing crashed", extra={
            "app": runtime.slug, "rule": rule.name, "record_id": record_id})
        error = f"unexpected error: {exc}"
    async with run.services.database.write() as conn:
        await write_trace(conn, runtime, run.actor, rule=rule.name, entity=rule.entity,
                          record_id=record_id, trigger=rule.spec.trigger.on,
                          status="failed", now=run.as_of, inputs={},
                          actions=[], error=error)
    return "failed"


def _describe(exc: Exception, locale: str) -> str:
    if not isinstance(exc, LoomError):
        return str(exc)
    parts = [exc.render_detail(locale)]
    for problem in exc.problems:
        where = f"{problem.field}: " if problem.field else ""
        parts.append(f"{where}{localize(problem.message, locale)}")
    return "; ".join(parts)


# --- the firings table ------------------------------------------------------------------------

async def _claim(conn: AsyncConnection, run: Pass, record_id: int, slot: str) -> bool:
    """Take the firing row; False when it is already taken (fired before, or by another
    worker right now)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(rule_firings).values(
        app_id=run.runtime.app_id, rule=run.rule.name, record_id=record_id, slot=slot,
        fired_at=run.as_of).on_conflict_do_nothing(
        index_elements=["app_id", "rule", "record_id", "slot"])
    result = await conn.execute(statement.returning(rule_firings.c.id))
    return result.first() is not None


async def _unclaim(conn: AsyncConnection, run: Pass, record_id: int, slot: str) -> None:
    await conn.execute(delete(rule_firings).where(
        rule_firings.c.app_id == run.runtime.app_id, rule_firings.c.rule == run.rule.name,
        rule_firings.c.record_id == record_id, rule_firings.c.slot == slot))


async def _fired(conn: AsyncConnection, run: Pass, record_id: int, slot: str) -> bool:
    found = await conn.scalar(select(rule_firings.c.id).where(
        rule_firings.c.app_id == run.runtime.app_id, rule_firings.c.rule == run.rule.name,
        rule_firings.c.record_id == record_id, rule_firings.c.slot == slot))
    return found is not None


async def _recently_failed(conn: AsyncConnection, run: Pass, ids: list[int]) -> set[int]:
    """Records of ``ids`` whose firing failed less than RETRY_AFTER ago: left for later."""
    if not ids:
        return set()
    found = await conn.execute(select(rule_runs.c.record_id).where(
        rule_runs.c.app_id == run.runtime.app_id, rule_runs.c.entity == run.rule.entity,
        rule_runs.c.record_id.in_(ids), rule_runs.c.rule == run.rule.name,
        rule_runs.c.trigger == run.rule.spec.trigger.on, rule_runs.c.status == "failed",
        rule_runs.c.at > run.as_of - RETRY_AFTER))
    return set(found.scalars())
