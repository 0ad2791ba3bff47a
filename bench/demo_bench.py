"""Demo data: how long the CRM template's recipe takes per size, against a baseline
measured in the same run and database — cloning the template itself (publishing its
metadata, creating its tables, planting its seed), the step that always comes first.

For each size: the pure planning (``make_plan``), the whole load (users, role members and
every record through the write pipeline, rules and flows included), records per second,
the load as a multiple of the clone, and how its write transactions went: how many, and
how long the longest held the database (on SQLite, everyone else's wait at worst).

    python -m bench demo

Settings (environment):
    LOOM_BENCH_DATABASE_URL  a PostgreSQL server (a scratch database is created and dropped
                             there); default SQLite in a temporary folder
    LOOM_BENCH_DEMO_SIZES    comma-separated sizes, default small,medium
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.scratch import ADMIN, scratch_services
from loom.engines.demo import make_plan
from loom.platform.apps.cloning import clone_template
from loom.platform.demo import load_demo
from loom.platform.demo.recipes import app_recipe
from loom.platform.security.users import actor_from_row
from loom.platform.storage.system_tables import users

DATABASE_URL = os.environ.get("LOOM_BENCH_DATABASE_URL", "")
SIZES = os.environ.get("LOOM_BENCH_DEMO_SIZES", "small,medium").split(",")
AS_OF = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


async def run() -> None:
    async with scratch_services(DATABASE_URL) as (services, label):
        print(f"database: {label}")
        async with services.database.read() as conn:
            row = (await conn.execute(select(users).where(users.c.email == ADMIN))).first()
        actor = actor_from_row(row._mapping)
        for size in SIZES:
            slug = f"crm_{size}"
            started = time.perf_counter()
            async with services.database.write() as conn:
                await clone_template(services.apps, services.pipeline, conn, actor, slug,
                                     "crm")
            clone = time.perf_counter() - started
            async with services.database.read() as conn:
                runtime = await services.apps.runtime(conn, actor, slug)
            recipe = app_recipe(runtime.doc)
            started = time.perf_counter()
            plan = make_plan(recipe, runtime.doc, seed=1, as_of=AS_OF, size=size)
            planning = time.perf_counter() - started
            started = time.perf_counter()
            with TransactionTimes(services.database.engine) as held:
                result = await load_demo(services, actor, slug, seed=1, size=size,
                                         as_of=AS_OF)
            load = time.perf_counter() - started
            records = sum(result.counts.values())
            print(f"{size:<7} {records:>6} records, {len(result.users)} users | plan "
                  f"{planning:6.2f}s | load {load:6.1f}s ({records / load:5.0f} records/s) | "
                  f"clone (baseline) {clone:5.1f}s | load = {load / clone:4.1f}× clone "
                  f"| {plan.count()} planned | {held.summary()}")


class TransactionTimes:
    """How long each transaction of an engine stays open (begin to commit or rollback)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine.sync_engine
        self.open: dict[int, float] = {}
        self.times: list[float] = []

    def __enter__(self) -> TransactionTimes:
        event.listen(self.engine, "begin", self._begin)
        event.listen(self.engine, "commit", self._end)
        event.listen(self.engine, "rollback", self._end)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "begin", self._begin)
        event.remove(self.engine, "commit", self._end)
        event.remove(self.engine, "rollback", self._end)

    def _begin(self, conn: Any) -> None:
        self.open[id(conn)] = time.perf_counter()

    def _end(self, conn: Any) -> None:
        started = self.open.pop(id(conn), None)
        if started is not None:
            self.times.append(time.perf_counter() - started)

    def summary(self) -> str:
        ordered = sorted(self.times)
        p99 = ordered[int(len(ordered) * 0.99)] if ordered else 0.0
        return (f"{len(ordered)} transactions, longest {ordered[-1] * 1000 if ordered else 0:.0f}"
                f" ms, 99th percentile {p99 * 1000:.0f} ms")


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
