"""The ``clv`` job end to end on both databases: every customer with purchases gets its
predictions, the others none; each change is audited as a job change; a rerun changes
nothing; changes a rule watches go through the write pipeline; data the models cannot
use is refused in the reader's language; bad metadata is refused at publish; the CLI
prints the fitted parameters."""

from __future__ import annotations

import copy
import csv
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
from cli_run import loom
from clv_app import AS_OF, CLV_JOB, WRITTEN, clv_app, publish, run_clv, shop_with_orders
from shop_app import bulk, customers

RISK_RULE = {"entity": "customer", "trigger": {"on": "field_change", "fields": ["p_alive"]},
             "condition": {"<": [{"var": "p_alive"}, 0.5]},
             "actions": [{"type": "set_field", "field": "service_level", "value": "vip"}]}


def buyers(orders: list[dict[str, str]], as_of: str) -> set[int]:
    return {int(order["customer"]) for order in orders if order["order_date"] <= as_of}


async def test_predictions_are_written_audited_and_cleared(api: httpx.AsyncClient) -> None:
    ids, orders = await shop_with_orders(api, 300)
    response = await run_clv(api)
    assert response.status_code == 200, response.text
    run = response.json()
    bought = buyers(orders, AS_OF.isoformat())
    assert run["status"] == "done"
    assert run["counts"]["scored"] == len(bought) == run["result"]["customers"]
    assert run["counts"]["changed"] == run["counts"]["set_based"] == len(bought)
    assert run["counts"]["through_pipeline"] == 0 and run["counts"]["cleared"] == 0
    result = run["result"]
    assert set(result["bg_nbd"]) == {"r", "alpha", "a", "b", "log_likelihood"}
    assert set(result["gamma_gamma"]) == {"p", "q", "gamma", "log_likelihood"}
    assert result["time_unit"] == "week" and result["horizon_days"] == 90
    assert result["distinct_histories"] <= len(bought)

    found = await customers(api)
    for customer in ids:
        record = found[customer]
        if customer not in bought:
            assert all(record[name] is None for name in WRITTEN), record
            continue
        alive, spend = Decimal(str(record["p_alive"])), Decimal(str(record["expected_spend"]))
        assert Decimal(0) <= alive <= Decimal(1)
        assert Decimal(str(record["expected_purchases"])) >= 0 and spend > 0
        assert Decimal(str(record["clv"])) >= 0 and record["clv_as_of"] == "1998-07-01"

    someone = next(iter(sorted(bought)))
    history = await api.get("/api/apps/shop/audit", params={"entity": "customer",
                                                            "record": someone})
    change = history.json()["items"][-1]
    assert change["source"] == "job" and change["version"] == 2
    assert change["changes"]["clv_as_of"] == [None, "1998-07-01"]
    assert change["changes"]["p_alive"][0] is None
    assert Decimal(str(change["changes"]["p_alive"][1])) == \
        Decimal(str(found[someone]["p_alive"]))

    again = (await run_clv(api)).json()
    assert again["counts"]["changed"] == 0
    assert again["result"]["bg_nbd"] == result["bg_nbd"]

    # half a year earlier the later customers had not bought yet: their values go
    earlier = AS_OF - timedelta(days=200)
    before = (await run_clv(api, earlier)).json()
    gone = bought - buyers(orders, earlier.isoformat())
    assert gone and before["counts"]["cleared"] == len(gone)
    found = await customers(api)
    assert all(found[customer]["p_alive"] is None for customer in gone)


async def test_watched_changes_go_through_the_pipeline(api: httpx.AsyncClient) -> None:
    await shop_with_orders(api, 200, seed=11, rules={"at_risk": RISK_RULE})
    run = (await run_clv(api)).json()
    assert run["status"] == "done", run
    found = (await customers(api)).values()
    at_risk = [r for r in found if r["p_alive"] is not None and float(r["p_alive"]) < 0.5]
    assert at_risk, "the simulated shop has customers who look gone"
    assert run["counts"]["through_pipeline"] == len(at_risk)
    assert run["counts"]["set_based"] == run["counts"]["changed"] - len(at_risk)
    assert "rule at_risk" in run["result"]["pipeline_because"]
    assert {r["id"] for r in found if r["service_level"] == "vip"} == {r["id"] for r in at_risk}


async def test_data_the_models_cannot_use_is_refused_in_words(api: httpx.AsyncClient) -> None:
    await publish(api)
    made = await bulk(api, "customer", [{"code": f"C{i}"} for i in range(30)])
    # everyone bought once, three bought again: too few repeat buyers
    orders = [{"customer": c["id"], "order_date": "1998-03-01", "amount": "10.00"}
              for c in made]
    orders += [{"customer": c["id"], "order_date": "1998-05-01", "amount": "10.00"}
               for c in made[:3]]
    await bulk(api, "order", orders)
    refused = await run_clv(api, headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"] == (
        "任务“clv”运行失败：校准期内 30 位客户中只有 3 位复购；BG/NBD 模型至少需要 10 位有复购"
        "的客户")
    english = await run_clv(api, headers={"Accept-Language": "en"})
    assert english.status_code == 422
    assert "3 of 30 customers bought again" in english.json()["detail"]
    runs = (await api.get("/api/apps/shop/jobs/clv/runs")).json()["items"]
    assert [r["status"] for r in runs] == ["failed", "failed"]
    assert "3 of 30 customers bought again" in runs[0]["error"]

    # now twenty bought again, every one spending 10.00 a time: no spread to fit
    await bulk(api, "order", [{"customer": c["id"], "order_date": "1998-06-01",
                               "amount": "10.00"} for c in made[3:20]])
    flat = await run_clv(api, headers={"Accept-Language": "en"})
    assert flat.status_code == 422
    assert "every repeat buyer spent the same on average (10.0)" in flat.json()["detail"]
    assert all(r["p_alive"] is None for r in (await customers(api)).values())


async def test_bad_clv_metadata_is_refused_at_publish(api: httpx.AsyncClient) -> None:
    job = copy.deepcopy(CLV_JOB)
    job["events"]["amount"] = "order_date"
    job["predictions"] = {"p_alive": "code", "expected_purchases": "missing",
                          "expected_spend": "clv", "clv": "clv"}
    job["as_of_field"] = "p_alive"
    response = await api.post("/api/apps", json={"slug": "shop", "metadata": clv_app(job=job)},
                              headers={"Accept-Language": "en"})
    assert response.status_code == 422, response.text
    problems = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert "'order_date' on order is date" in problems["jobs.clv.events.amount"]
    assert "'code' on customer is text" in problems["jobs.clv.predictions.p_alive"]
    assert problems["jobs.clv.predictions.expected_purchases"] == \
        "there is no field 'missing' on customer"
    assert problems["jobs.clv.predictions.clv"] == "the job writes 'clv' twice"
    assert "'p_alive' on customer is decimal" in problems["jobs.clv.as_of_field"]

    for broken in ({"predictions": {}}, {"time_unit": "fortnight"},
                   {"monthly_discount_rate": -0.1}):
        response = await api.post("/api/apps", json={
            "slug": "shop", "metadata": clv_app(job={**copy.deepcopy(CLV_JOB), **broken})})
        assert response.status_code == 422, broken
        assert any(e["field"].startswith("jobs.clv") for e in response.json()["errors"])


def test_the_clv_job_from_the_command_line(empty_database_url: str, tmp_path: Path) -> None:
    from clv_app import simulated_orders
    url = empty_database_url
    assert loom(url, "db", "upgrade", cwd=tmp_path).returncode == 0
    (tmp_path / "shop.json").write_text(json.dumps(clv_app()), encoding="utf-8")
    assert loom(url, "app", "create", "shop", "shop.json", cwd=tmp_path).returncode == 0
    codes = [f"C{i}" for i in range(150)]
    (tmp_path / "customers.csv").write_text("code\n" + "\n".join(codes) + "\n",
                                            encoding="utf-8")
    assert loom(url, "import", "shop", "customer", "customers.csv",
                cwd=tmp_path).returncode == 0
    with (tmp_path / "orders.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["customer.code", "order_date", "amount"])
        for order in simulated_orders(list(range(150)), seed=5):
            writer.writerow([codes[order["customer"]], order["order_date"], order["amount"]])
    imported = loom(url, "import", "shop", "order", "orders.csv", cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr

    done = loom(url, "job", "run", "shop", "clv", "--as-of", "1998-07-01", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout)
    assert run["status"] == "done" and run["as_of"] == "1998-07-01"
    for name in ("r", "alpha", "a", "b", "log_likelihood"):
        assert isinstance(run["result"]["bg_nbd"][name], float)
    for name in ("p", "q", "gamma", "log_likelihood"):
        assert isinstance(run["result"]["gamma_gamma"][name], float)

    # before the first order nobody has bought: a message, not a traceback
    refused = loom(url, "job", "run", "shop", "clv", "--as-of", "1997-01-01", cwd=tmp_path)
    assert refused.returncode == 1 and "0 of 0 customers bought again" in refused.stderr
    assert "Traceback" not in refused.stderr
