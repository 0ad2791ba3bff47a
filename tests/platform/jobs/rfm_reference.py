"""An independent RFM computation in pandas — the specification of docs/JOBS.md written
a second way, to check the SQL job against."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
from shop_app import TIER_NAMES


def reference(orders: list[dict[str, Any]], customer_ids: list[int], as_of: date,
              window_days: int | None = None) -> dict[int, dict[str, Any]]:
    """Per customer id: the values the job must write (all None without orders)."""
    frame = pd.DataFrame(orders, columns=["customer", "order_date", "amount"])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame["cents"] = [int(Decimal(str(a)) * 100) for a in frame["amount"]]
    keep = frame["order_date"] <= pd.Timestamp(as_of)
    if window_days:
        keep &= frame["order_date"] > pd.Timestamp(as_of - timedelta(days=window_days))
    totals = frame[keep].groupby("customer").agg(
        last=("order_date", "max"), frequency=("order_date", "size"), cents=("cents", "sum"))
    totals["recency"] = (pd.Timestamp(as_of) - totals["last"]).dt.days
    n = len(totals)

    def scores(worse_first: pd.Series) -> pd.Series:
        # b = how many are strictly worse = rank ("min" ties) - 1
        return 1 + (5 * (worse_first - 1)) // n

    totals["r"] = scores(totals["recency"].rank(method="min", ascending=False).astype(int))
    totals["f"] = scores(totals["frequency"].rank(method="min").astype(int))
    totals["m"] = scores(totals["cents"].rank(method="min").astype(int))
    # exact comparisons with the mean: x·n against the total
    high_r = totals["recency"] * n <= totals["recency"].sum()
    high_f = totals["frequency"] * n >= totals["frequency"].sum()
    high_m = totals["cents"] * n >= totals["cents"].sum()
    found: dict[int, dict[str, Any]] = {}
    for customer in customer_ids:
        if customer not in totals.index:
            found[customer] = dict.fromkeys(
                ("rfm_r", "rfm_f", "rfm_m", "rfm_tier", "recency_days", "frequency",
                 "monetary", "last_order_date", "rfm_as_of"))
            continue
        row = totals.loc[customer]
        key = ",".join([("high_r" if high_r[customer] else "low_r"),
                        ("high_f" if high_f[customer] else "low_f"),
                        ("high_m" if high_m[customer] else "low_m")])
        found[customer] = {
            "rfm_r": int(row["r"]), "rfm_f": int(row["f"]), "rfm_m": int(row["m"]),
            "rfm_tier": TIER_NAMES[key], "recency_days": int(row["recency"]),
            "frequency": int(row["frequency"]),
            "monetary": str(Decimal(int(row["cents"])).scaleb(-2)),
            "last_order_date": row["last"].date().isoformat(),
            "rfm_as_of": as_of.isoformat()}
    return found


def means(orders: list[dict[str, Any]], as_of: date) -> dict[str, float]:
    frame = pd.DataFrame(orders, columns=["customer", "order_date", "amount"])
    frame["order_date"] = pd.to_datetime(frame["order_date"])
    frame = frame[frame["order_date"] <= pd.Timestamp(as_of)]
    frame["amount"] = frame["amount"].astype(float)
    totals = frame.groupby("customer").agg(last=("order_date", "max"),
                                           frequency=("order_date", "size"),
                                           monetary=("amount", "sum"))
    recency = (pd.Timestamp(as_of) - totals["last"]).dt.days
    return {"recency": float(recency.mean()), "frequency": float(totals["frequency"].mean()),
            "monetary": float(totals["monetary"].mean())}
