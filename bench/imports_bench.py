"""Importing and exporting records, against baselines measured in the same run and database.

1. A CSV of N customers (default 100,000; 8 fields, a unique code, a select, money, a date,
   an email, a user by email, a boolean) imported with ``RecordImport`` — what
   ``POST …/import`` and ``loom import`` run: the file streamed, each 500-row batch through
   the write pipeline in its own transaction — against
   (a) the same records given to ``pipeline.create_many`` as API input, 500 per
       transaction (what ``POST …/_bulk`` does, no file), and
   (b) a plain multi-row ``INSERT`` of the already typed rows, 500 per transaction (no
       pipeline: no checks, formulas, rules or audit) — the floor.
2. N contracts whose customer is given by ``customer.code`` (one lookup query per batch),
   against ``create_many`` with the customer ids known.
3. Exporting the N customers as CSV (keyset pages, lookups and users named), against
   reading the same pages through ``list_records`` alone.

Peak memory (RSS) is printed after each import: the file is streamed, so it stays flat as
N grows.

    python -m bench imports

Settings (environment):
    LOOM_BENCH_DATABASE_URL  a PostgreSQL server: a scratch database is created and dropped
                             there; default SQLite in a temporary folder
    LOOM_BENCH_IMPORT_ROWS   rows per file, default 100,000
"""

from __future__ import annotations

import asyncio
import csv
import os
import random
import resource
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from bench.scratch import ADMIN, admin_actor, scratch_services, timed
from loom.platform.compiled.app import AppRuntime
from loom.platform.records.reads import ListQuery, list_records
from loom.platform.security.actors import Actor
from loom.platform.services import Services
from loom.platform.transfer.exports import ExportOptions, prepare_export
from loom.platform.transfer.import_plan import ImportOptions
from loom.platform.transfer.imports import RecordImport
from loom.platform.transfer.sheets import Sheet
from loom.renderers.spreadsheets import CsvWriter

DATABASE_URL = os.environ.get("LOOM_BENCH_DATABASE_URL", "")
ROWS = int(os.environ.get("LOOM_BENCH_IMPORT_ROWS", "100000"))
BATCH = 500

DOC: dict[str, Any] = {
    "app": {"label": {"zh-CN": "销售", "en": "Sales"}},
    "entities": {
        "customer": {"label": {"zh-CN": "客户", "en": "Customer"}, "fields": {
            "name": {"type": "text", "required": True, "label": {"zh-CN": "名称"}},
            "code": {"type": "text", "unique": True, "label": {"zh-CN": "编码"}},
            "tier": {"type": "select", "options": [
                {"value": "vip", "label": {"zh-CN": "重要客户", "en": "VIP"}},
                {"value": "normal", "label": {"zh-CN": "普通客户", "en": "Normal"}}]},
            "credit_limit": {"type": "currency"},
            "since": {"type": "date"},
            "email": {"type": "email"},
            "owner": {"type": "user"},
            "active": {"type": "boolean"}}},
        "contract": {"label": {"zh-CN": "合同", "en": "Contract"}, "fields": {
            "title": {"type": "text", "required": True},
            "customer": {"type": "lookup", "ref": "customer", "required": True},
            "amount": {"type": "currency"},
            "signed_on": {"type": "date"}}},
    },
}
CUSTOMER_HEADER = ["name", "code", "tier", "credit_limit", "since", "email", "owner", "active"]


def customer_rows(seed: int, count: int) -> Iterator[list[str]]:
    rng, start = random.Random(seed), date(2020, 1, 1)
    for i in range(count):
        yield [f"客户{i}号有限公司", f"C{i:07d}", rng.choice(["重要客户", "普通客户"]),
               f"{rng.randint(0, 5_000_000)}.{rng.randint(0, 99):02d}",
               (start + timedelta(days=rng.randint(0, 2000))).isoformat(),
               f"buyer{i}@example.com", ADMIN, rng.choice(["是", "否"])]


def contract_rows(seed: int, count: int) -> Iterator[list[str]]:
    rng = random.Random(seed)
    for i in range(count):
        yield [f"合同 {i}", f"C{rng.randrange(count):07d}", f"{rng.randint(100, 900_000)}.00",
               (date(2025, 1, 1) + timedelta(days=rng.randint(0, 300))).isoformat()]


def write_csv(path: Path, header: list[str], rows: Iterable[list[str]]) -> int:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path.stat().st_size


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Bench:
    def __init__(self, services: Services, actor: Actor) -> None:
        self.services = services
        self.actor = actor

    async def runtime(self, slug: str) -> AppRuntime:
        async with self.services.database.read() as conn:
            runtime, _ = await self.services.apps.enter(conn, self.actor, slug)
        return runtime

    async def import_file(self, slug: str, entity: str, path: Path) -> Any:
        runtime = await self.runtime(slug)
        sheet = Sheet(path, "csv")
        try:
            return await RecordImport(self.services, runtime, self.actor, entity,
                                      ImportOptions()).run(sheet)
        finally:
            sheet.close()

    async def create_many(self, slug: str, entity: str, items: list[dict[str, Any]]) -> int:
        runtime = await self.runtime(slug)
        actor = self.actor.via("import")
        for start in range(0, len(items), BATCH):
            async with self.services.database.write() as conn:
                await self.services.pipeline.create_many(conn, runtime, actor, entity,
                                                         items[start:start + BATCH])
        return len(items)

    async def raw_insert(self, slug: str, entity: str, rows: list[dict[str, Any]]) -> int:
        runtime = await self.runtime(slug)
        table = runtime.tables[entity]
        for start in range(0, len(rows), BATCH):
            async with self.services.database.write() as conn:
                await conn.execute(insert(table), rows[start:start + BATCH])
        return len(rows)

    async def export_csv(self, slug: str, entity: str) -> int:
        runtime = await self.runtime(slug)
        now, writer, size = self.services.clock.now(), CsvWriter(), 0
        async with self.services.database.read() as conn:
            prepared = await prepare_export(conn, runtime, self.actor, entity,
                                            ExportOptions(), now)
        size += len(writer.chunk([prepared.headers()]))
        async for rows in prepared.pages(self.services.database, now):
            size += len(writer.chunk(rows))
        return size

    async def list_pages(self, slug: str, entity: str) -> int:
        runtime = await self.runtime(slug)
        now, cursor, count = self.services.clock.now(), None, 0
        while True:
            async with self.services.database.read() as conn:
                page = await list_records(conn, runtime, self.actor, entity,
                                          ListQuery(limit=BATCH, cursor=cursor), now)
            count += len(page.items)
            cursor = page.next_cursor
            if cursor is None:
                return count


def api_input(row: list[str]) -> dict[str, Any]:
    """A CSV row as a client of the records API would send it (values, not labels)."""
    values = dict(zip(CUSTOMER_HEADER, row, strict=True))
    values["tier"] = "vip" if values["tier"] == "重要客户" else "normal"
    values["active"] = values["active"] == "是"
    return values


def typed(row: dict[str, Any], owner: int, now: datetime) -> dict[str, Any]:
    return {**row, "credit_limit": Decimal(row["credit_limit"]),
            "since": date.fromisoformat(row["since"]), "owner": owner, "version": 1,
            "created_at": now, "updated_at": now, "created_by": owner, "updated_by": owner}


def line(label: str, seconds: float, rows: int, baseline: float | None = None) -> None:
    ratio = f"  {seconds / baseline:5.2f}x" if baseline else ""
    print(f"  {label:50} {seconds:7.1f} s  {rows / seconds:8,.0f} rows/s{ratio}", flush=True)


async def run() -> None:
    async with scratch_services(DATABASE_URL or None) as (services, kind):
        async with services.database.write() as conn:
            actor = await admin_actor(conn)
            for slug in ("imported", "baseline", "floor"):
                await services.apps.create(conn, actor, slug, DOC)
        bench = Bench(services, actor)
        with tempfile.TemporaryDirectory() as folder:
            customer_file, contract_file = Path(folder, "c.csv"), Path(folder, "k.csv")
            size = write_csv(customer_file, CUSTOMER_HEADER, customer_rows(11, ROWS))
            write_csv(contract_file, ["title", "customer.code", "amount", "signed_on"],
                      contract_rows(12, ROWS))
            print(f"{ROWS:,} rows per file on {kind}; customers.csv is {size / 2**20:.1f} MiB;"
                  f" batches of {BATCH}", flush=True)
            # the import first, while nothing else has grown the process: its peak memory
            rss = peak_rss_mib()
            spent, report = await timed(lambda: bench.import_file("imported", "customer",
                                                                  customer_file))
            assert report.created == ROWS and not report.refused, report.render("en")
            rss_after = peak_rss_mib()
            inputs = [api_input(r) for r in customer_rows(11, ROWS)]
            rows = [typed(i, actor.user_id, services.clock.now()) for i in inputs]
            floor, _ = await timed(lambda: bench.raw_insert("floor", "customer", rows))
            base, _ = await timed(lambda: bench.create_many("baseline", "customer", inputs))
            print("customers", flush=True)
            line("(b) plain INSERT, no pipeline (floor)", floor, ROWS)
            line("(a) pipeline.create_many, API input (_bulk)", base, ROWS)
            line("CSV import (RecordImport, streamed)", spent, ROWS, base)
            print(f"  import vs create_many: {spent / base - 1:+.0%};"
                  f" pipeline vs plain INSERT: {base / floor:.1f}x;"
                  f" peak RSS during the import {rss:.0f} → {rss_after:.0f} MiB", flush=True)

            runtime = await bench.runtime("baseline")
            async with services.database.read() as conn:
                table = runtime.tables["customer"]
                ids = dict((await conn.execute(select(table.c.code, table.c.id))).all())
            given = [{"title": t, "customer": ids[c], "amount": a, "signed_on": d}
                     for t, c, a, d in contract_rows(12, ROWS)]
            base, _ = await timed(lambda: bench.create_many("baseline", "contract", given))
            spent, report = await timed(lambda: bench.import_file("imported", "contract",
                                                                  contract_file))
            assert report.created == ROWS and not report.refused, report.render("en")
            print("contracts, customer given by customer.code", flush=True)
            line("(a) pipeline.create_many, customer ids known", base, ROWS)
            line("CSV import, customer.code looked up per batch", spent, ROWS, base)

            listed, _ = await timed(lambda: bench.list_pages("imported", "customer"))
            spent, size = await timed(lambda: bench.export_csv("imported", "customer"))
            print(f"export of the customers ({size / 2**20:.1f} MiB of CSV)", flush=True)
            line("list_records pages alone", listed, ROWS)
            line("CSV export (pages, owners by email, labels)", spent, ROWS, listed)


def main() -> None:
    asyncio.run(run())
