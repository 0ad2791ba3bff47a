"""The RFM job over N customers and about 10·N orders, against a baseline measured in the
same run and database: the bare ``GROUP BY`` aggregate over the orders (last date, count,
sum per customer) — the least any RFM computation must do.

Measured, each as a ratio to the baseline:
1. the first run (every customer with orders gets its scores: one UPDATE and one audit
   INSERT over all of them),
2. the same date again (everything computed and compared, nothing changes),
3. the next day (recency moves for everyone: all written again);

and before each, the same scores computed in pandas from the same tables, the read of the
orders included (``bench/rfm_pandas.py``). After each run every customer's written values
must equal pandas' (checked: the benchmark fails otherwise).

The data is generated in SQL (``generate_series`` on PostgreSQL, a recursive CTE on
SQLite), deterministically: a tenth of the customers have no orders, dates spread over two
years, amounts over 1–500.

    python -m bench rfm

Settings (environment):
    LOOM_BENCH_DATABASE_URL    a PostgreSQL server: a scratch database is created and
                               dropped there; default SQLite in a temporary folder
    LOOM_BENCH_RFM_CUSTOMERS   customers, default 20,000 (orders: 10 per customer); the
                               figures in docs/PERFORMANCE.md are for 1,000,000
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text

from bench.rfm_pandas import differences, pandas_rfm, written_scores
from bench.scratch import ADMIN, analyze, scratch_services, timed
from loom.platform.jobs.runner import JobRunner
from loom.platform.security.users import actor_from_row
from loom.platform.services import Services
from loom.platform.storage.system_tables import users

DATABASE_URL = os.environ.get("LOOM_BENCH_DATABASE_URL", "")
CUSTOMERS = int(os.environ.get("LOOM_BENCH_RFM_CUSTOMERS", "20000"))
ORDERS_PER_CUSTOMER = 10
AS_OF = date(1998, 7, 1)
TIERS = ["important_value", "important_develop", "important_keep", "important_retain",
         "general_value", "general_develop", "general_keep", "general_retain"]

DOC: dict[str, Any] = {
    "app": {"label": {"zh-CN": "商店", "en": "Shop"}},
    "entities": {
        "customer": {"label": {"zh-CN": "客户", "en": "Customer"}, "fields": {
            "code": {"type": "text"},
            "rfm_r": {"type": "integer"}, "rfm_f": {"type": "integer"},
            "rfm_m": {"type": "integer"},
            "rfm_tier": {"type": "select", "options": [{"value": t} for t in TIERS]},
            "recency_days": {"type": "integer"}, "frequency": {"type": "integer"},
            "monetary": {"type": "currency"}, "last_order_date": {"type": "date"},
            "rfm_as_of": {"type": "date"}}},
        "order": {"label": {"zh-CN": "订单", "en": "Order"}, "fields": {
            "customer": {"type": "lookup", "ref": "customer"},
            "order_date": {"type": "date"}, "amount": {"type": "currency"}},
            "indexes": [{"fields": ["customer", "order_date"]}]},
    },
    "jobs": {"rfm": {
        "kind": "rfm", "label": {"zh-CN": "RFM", "en": "RFM"}, "subject": "customer",
        "events": {"entity": "order", "link": "customer", "date": "order_date",
                   "amount": "amount"},
        "scores": {"recency": "rfm_r", "frequency": "rfm_f", "monetary": "rfm_m"},
        "values": {"recency_days": "recency_days", "frequency": "frequency",
                   "monetary": "monetary"},
        "tiers": {"field": "rfm_tier", "names": dict(zip(
            [f"{r},{f},{m}" for r in ("high_r", "low_r") for f in ("high_f", "low_f")
             for m in ("high_m", "low_m")],
            ["important_value", "general_value", "important_develop", "general_develop",
             "important_keep", "general_keep", "important_retain", "general_retain"],
            strict=True))},
        "last_event_field": "last_order_date", "as_of_field": "rfm_as_of"}},
}


def _numbers(count: int, postgres: bool) -> str:
    """A FROM clause of the numbers 1..count, as ``g``."""
    if postgres:
        return f"generate_series(1::bigint, {count}) AS s(g)"
    return (f"(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s "
            f"WHERE g < {count}) SELECT g FROM s)")


async def generate(services: Services, customers: str, orders: str) -> None:
    postgres = services.database.is_postgres
    stamp = "now()" if postgres else f"'{datetime.now(UTC):%Y-%m-%d %H:%M:%S.%f}'"
    buyers = max(CUSTOMERS * 9 // 10, 1)  # the last tenth never orders
    day = (f"DATE '{AS_OF}' - ((g * 7919) % 730)::int" if postgres else
           f"date('{AS_OF}', '-' || ((g * 7919) % 730) || ' days')")
    async with services.database.write() as conn:
        if postgres:  # generated ids are consistent by construction: skip the per-row FK check
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
        await conn.execute(text(
            f"INSERT INTO {customers} (id, version, created_at, updated_at, code) "
            f"SELECT g, 1, {stamp}, {stamp}, 'C' || g FROM {_numbers(CUSTOMERS, postgres)}"))
        await conn.execute(text(
            f"INSERT INTO {orders} (version, created_at, updated_at, customer, order_date, "
            f"amount) SELECT 1, {stamp}, {stamp}, 1 + ((g * 2654435761) % {buyers}), {day}, "
            f"1 + ((g * 37) % 49900) / 100.0 "
            f"FROM {_numbers(CUSTOMERS * ORDERS_PER_CUSTOMER, postgres)}"))
    await analyze(services)  # neither the baseline nor the job pays for the first read


async def run() -> None:
    async with scratch_services(DATABASE_URL) as (services, kind):
        async with services.database.write() as conn:
            row = (await conn.execute(select(users).where(users.c.email == ADMIN))
                   ).mappings().one()
            await services.apps.create(conn, actor_from_row(row), "shop", DOC)
            runtime = await services.apps.runtime(conn, actor_from_row(row), "shop")
        customer, order = runtime.tables["customer"], runtime.tables["order"]

        def name(table: Any) -> str:
            return f"{table.schema}.{table.name}" if table.schema else table.name

        spent, _ = await timed(lambda: generate(services, name(customer), name(order)))
        print(f"{CUSTOMERS:,} customers, {CUSTOMERS * ORDERS_PER_CUSTOMER:,} orders on "
              f"{kind}; generated in {spent:.1f} s", flush=True)

        async def baseline() -> int:
            totals = (select(order.c.customer, func.max(order.c.order_date),
                             func.count(), func.sum(order.c.amount))
                      .where(order.c.order_date <= AS_OF).group_by(order.c.customer)
                      .subquery())
            async with services.database.read() as conn:
                return int(await conn.scalar(select(func.count()).select_from(totals)))

        await baseline()  # once to warm the cache, then measured
        base, groups = await timed(baseline)
        print(f"  baseline: GROUP BY over the orders ({groups:,} groups) {base:8.2f} s",
              flush=True)
        runner = JobRunner(services)
        tiers = DOC["jobs"]["rfm"]["tiers"]["names"]
        await pandas_rfm(services, name(order), AS_OF, tiers)  # warm, as the baseline
        figures = {"baseline": base}
        for label, as_of in (("first run (all written)", AS_OF),
                             ("same date (nothing changes)", AS_OF),
                             ("next day (all written)", AS_OF + timedelta(days=1))):
            spent, frame = await timed(lambda as_of=as_of: pandas_rfm(
                services, name(order), as_of, tiers))
            print(f"  pandas, read and scored as of {as_of} {spent:8.2f} s  = "
                  f"{spent / base:5.1f}× baseline", flush=True)
            figures.setdefault("pandas", []).append(spent)
            spent, result = await timed(lambda as_of=as_of: runner.run(runtime, "rfm",
                                                                       as_of=as_of))
            counts = result["counts"]
            figures.setdefault("job", []).append(spent)
            print(f"  {label:<30} {spent:8.2f} s  = {spent / base:5.1f}× baseline  "
                  f"(changed {counts['changed']:,}, set-based {counts['set_based']:,})",
                  flush=True)
            wrong = differences(frame, await written_scores(services, name(customer)))
            if wrong:
                raise SystemExit(f"the job and pandas differ on {wrong:,} customers")
        print(f"  the job's scores equal pandas' for every customer, each run; "
              f"same date ÷ pandas: {figures['job'][1] / figures['pandas'][1]:.2f}×, "
              f"first run ÷ pandas: {figures['job'][0] / figures['pandas'][0]:.2f}×",
              flush=True)


def main() -> None:
    asyncio.run(run())
