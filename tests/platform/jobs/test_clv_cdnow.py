"""The ``clv`` job on the CDNOW sample, through the platform's own SQL summary on both
databases: the fitted parameters are the published ones to the printed digits (BG/NBD:
Fader, Hardie & Lee 2005, table 1; Gamma-Gamma: Fader & Hardie's note), and the values
written for a few customers match the ``lifetimes`` package's formulas to 1e-6."""

from __future__ import annotations

import warnings
from collections import defaultdict
from typing import Any

import httpx
import numpy as np
import pytest
from cdnow import CALIBRATION_END, transactions
from shop_app import bulk

APP = "/api/apps/cdnow"
DECIMAL = {"type": "decimal", "scale": 8}
CLV_JOB: dict[str, Any] = {
    "kind": "clv", "label": {"zh-CN": "客户终身价值", "en": "Customer lifetime value"},
    "subject": "customer",
    "events": {"entity": "order", "link": "customer", "date": "order_date",
               "amount": "amount"},
    "time_unit": "week", "horizon_days": 90, "clv_months": 12, "monthly_discount_rate": 0.01,
    "predictions": {"p_alive": "p_alive", "expected_purchases": "expected_purchases",
                    "expected_spend": "expected_spend", "clv": "clv"},
    "as_of_field": "clv_as_of",
}
CDNOW_APP: dict[str, Any] = {
    "app": {"label": {"zh-CN": "CDNOW", "en": "CDNOW"}},
    "entities": {
        "customer": {"label": {"zh-CN": "客户", "en": "Customer"}, "fields": {
            "code": {"type": "text", "unique": True},
            "p_alive": DECIMAL, "expected_purchases": DECIMAL, "expected_spend": DECIMAL,
            "clv": DECIMAL, "clv_as_of": {"type": "date"}}},
        "order": {"label": {"zh-CN": "订单", "en": "Order"}, "fields": {
            "customer": {"type": "lookup", "ref": "customer", "required": True},
            "order_date": {"type": "date", "required": True},
            "amount": {"type": "currency", "required": True}}},
    },
    "jobs": {"clv": CLV_JOB},
}
# a few customers of the sample; the test adds the heaviest buyer
CHECKED = (1, 2, 18, 157, 1516, 1980, 2271)
WEEK = 7.0
MONTH_WEEKS = 365.2425 / 12 / WEEK


def summary(rows: list[dict[str, Any]]) -> dict[int, tuple[int, float, float, float]]:
    """Per customer, in plain Python: x, t_x and T in weeks, and the mean repeat spend
    (purchases per distinct day, as the published fits count them)."""
    days: dict[int, dict[Any, float]] = defaultdict(lambda: defaultdict(float))
    for row in rows:
        if row["date"] <= CALIBRATION_END:
            days[row["customer"]][row["date"]] += float(row["amount"])
    found = {}
    for customer, spend in days.items():
        first, last = min(spend), max(spend)
        x = len(spend) - 1
        repeat = sum(value for day, value in spend.items() if day != first)
        found[customer] = (x, (last - first).days / WEEK, (CALIBRATION_END - first).days / WEEK,
                           repeat / x if x else 0.0)
    return found


def reference(result: dict[str, Any], history: tuple[int, float, float, float]
              ) -> dict[str, float]:
    """The same predictions from ``lifetimes``, given the parameters the job fitted."""
    import pandas as pd
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifetimes import BetaGeoFitter, GammaGammaFitter
    bg, gg = result["bg_nbd"], result["gamma_gamma"]
    purchases = BetaGeoFitter()
    purchases.params_ = pd.Series({name: bg[name] for name in ("r", "alpha", "a", "b")})
    spend = GammaGammaFitter()
    spend.params_ = pd.Series({"p": gg["p"], "q": gg["q"], "v": gg["gamma"]})
    x, t_x, t, mean = history

    def scalar(value: Any) -> float:
        return float(np.ravel(value)[0])

    def by(weeks: float) -> float:
        return scalar(purchases.conditional_expected_number_of_purchases_up_to_time(
            weeks, x, t_x, t))

    expected_spend = scalar(spend.conditional_expected_average_profit(x, mean)) if x else (
        gg["gamma"] * gg["p"] / (gg["q"] - 1))
    discounted = sum((by(i * MONTH_WEEKS) - by((i - 1) * MONTH_WEEKS)) / 1.01 ** i
                     for i in range(1, 13))
    return {"p_alive": scalar(purchases.conditional_probability_alive(x, t_x, t)),
            "expected_purchases": by(90 / WEEK), "expected_spend": expected_spend,
            "clv": expected_spend * discounted}


async def test_cdnow_fit_matches_the_published_parameters(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/apps", json={"slug": "cdnow", "metadata": CDNOW_APP})
    assert response.status_code == 201, response.text
    rows = transactions()
    assert len(rows) == 6919
    ids = sorted({row["customer"] for row in rows})
    assert len(ids) == 2357
    made = await bulk_into(api, "customer", [{"code": str(i)} for i in ids])
    record = {int(item["code"]): item["id"] for item in made}
    await bulk_into(api, "order", [{"customer": record[row["customer"]],
                                    "order_date": row["date"].isoformat(),
                                    "amount": row["amount"]} for row in rows])

    run = await api.post(f"{APP}/jobs/clv/run", json={"as_of": CALIBRATION_END.isoformat()})
    assert run.status_code == 200, run.text
    found = run.json()
    assert found["status"] == "done", found
    result = found["result"]
    bg, gg = result["bg_nbd"], result["gamma_gamma"]
    assert (round(bg["r"], 3), round(bg["alpha"], 3), round(bg["a"], 3),
            round(bg["b"], 3)) == (0.243, 4.414, 0.793, 2.426)
    assert round(bg["log_likelihood"], 1) == -9582.4
    assert (round(gg["p"], 2), round(gg["q"], 2), round(gg["gamma"], 2)) == (6.25, 3.74, 15.44)
    assert result["customers"] == 2357 and result["repeat_buyers"] == 946
    assert result["spend_customers"] == 946 and result["distinct_histories"] == 1016
    assert round(result["spend_frequency_correlation"], 2) == 0.11
    assert found["counts"]["scored"] == 2357 and found["counts"]["changed"] == 2357
    assert found["counts"]["failed"] == 0

    histories = summary(rows)
    heaviest = max(histories, key=lambda customer: histories[customer][0])
    checked = (*CHECKED, heaviest)
    assert {histories[customer][0] for customer in checked} >= {0, 1, 2}
    assert histories[heaviest][0] >= 20
    for customer in checked:
        got = (await api.get(f"{APP}/records/customer/{record[customer]}")).json()
        wanted = reference(result, histories[customer])
        for name, value in wanted.items():
            assert float(got[name]) == pytest.approx(value, abs=1e-6), (customer, name)
        assert got["clv_as_of"] == "1997-09-30"


async def bulk_into(api: httpx.AsyncClient, entity: str, items: list[dict[str, Any]]
                    ) -> list[dict[str, Any]]:
    return await bulk(api, entity, items, app=APP)
