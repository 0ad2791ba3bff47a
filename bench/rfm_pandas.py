"""The RFM scores computed in pandas from the same tables, the comparison the in-database
job is held to: the orders read out of the database (PostgreSQL's ``COPY … TO STDOUT`` into
``read_csv``, the fastest way to move rows into a DataFrame; SQLite through its own
driver), then grouped, ranked and tiered as docs/JOBS.md says — the same rules as
``engines/jobs/rfm.py``, written with DataFrames (``rank(method="min")`` for the ties,
exact integer comparisons with the means)."""

from __future__ import annotations

import io
import sqlite3
from datetime import date
from typing import Any

import numpy as np
import pandas as pd


async def read_frame(services: Any, query: str, columns: list[str]) -> pd.DataFrame:
    """The rows of ``query`` as a DataFrame of text-read columns."""
    if services.database.is_postgres:
        buffer = io.BytesIO()
        async with services.database.read() as conn:
            raw = await conn.get_raw_connection()
            await raw.driver_connection.copy_from_query(query, output=buffer, format="csv")
        buffer.seek(0)
        return pd.read_csv(buffer, names=columns, header=None)
    with sqlite3.connect(services.database.engine.url.database) as conn:
        return pd.read_sql_query(query, conn)


def scores(orders: pd.DataFrame, as_of: date, tier_names: dict[str, str]) -> pd.DataFrame:
    """Per customer with orders (the index): the values the job writes, money in cents."""
    orders["cents"] = (orders["amount"].astype(float) * 100).round().astype(np.int64)
    orders["order_date"] = pd.to_datetime(orders["order_date"], format="%Y-%m-%d")
    totals = orders.groupby("customer").agg(last=("order_date", "max"),
                                            frequency=("order_date", "size"),
                                            cents=("cents", "sum"))
    totals["recency"] = (pd.Timestamp(as_of) - totals["last"]).dt.days
    n = len(totals)

    def score(worse_first: pd.Series) -> pd.Series:  # 1 + ⌊5·(rank − 1) / n⌋, ties low
        return 1 + (5 * (worse_first.astype(np.int64) - 1)) // n

    totals["r"] = score(totals["recency"].rank(method="min", ascending=False))
    totals["f"] = score(totals["frequency"].rank(method="min"))
    totals["m"] = score(totals["cents"].rank(method="min"))
    high_r = totals["recency"] * n <= totals["recency"].sum()
    high_f = totals["frequency"] * n >= totals["frequency"].sum()
    high_m = totals["cents"] * n >= totals["cents"].sum()
    key = (np.where(high_r, "high_r", "low_r").astype(object) + ","
           + np.where(high_f, "high_f", "low_f").astype(object) + ","
           + np.where(high_m, "high_m", "low_m").astype(object))
    totals["tier"] = pd.Series(key, index=totals.index).map(tier_names)
    totals["last"] = totals["last"].dt.strftime("%Y-%m-%d")
    return totals[["r", "f", "m", "tier", "recency", "frequency", "cents", "last"]]


async def pandas_rfm(services: Any, orders_table: str, as_of: date,
                     tier_names: dict[str, str]) -> pd.DataFrame:
    """Read the orders as of ``as_of`` and score them."""
    orders = await read_frame(
        services, f"SELECT customer, order_date, amount FROM {orders_table} "
        f"WHERE customer IS NOT NULL AND order_date <= '{as_of.isoformat()}'",
        ["customer", "order_date", "amount"])
    return scores(orders, as_of, tier_names)


async def written_scores(services: Any, customers_table: str) -> pd.DataFrame:
    """What the job wrote on the customers it scored, in the same shape."""
    found = await read_frame(
        services, f"SELECT id, rfm_r, rfm_f, rfm_m, rfm_tier, recency_days, frequency, "
        f"monetary, last_order_date FROM {customers_table} WHERE rfm_r IS NOT NULL",
        ["id", "r", "f", "m", "tier", "recency", "frequency", "monetary", "last"])
    found = found.rename(columns={"rfm_r": "r", "rfm_f": "f", "rfm_m": "m",
                                  "rfm_tier": "tier", "recency_days": "recency",
                                  "last_order_date": "last"})
    found["cents"] = (found["monetary"].astype(float) * 100).round().astype(np.int64)
    found["last"] = found["last"].astype(str).str[:10]
    found = found.set_index("id").rename_axis("customer").sort_index()
    return found[["r", "f", "m", "tier", "recency", "frequency", "cents", "last"]]


def differences(expected: pd.DataFrame, written: pd.DataFrame) -> int:
    """How many customers differ in any value (or are missing on one side)."""
    expected = expected.sort_index()
    if not expected.index.equals(written.index):
        return int(expected.index.symmetric_difference(written.index).size)
    for column in expected.columns:
        if pd.api.types.is_numeric_dtype(expected[column]):
            expected[column] = expected[column].astype(np.int64)
            written[column] = written[column].astype(np.int64)
    return int((expected != written).any(axis=1).sum())
