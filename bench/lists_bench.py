"""A page of a long list through Loom's query engine against the same page in SQL written
by hand and run directly, on the same table, database and connection pool.

A ``deal`` entity with N rows (default 1,000,000) and a list view of it filtered on two
fields and sorted: ``stage == "proposal" and region == "east"`` (a twentieth of the rows),
``-amount`` (a fiftieth of the amounts blank, sorted last). Measured, for keyset pages of 50
at several depths of the list (the first page, and pages after the 1,000th, 10,000th and
40,000th row of the view):

* **Loom**: ``open_view`` — what ``GET …/views/{name}?cursor=…&count=false`` runs (the
  view's metadata, the permission check, the filter and sort compiled to SQL, the keyset
  predicate from the cursor, the rows typed for JSON, the next cursor);
* **direct SQL**: the same page as a developer writes it — ``WHERE stage = … AND region =
  … AND amount <= … AND (amount < … OR id > …) ORDER BY amount DESC NULLS LAST, id
  LIMIT 51`` — run
  through the same SQLAlchemy engine, its rows fetched.

Both must return the same records (checked). Reported: p50 and p95 of each over the
interleaved runs, their ratio (target: p50 ≤ 1.2×), and the ``EXPLAIN`` of both
statements at the deepest page.

    python -m bench lists

Settings (environment):
    LOOM_BENCH_DATABASE_URL  a PostgreSQL server (a scratch database is made there);
                             default SQLite in a temporary folder
    LOOM_BENCH_LISTS_ROWS    rows of the table, default 1,000,000
    LOOM_BENCH_LISTS_RUNS    runs per page depth and side, default 200
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, bindparam, case, event, literal, null, text

from bench.scratch import admin_actor, analyze, scratch_services
from bench.synthetic_rows import fill, padded
from loom.platform.records.views import open_view

DATABASE_URL = os.environ.get("LOOM_BENCH_DATABASE_URL", "")
ROWS = int(os.environ.get("LOOM_BENCH_LISTS_ROWS", "1000000"))
RUNS = int(os.environ.get("LOOM_BENCH_LISTS_RUNS", "200"))
PAGE = 50
TARGET = 1.2
STAGES = ["lead", "qualified", "proposal", "won", "lost"]
REGIONS = ["north", "south", "east", "west"]
COLUMNS = ["title", "amount", "stage", "region", "closed_on"]
# pages after these rows of the view (those within its non-blank amounts at this size)
DEPTHS = tuple(d for d in (0, 1000, 10000, 40000) if d + 2 * PAGE < ROWS // 20 * 0.95)

DOC: dict[str, Any] = {
    "app": {"label": {"zh-CN": "基准", "en": "Bench"}},
    "entities": {"deal": {"label": {"zh-CN": "交易", "en": "Deal"}, "fields": {
        "title": {"type": "text"},
        "amount": {"type": "currency"},
        "stage": {"type": "select", "options": [{"value": s} for s in STAGES]},
        "region": {"type": "select", "options": [{"value": r} for r in REGIONS]},
        "closed_on": {"type": "date"}}}},
    "views": {"east_proposals": {
        "entity": "deal", "label": {"zh-CN": "东区报价", "en": "East proposals"},
        "columns": COLUMNS,
        "filter": {"and": [{"==": [{"var": "stage"}, "proposal"]},
                           {"==": [{"var": "region"}, "east"]}]},
        "sort": "-amount", "page_size": PAGE}},
}


def _choice(n: Any, values: list[str]) -> Any:
    return case(*[(n % len(values) == index, literal(value))
                  for index, value in enumerate(values)])


async def prepare(services: Any) -> tuple[Any, Any]:
    """The app, its rows, statistics; the admin actor and the table."""
    async with services.database.write() as conn:
        actor = await admin_actor(conn)
        await services.apps.create(conn, actor, "bench", DOC)
    async with services.database.write() as conn:
        runtime, _ = await services.apps.enter(conn, actor, "bench")
        table = runtime.tables["deal"]
        await fill(conn, table, ROWS, {
            "title": lambda n: literal("交易 ").concat(padded(n, 7)),
            # a fiftieth blank; many ties otherwise (the id breaks them)
            "amount": lambda n: case(((n // 20) % 50 == 0, null()),
                                     else_=((n % 100003) * 7919 % 100003) * 10),
            "stage": lambda n: _choice(n, STAGES),
            "region": lambda n: _choice(n // 5, REGIONS),
            "closed_on": lambda n: literal(date(2026, 1, 1), Date()),
        }, datetime.now(UTC))
    await analyze(services)
    return actor, table


def direct_sql(table: Any) -> tuple[str, str]:
    """The hand-written first page and later page (named parameters)."""
    name = f"{table.schema}.{table.name}" if table.schema else table.name
    head = (f"SELECT id, {', '.join(COLUMNS)} FROM {name} "
            "WHERE stage = :stage AND region = :region")
    tail = f" ORDER BY amount DESC NULLS LAST, id LIMIT {PAGE + 1}"  # blanks last
    return (head + tail,
            head + " AND amount <= :amount AND (amount < :amount OR id > :id)" + tail)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run() -> dict[int, dict[str, float]]:
    async with scratch_services(DATABASE_URL) as (services, kind):
        started = time.perf_counter()
        actor, table = await prepare(services)
        print(f"{ROWS:,} deals on {kind}; made in {time.perf_counter() - started:.1f} s",
              flush=True)
        postgres = services.database.is_postgres
        first_sql, later_sql = direct_sql(table)
        # the amount bound as the column binds it (SQLite keeps money as text)
        first, later = text(first_sql), text(later_sql).bindparams(
            bindparam("amount", type_=table.c.amount.type))
        params = {"stage": "proposal", "region": "east"}

        async def loom_page(cursor: str | None) -> dict[str, Any]:
            async with services.database.read() as conn:
                runtime, reader = await services.apps.enter(conn, actor, "bench")
                return await open_view(conn, runtime, reader, "east_proposals",
                                       services.clock.now(), locale="en", cursor=cursor,
                                       count=False)

        async def direct_page(after: dict[str, Any] | None) -> list[Any]:
            async with services.database.read() as conn:
                if after is None:
                    return (await conn.execute(first, params)).all()
                return (await conn.execute(later, {**params, **after})).all()

        # the cursors at each depth: walk the view page by page once
        cursors: dict[int, tuple[str | None, dict[str, Any] | None]] = {0: (None, None)}
        cursor, seen = None, 0
        while seen < max(DEPTHS) and (cursor or not seen):
            body = await loom_page(cursor)
            cursor, seen = body["next_cursor"], seen + len(body["items"])
            if seen in DEPTHS:
                last = body["items"][-1]
                cursors[seen] = (cursor, {"amount": last["amount"], "id": last["id"]})
        async def loom_statement(caught: tuple[str, Any]) -> list[Any]:
            async with services.database.read() as conn:
                return (await conn.exec_driver_sql(*caught)).all()

        figures: dict[int, dict[str, float]] = {}
        print(f"  keyset pages of {PAGE}, {RUNS} runs each, p50 / p95 in ms:")
        for depth in DEPTHS:
            cursor, after = cursors[depth]
            loom_ids = [item["id"] for item in (await loom_page(cursor))["items"]]
            direct_ids = [row.id for row in (await direct_page(after))[:PAGE]]
            if loom_ids != direct_ids:
                raise SystemExit(f"page after row {depth}: Loom and SQL differ")
            caught = await statement_of(services, lambda cursor=cursor: loom_page(cursor))
            spent: dict[str, list[float]] = {"loom": [], "statement": [], "direct": []}
            sides: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
                ("loom", lambda cursor=cursor: loom_page(cursor)),
                ("statement", lambda caught=caught: loom_statement(caught)),
                ("direct", lambda after=after: direct_page(after))]
            for index in range(RUNS):
                for side, work in sides if index % 2 == 0 else sides[::-1]:
                    began = time.perf_counter()
                    await work()
                    spent[side].append(time.perf_counter() - began)
            loom, statement, direct = (statistics.median(spent[s])
                                       for s in ("loom", "statement", "direct"))
            figures[depth] = {"loom": loom, "statement": statement, "direct": direct,
                              "ratio": loom / direct, "statement_ratio": statement / direct}
            print(f"  after row {depth:>6,}: "
                  + "   ".join(f"{label} {statistics.median(spent[side]) * 1000:6.2f} / "
                             f"{percentile(spent[side], 0.95) * 1000:6.2f}"
                             for side, label in (("loom", "Loom"),
                                                 ("statement", "its statement"),
                                                 ("direct", "direct SQL")))
                  + f"   p50 ratios {loom / direct:5.2f}× {statement / direct:5.2f}×",
                  flush=True)
        await explain(services, loom_page, cursors[max(DEPTHS)][0], later, later_sql,
                      {**params, **cursors[max(DEPTHS)][1]}, postgres)
        print(f"  target: p50 ≤ {TARGET}× the direct SQL")
        return figures


async def explain(services: Any, loom_page: Callable[[str | None], Awaitable[Any]],
                  cursor: str | None, direct: Any, shown: str, params: dict[str, Any],
                  postgres: bool) -> None:
    """The plans of Loom's list statement (caught on its way to the database) and of the
    hand-written one, at the same page."""
    caught = [await statement_of(services, lambda: loom_page(cursor))]
    prefix = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " if postgres else "EXPLAIN QUERY PLAN "
    async with services.database.read() as conn:
        raw = await conn.get_raw_connection()
        for _label, (statement, parameters) in (("Loom", caught[-1]),):
            print(f"  EXPLAIN, Loom's statement:\n    {' '.join(statement.split())}")
            rows = await _explain_raw(raw, prefix + statement, parameters, postgres)
            print("\n".join(f"      {line}" for line in rows))
        print(f"  EXPLAIN, direct SQL:\n    {shown}")
        result = await conn.execute(text(prefix + direct.text).bindparams(
            *direct._bindparams.values()), params)
        print("\n".join(f"      {' | '.join(str(c) for c in row)}" for row in result))


async def _explain_raw(raw: Any, statement: str, parameters: Any,
                       postgres: bool) -> list[str]:
    """EXPLAIN of a statement as the driver received it (its own parameter style)."""
    driver = raw.driver_connection
    if postgres:
        rows = await driver.fetch(statement, *parameters)
        return [row[0] for row in rows]
    cursor = await driver.execute(statement, parameters)
    return [" | ".join(str(c) for c in row) for row in await cursor.fetchall()]


async def statement_of(services: Any, page: Callable[[], Awaitable[Any]]) -> tuple[str, Any]:
    """The list statement ``page`` sends (as the driver receives it), caught on its way."""
    caught: list[tuple[str, Any]] = []

    def catch(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
              many: bool) -> None:
        if "LIMIT" in statement and "ORDER BY" in statement:
            caught.append((statement, parameters))

    engine = services.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", catch)
    try:
        await page()
    finally:
        event.remove(engine, "before_cursor_execute", catch)
    return caught[0]


def main() -> None:
    asyncio.run(run())
