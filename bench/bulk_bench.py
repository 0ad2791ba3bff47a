"""The write pipeline in bulk against a bare multi-row INSERT, in the same run and database.

A 10-field ``deal`` (text with a length limit, a unique code, a lookup to an account, an
integer and money with bounds, a formula, a select with a literal default, a select set by
rules, a date with an expression default and a ``required_if``, a user) with 5 rules on
create (set_field if-then rules, one never matching). Three ways to write the same N deals,
500 per transaction, each into its own app of the same metadata:

(a) a bare multi-row ``INSERT`` (SQLAlchemy Core executemany) of the already typed rows,
    formula and rule results included — no checks, no audit: the floor;
(b) ``pipeline.create_many`` with API input — what ``POST …/_bulk`` runs: typing, defaults,
    formulas, the rules settling, every validation, reference and unique checks, the insert
    and the audit rows, rule traces;
(c) ``pipeline.create_valid`` — what an import runs per batch (refused rows reported).

The ratio (b) ÷ (a) is the pipeline's price per row; the target is ≤ 2.5×.

    python -m bench bulk

Settings (environment):
    LOOM_BENCH_DATABASE_URL  a PostgreSQL server (a scratch database is created and dropped
                             there); default SQLite in a temporary folder
    LOOM_BENCH_BULK_ROWS     deals per way, default 20,000
"""

from __future__ import annotations

import asyncio
import os
import random
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from bench.imports_bench import BATCH, Bench
from bench.scratch import admin_actor, scratch_services, timed
from loom.platform.compiled.app import AppRuntime
from loom.platform.security.actors import Actor
from loom.platform.services import Services
from loom.platform.storage.system_tables import record_audit

DATABASE_URL = os.environ.get("LOOM_BENCH_DATABASE_URL", "")
ROWS = int(os.environ.get("LOOM_BENCH_BULK_ROWS", "20000"))
ACCOUNTS = 200
WAYS = ("floor", "bulk", "import")


def _select(*values: str) -> dict[str, Any]:
    return {"type": "select", "options": [{"value": v} for v in values]}


def _set(name: str, value: Any) -> dict[str, Any]:
    return {"type": "set_field", "field": name, "value": value}


DEAL = {"label": {"zh-CN": "商机", "en": "Deal"}, "fields": {
    "title": {"type": "text", "required": True, "max_length": 200},
    "code": {"type": "text", "unique": True},
    "account": {"type": "lookup", "ref": "account", "required": True},
    "quantity": {"type": "integer", "min": 1},
    "unit_price": {"type": "currency", "min": 0},
    "total": {"type": "formula", "formula": "quantity * unit_price", "returns": "currency"},
    "stage": {**_select("new", "qualified", "won", "lost"), "default": "new"},
    "priority": _select("low", "normal", "high"),
    "close_date": {"type": "date", "default": {"today": []},
                   "required_if": {"==": [{"var": "stage"}, "won"]}},
    "owner": {"type": "user"},
}}
RULES = {
    "big_deal": {"entity": "deal", "trigger": {"on": "create"},
                 "condition": {">=": [{"var": "total"}, 100000]},
                 "actions": [_set("priority", "high")]},
    "default_priority": {"entity": "deal", "trigger": {"on": "create"},
                         "condition": {"is_blank": {"var": "priority"}},
                         "actions": [_set("priority", "normal")]},
    "bulk_order": {"entity": "deal", "trigger": {"on": "field_change", "fields": ["quantity"]},
                   "condition": {">": [{"var": "quantity"}, 90]},
                   "actions": [_set("stage", "qualified")]},
    "won_today": {"entity": "deal", "trigger": {"on": "create"},
                  "condition": {"==": [{"var": "stage"}, "won"]},
                  "actions": [_set("close_date", {"today": []})]},
    "never": {"entity": "deal", "trigger": {"on": "create"},
              "condition": {"<": [{"var": "quantity"}, 0]},
              "actions": [_set("priority", "low")]},
}
DOC: dict[str, Any] = {
    "app": {"label": {"zh-CN": "批量", "en": "Bulk"}},
    "entities": {"account": {"label": {"zh-CN": "客户", "en": "Account"},
                             "fields": {"name": {"type": "text", "required": True}}},
                 "deal": DEAL},
    "rules": RULES,
}


def deal_input(rng: random.Random, index: int, accounts: list[int], owner: int
               ) -> dict[str, Any]:
    """One deal as a client of the records API sends it."""
    return {"title": f"Deal {index}", "code": f"D{index:07d}",
            "account": rng.choice(accounts), "quantity": rng.randint(1, 100),
            "unit_price": f"{rng.randint(10, 2000)}.{rng.randint(0, 99):02d}",
            "owner": owner}


def typed_row(given: dict[str, Any], today: date, actor: Actor, now: datetime
              ) -> dict[str, Any]:
    """The row the pipeline stores for ``given`` — formula and rules applied by hand."""
    unit_price = Decimal(given["unit_price"])
    total = given["quantity"] * unit_price
    return {**given, "unit_price": unit_price, "total": total,
            "stage": "qualified" if given["quantity"] > 90 else "new",
            "priority": "high" if total >= 100000 else "normal", "close_date": today,
            "version": 1, "created_at": now, "updated_at": now,
            "created_by": actor.user_id, "updated_by": actor.user_id}


class Ways(Bench):
    """(a) is the imports benchmark's plain INSERT; (b) and (c) the pipeline's two doors."""

    async def floor(self, runtime: AppRuntime, rows: list[dict[str, Any]]) -> None:
        await self.raw_insert(runtime.slug, "deal", rows)

    async def bulk(self, runtime: AppRuntime, items: list[dict[str, Any]]) -> None:
        actor = self.actor.via("api")
        for start in range(0, len(items), BATCH):
            async with self.services.database.write() as conn:
                await self.services.pipeline.create_many(conn, runtime, actor, "deal",
                                                         items[start:start + BATCH])

    async def import_(self, runtime: AppRuntime, items: list[dict[str, Any]]) -> None:
        actor = self.actor.via("import")
        for start in range(0, len(items), BATCH):
            async with self.services.database.write() as conn:
                _, refused = await self.services.pipeline.create_valid(
                    conn, runtime, actor, "deal", items[start:start + BATCH])
                assert not refused, refused

    async def accounts(self, runtime: AppRuntime) -> list[int]:
        async with self.services.database.write() as conn:
            table = runtime.tables["account"]
            now = self.services.clock.now()
            ids = (await conn.execute(insert(table).returning(table.c.id), [
                {"name": f"Account {i}", "version": 1, "created_at": now, "updated_at": now}
                for i in range(ACCOUNTS)])).scalars()
            return sorted(ids)


async def stored(services: Services, runtime: AppRuntime) -> tuple[int, int, list[Any]]:
    """Deals, their audit rows, and a digest of the stored values (to compare the ways)."""
    table = runtime.tables["deal"]
    columns = [table.c[name] for name in ("code", "total", "stage", "priority",
                                          "close_date")]
    async with services.database.read() as conn:
        count = await conn.scalar(select(func.count()).select_from(table))
        audits = await conn.scalar(select(func.count()).select_from(record_audit).where(
            record_audit.c.app_id == runtime.app_id, record_audit.c.entity == "deal"))
        sample = [tuple(row) for row in (await conn.execute(
            select(*columns).order_by(table.c.code).limit(50))).all()]
    return count or 0, audits or 0, sample


def line(label: str, seconds: float, rows: int, floor: float) -> None:
    print(f"  {label:52} {seconds:7.2f} s  {rows / seconds:8,.0f} rows/s"
          f"  {seconds / floor:5.2f}x", flush=True)


async def run() -> None:
    async with scratch_services(DATABASE_URL or None) as (services, kind):
        async with services.database.write() as conn:
            actor = await admin_actor(conn)
            for slug in WAYS:
                await services.apps.create(conn, actor, slug, DOC)
        ways = Ways(services, actor)
        runtimes = {slug: await ways.runtime(slug) for slug in WAYS}
        accounts = {slug: await ways.accounts(runtimes[slug]) for slug in WAYS}
        assert len({tuple(ids) for ids in accounts.values()}) == 1  # same ids in each app
        now = services.clock.now()
        today = now.astimezone(ZoneInfo(DOC["app"].get("timezone", "Asia/Shanghai"))).date()
        rng = random.Random(17)
        items = [deal_input(rng, i, accounts["floor"], actor.user_id) for i in range(ROWS)]
        rows = [typed_row(item, today, actor, now) for item in items]
        print(f"{ROWS:,} deals on {kind}, {BATCH} per transaction, 10 fields, 5 rules",
              flush=True)
        floor, _ = await timed(lambda: ways.floor(runtimes["floor"], rows))
        bulk, _ = await timed(lambda: ways.bulk(runtimes["bulk"], items))
        imported, _ = await timed(lambda: ways.import_(runtimes["import"], items))
        line("(a) bare multi-row INSERT, typed rows (floor)", floor, ROWS, floor)
        line("(b) pipeline.create_many, API input (_bulk)", bulk, ROWS, floor)
        line("(c) pipeline.create_valid (an import's batches)", imported, ROWS, floor)
        found = {slug: await stored(services, runtimes[slug]) for slug in WAYS}
        assert found["bulk"][:2] == (ROWS, ROWS), found["bulk"][:2]
        assert found["import"][:2] == (ROWS, ROWS), found["import"][:2]
        assert found["bulk"][2] == found["import"][2] == found["floor"][2], \
            "the ways stored different values"
        print(f"  pipeline ÷ bare INSERT: {bulk / floor:.2f}x (target ≤ 2.5x);"
              f" {ROWS / bulk:,.0f} rows/s", flush=True)


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
