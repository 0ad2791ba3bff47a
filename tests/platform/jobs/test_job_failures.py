"""A watched change that the pipeline refuses (here a rule sets a value that is not an
option) fails alone: that customer keeps its old values and is listed in the run, the
others are written; the next run tries it again — on both databases."""

from __future__ import annotations

import httpx
from shop_app import bulk, customers, publish, run

BROKEN = {"entity": "customer", "trigger": {"on": "field_change", "fields": ["rfm_tier"]},
          "condition": {"==": [{"var": "rfm_tier"}, "general_retain"]},
          "actions": [{"type": "set_field", "field": "service_level", "value": "platinum"}]}


async def test_a_refused_record_keeps_its_values_and_is_reported(
        api: httpx.AsyncClient) -> None:
    await publish(api, rules={"broken": BROKEN})
    good, bad = await bulk(api, "customer", [{"code": "GOOD"}, {"code": "BAD"}])
    await bulk(api, "order", [
        {"customer": good["id"], "order_date": "1998-06-30", "amount": "500.00"},
        {"customer": good["id"], "order_date": "1998-06-29", "amount": "500.00"},
        {"customer": bad["id"], "order_date": "1997-01-01", "amount": "1.00"}])
    result = (await run(api, "1998-07-01")).json()
    assert result["status"] == "done"
    assert result["counts"]["changed"] == 2
    assert result["counts"]["set_based"] == 1  # GOOD: no rule watches important_value
    assert result["counts"]["failed"] == 1
    (failure,) = result["result"]["failures"]
    assert failure["record_id"] == bad["id"] and "service_level" in failure["error"]
    found = await customers(api)
    assert found[good["id"]]["rfm_tier"] == "important_value"
    assert found[bad["id"]]["rfm_tier"] is None and found[bad["id"]]["version"] == 1
    again = (await run(api, "1998-07-01")).json()
    assert again["counts"]["changed"] == 1 and again["counts"]["failed"] == 1
