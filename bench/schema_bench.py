"""Adding fields to an entity through Loom's publish path, on a long table against a short
one: the same app metadata twice in one database, one ``deal`` table with N rows (default
1,000,000) and one with 10,000, and the same draft change published on each — what a
builder's "Publish" runs (``AppService.publish``: the draft checked, the schema compared
and changed, the version stored, in one transaction, committed).

Each round adds one field of each kind below, on both apps, alternating which goes first;
the figure is the median of the rounds, and the ratio long ÷ short. Adding a field must
not rewrite the table (target, PostgreSQL: ≤ 1.5× the short table's time). The benchmark
also checks the table was not rewritten (PostgreSQL: ``pg_relation_filenode`` unchanged).

    python -m bench schema

Settings (environment):
    LOOM_BENCH_DATABASE_URL    a PostgreSQL server: a scratch database is created and
                               dropped there; default SQLite in a temporary folder
    LOOM_BENCH_SCHEMA_ROWS     rows of the long table, default 1,000,000
    LOOM_BENCH_SCHEMA_SHORT    rows of the short table, default 10,000
    LOOM_BENCH_SCHEMA_ROUNDS   rounds (fields added per kind), default 5
"""

from __future__ import annotations

import asyncio
import copy
import os
import statistics
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, literal, text

from bench.scratch import admin_actor, analyze, scratch_services, timed
from bench.synthetic_rows import fill, padded
from loom.platform.security.actors import Actor
from loom.platform.services import Services

DATABASE_URL = os.environ.get("LOOM_BENCH_DATABASE_URL", "")
ROWS = int(os.environ.get("LOOM_BENCH_SCHEMA_ROWS", "1000000"))
SHORT = int(os.environ.get("LOOM_BENCH_SCHEMA_SHORT", "10000"))
ROUNDS = int(os.environ.get("LOOM_BENCH_SCHEMA_ROUNDS", "5"))
STAGES = ["lead", "qualified", "proposal", "won", "lost"]
TARGET = 1.5

DOC: dict[str, Any] = {
    "app": {"label": {"zh-CN": "基准", "en": "Bench"}},
    "entities": {"deal": {"label": {"zh-CN": "交易", "en": "Deal"}, "fields": {
        "title": {"type": "text"},
        "amount": {"type": "currency"},
        "stage": {"type": "select", "options": [{"value": s} for s in STAGES]},
        "owner": {"type": "user"}}}},
}

# The kinds of field added, each once a round: (label, field spec).
KINDS: list[tuple[str, dict[str, Any]]] = [
    ("text", {"type": "text"}),
    ("integer with a default", {"type": "integer", "default": 3}),
    ("select", {"type": "select", "options": [{"value": "a"}, {"value": "b"}]}),
]


async def _prepare(services: Services, slug: str, rows: int) -> Actor:
    async with services.database.write() as conn:
        actor = await admin_actor(conn)
        await services.apps.create(conn, actor, slug, copy.deepcopy(DOC))
    async with services.database.write() as conn:
        runtime, _ = await services.apps.enter(conn, actor, slug)

        def stage(n: Any) -> Any:
            return case(*[(n % len(STAGES) == index, literal(value))
                          for index, value in enumerate(STAGES)])
        await fill(conn, runtime.tables["deal"], rows, {
            "title": lambda n: literal("交易 ").concat(padded(n, 7)),
            "amount": lambda n: (n % 997) * 1000 + 500, "stage": stage,
            "owner": lambda n: literal(actor.user_id)}, datetime.now(UTC))
    return actor


async def _filenode(services: Services, slug: str, actor: Actor) -> Any:
    """The table's file on disk (PostgreSQL): a rewrite gives it a new one."""
    if not services.database.is_postgres:
        return None
    async with services.database.read() as conn:
        runtime, _ = await services.apps.enter(conn, actor, slug)
        table = runtime.tables["deal"]
        name = f"{table.schema}.{table.name}" if table.schema else table.name
        return await conn.scalar(text("SELECT pg_relation_filenode(CAST(:t AS regclass))"),
                                 {"t": name})


async def add_field(services: Services, actor: Actor, slug: str, name: str,
                    spec: dict[str, Any]) -> float:
    """Seconds to publish a draft adding field ``name`` (the draft saved beforehand)."""
    async with services.database.write() as conn:
        await services.apps.save_draft(
            conn, actor, slug, {"entities": {"deal": {"fields": {name: spec}}}}, patch="merge")

    async def publish() -> None:
        async with services.database.write() as conn:
            await services.apps.publish(conn, actor, slug, note=f"add {name}")
    spent, _ = await timed(publish)
    return spent


async def run() -> dict[str, dict[str, float]]:
    """{kind: {"long": s, "short": s, "ratio": r}} (medians)."""
    async with scratch_services(DATABASE_URL) as (services, kind):
        started = time.perf_counter()
        actor = await _prepare(services, "long", ROWS)
        await _prepare(services, "short", SHORT)
        await analyze(services)
        print(f"deal tables of {ROWS:,} and {SHORT:,} rows on {kind}; made in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        before = {slug: await _filenode(services, slug, actor) for slug in ("long", "short")}
        # one publish each first: the first publish after creating an app warms caches
        for slug in ("long", "short"):
            await add_field(services, actor, slug, "warm_up", {"type": "text"})
        spent: dict[str, dict[str, list[float]]] = {
            label: {"long": [], "short": []} for label, _ in KINDS}
        for round_ in range(ROUNDS):
            order = ("long", "short") if round_ % 2 == 0 else ("short", "long")
            for index, (label, spec) in enumerate(KINDS):
                for slug in order:
                    spent[label][slug].append(await add_field(
                        services, actor, slug, f"added_{index}_{round_}", spec))
        after = {slug: await _filenode(services, slug, actor) for slug in ("long", "short")}
        if before != after:
            raise SystemExit(f"a table was rewritten: file nodes {before} → {after}")
        figures = {}
        print(f"  publishing one added field, median of {ROUNDS}:"
              f"{'long':>10} {'short':>9} {'ratio':>7}")
        for label, _ in KINDS:
            long, short = (statistics.median(spent[label][s]) for s in ("long", "short"))
            figures[label] = {"long": long, "short": short, "ratio": long / short}
            print(f"  {label:<40} {long * 1000:7.1f} ms {short * 1000:6.1f} ms "
                  f"{long / short:6.2f}×", flush=True)
        if services.database.is_postgres:
            print("  no table rewritten (pg_relation_filenode unchanged); "
                  f"target ≤ {TARGET}× on PostgreSQL")
        return figures


def main() -> None:
    asyncio.run(run())
