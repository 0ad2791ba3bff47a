"""The ``clv`` job (BG/NBD + Gamma-Gamma) over N customers, against a baseline measured in
the same run and database: the bare ``GROUP BY`` over the orders (distinct purchase days,
first and last day and spend per customer) — the least any such summary must do.

The purchases are drawn from the models' own processes (numpy, seeded), so the fit has a
true answer to find: a first purchase in the two years before the as-of date, then
purchases at a rate λ ~ Gamma(r = 0.5, α = 2 weeks) until the customer drops out (after
each repeat purchase with probability p ~ Beta(0.8, 4)); spend per order ~ Gamma(5, ν), ν ~
Gamma(4, 60). The fitted parameters are printed beside these (counting purchases per
distinct day lowers the rate a little).

Measured: the first run (every customer written and audited) and the same date again (the
whole computation and comparison, nothing written), with the run's own phase timings.

    python -m bench clv

Settings (environment):
    LOOM_BENCH_DATABASE_URL    a PostgreSQL server: a scratch database is created and
                               dropped there; default SQLite in a temporary folder
    LOOM_BENCH_CLV_CUSTOMERS   customers, default 20,000; the figures in
                               docs/PERFORMANCE.md are for 1,000,000
"""

from __future__ import annotations

import asyncio
import io
import os
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, insert, select, text

from bench.scratch import ADMIN, analyze, scratch_services, timed
from loom.platform.jobs.runner import JobRunner
from loom.platform.security.users import actor_from_row
from loom.platform.services import Services
from loom.platform.storage.system_tables import users

DATABASE_URL = os.environ.get("LOOM_BENCH_DATABASE_URL", "")
CUSTOMERS = int(os.environ.get("LOOM_BENCH_CLV_CUSTOMERS", "20000"))
AS_OF = date(1998, 7, 1)
YEARS = 2
CHUNK = 500_000

DOC: dict[str, Any] = {
    "app": {"label": {"zh-CN": "商店", "en": "Shop"}},
    "entities": {
        "customer": {"label": {"zh-CN": "客户", "en": "Customer"}, "fields": {
            "code": {"type": "text"},
            "p_alive": {"type": "decimal", "scale": 4},
            "expected_purchases_90d": {"type": "decimal", "scale": 4},
            "expected_avg_spend": {"type": "currency"}, "clv_12m": {"type": "currency"},
            "clv_as_of": {"type": "date"}}},
        "order": {"label": {"zh-CN": "订单", "en": "Order"}, "fields": {
            "customer": {"type": "lookup", "ref": "customer"},
            "order_date": {"type": "date"}, "amount": {"type": "currency"}},
            "indexes": [{"fields": ["customer", "order_date"]}]},
    },
    "jobs": {"clv": {
        "kind": "clv", "label": {"zh-CN": "CLV", "en": "CLV"}, "subject": "customer",
        "events": {"entity": "order", "link": "customer", "date": "order_date",
                   "amount": "amount"},
        "time_unit": "week", "horizon_days": 90, "clv_months": 12,
        "monthly_discount_rate": 0.01,
        "predictions": {"p_alive": "p_alive", "expected_purchases": "expected_purchases_90d",
                        "expected_spend": "expected_avg_spend", "clv": "clv_12m"},
        "as_of_field": "clv_as_of"}},
}


def simulated(count: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orders as (customer id 1…count, days before AS_OF, amount)."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.5, 1 / 2.0, count) / 7  # purchases per day while alive
    drop = rng.beta(0.8, 4.0, count)
    nu = rng.gamma(4.0, 1 / 60.0, count)
    first = rng.integers(0, 365 * YEARS, count)
    # BG/NBD: a customer may drop out right after each repeat purchase, not after the first
    repeats = np.minimum(rng.geometric(drop), 300)
    owner = np.repeat(np.arange(count), repeats)
    elapsed = np.cumsum(rng.exponential(1 / np.repeat(rate, repeats)))
    starts = np.repeat(np.cumsum(repeats) - repeats, repeats)
    since_first = elapsed - np.concatenate([[0.0], elapsed])[starts]
    days = np.repeat(first, repeats) - np.ceil(since_first).astype(np.int64)
    kept = days >= 0
    customer = np.concatenate([np.arange(count), owner[kept]]) + 1
    before = np.concatenate([first, days[kept]])
    amount = np.maximum(rng.gamma(5.0, 1 / nu[customer - 1]), 1.0)
    return customer, before, np.round(amount, 2)


def _name(table: Any) -> str:
    return f"{table.schema}.{table.name}" if table.schema else table.name


async def generate(services: Services, customer: Any, order: Any) -> int:
    postgres = services.database.is_postgres
    stamp = datetime.now(UTC)
    numbers = (f"generate_series(1::bigint, {CUSTOMERS}) AS s(g)" if postgres else
               f"(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s "
               f"WHERE g < {CUSTOMERS}) SELECT g FROM s)")
    async with services.database.write() as conn:
        await conn.execute(text(
            f"INSERT INTO {_name(customer)} (id, version, created_at, updated_at, code) "
            f"SELECT g, 1, :stamp, :stamp, 'C' || g FROM {numbers}"), {"stamp": stamp})
    owners, before, amounts = simulated(CUSTOMERS)
    days = np.datetime64(AS_OF.isoformat()) - before.astype("timedelta64[D]")
    for start in range(0, len(owners), CHUNK):
        part = slice(start, start + CHUNK)
        async with services.database.write() as conn:
            if postgres:  # COPY: the quickest way in; the ids are consistent by construction
                await conn.execute(text("SET LOCAL session_replication_role = replica"))
                lines = pd.DataFrame({
                    "version": 1, "created_at": stamp.isoformat(),
                    "updated_at": stamp.isoformat(), "customer": owners[part],
                    "order_date": days[part].astype(str), "amount": amounts[part],
                }).to_csv(index=False, header=False, float_format="%.2f")
                raw = await conn.get_raw_connection()
                await raw.driver_connection.copy_to_table(
                    order.name, schema_name=order.schema, format="csv",
                    columns=["version", "created_at", "updated_at", "customer", "order_date",
                             "amount"], source=io.BytesIO(lines.encode()))
            else:
                await conn.execute(insert(order), [
                    {"version": 1, "created_at": stamp, "updated_at": stamp,
                     "customer": int(c), "order_date": date.fromisoformat(str(d)),
                     "amount": float(a)}
                    for c, d, a in zip(owners[part], days[part], amounts[part], strict=True)])
    await analyze(services)
    return len(owners)


async def run() -> None:
    async with scratch_services(DATABASE_URL) as (services, kind):
        async with services.database.write() as conn:
            row = (await conn.execute(select(users).where(users.c.email == ADMIN))
                   ).mappings().one()
            await services.apps.create(conn, actor_from_row(row), "shop", DOC)
            runtime = await services.apps.runtime(conn, actor_from_row(row), "shop")
        customer, order = runtime.tables["customer"], runtime.tables["order"]
        spent, orders = await timed(lambda: generate(services, customer, order))
        print(f"{CUSTOMERS:,} customers, {orders:,} orders on {kind}; generated in "
              f"{spent:.1f} s", flush=True)

        async def baseline() -> int:
            days = (select(order.c.customer, order.c.order_date,
                           func.sum(order.c.amount).label("spend"))
                    .where(order.c.order_date <= AS_OF)
                    .group_by(order.c.customer, order.c.order_date).subquery())
            totals = (select(days.c.customer, func.count(), func.min(days.c.order_date),
                             func.max(days.c.order_date), func.sum(days.c.spend))
                      .group_by(days.c.customer).subquery())
            async with services.database.read() as conn:
                return int(await conn.scalar(select(func.count()).select_from(totals)))

        await baseline()  # once to warm the cache, then measured
        base, groups = await timed(baseline)
        print(f"  baseline: GROUP BY over the orders' days ({groups:,} customers) "
              f"{base:8.2f} s", flush=True)
        runner = JobRunner(services)
        for label in ("first run (all written)", "same date (nothing changes)"):
            spent, found = await timed(lambda: runner.run(runtime, "clv", as_of=AS_OF))
            counts, result = found["counts"], found["result"]
            print(f"  {label:<30} {spent:8.2f} s  = {spent / base:5.1f}× baseline  "
                  f"(changed {counts['changed']:,}, set-based {counts['set_based']:,})",
                  flush=True)
            phases = ", ".join(f"{name} {ms / 1000:.2f} s"
                               for name, ms in result["phases_ms"].items())
            print(f"    phases: {phases}; {result['distinct_histories']:,} distinct "
                  f"histories", flush=True)
        bg, gg = result["bg_nbd"], result["gamma_gamma"]
        print(f"  BG/NBD r={bg['r']:.3f} alpha={bg['alpha']:.3f} a={bg['a']:.3f} "
              f"b={bg['b']:.3f}; Gamma-Gamma p={gg['p']:.3f} q={gg['q']:.3f} "
              f"gamma={gg['gamma']:.3f}", flush=True)


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
