"""Before publishing, an admin sees what the change does to the running app: tables and
their rows, values that will be hidden, rules that would now fire on stored records, flow
instances that stay on their version — and nothing is changed by looking."""

from __future__ import annotations

from sales_app import App, sales


async def _stored_data(app: App) -> None:
    huawei = await app.create("customer", {"name": "华为", "region": "华南"})
    await app.create("customer", {"name": "阿里巴巴", "region": "华东"})
    await app.create("customer", {"name": "小米"})
    for name, amount in (("云服务", 800000), ("手机", 50000), ("IoT", 300000)):
        await app.create("opportunity", {"name": name, "amount": amount,
                                         "customer": huawei["id"]})


async def test_the_dry_run_counts_rows_rules_and_running_flows(app: App) -> None:
    await _stored_data(app)
    started = await app.api.post(f"{app.base}/flow-instances",
                                 json={"flow": "approval", "record_id": 1})
    assert started.status_code == 201, started.text
    doc = sales()
    customer = doc["entities"]["customer"]["fields"]
    del customer["region"]
    customer["phone"] = {"type": "phone"}
    doc["rules"]["big_deal"]["condition"] = {">": [{"var": "amount"}, 200000]}
    doc["rules"]["small_deal"] = {
        "entity": "opportunity", "trigger": {"on": "update"},
        "condition": {"<": [{"var": "amount"}, 100000]},
        "actions": [{"type": "set_field", "field": "flagged", "value": False}]}
    doc["flows"]["approval"]["nodes"]["manager"]["label"] = "Sales manager"

    answer = await app.publish(doc, dry_run=True)

    assert answer.status_code == 200, answer.text
    impact = answer.json()["impact"]
    [table] = impact["tables"]
    assert table["entity"] == "customer" and table["rows"] == 3
    assert {c["effect"]: c["field"] for c in table["changes"]} == {
        "add_column": "phone", "hide_column": "region"}
    assert table["hidden_values"] == {"region": 2}
    rules = {r["rule"]: r for r in impact["rules"]}
    assert (rules["big_deal"]["why"], rules["big_deal"]["count"]) == ("changed", 2)
    assert (rules["small_deal"]["why"], rules["small_deal"]["count"]) == ("added", 1)
    assert impact["flows"] == [{"flow": "approval", "running": 1, "versions": {"1": 1},
                                "status": "changed"}]
    assert await app.version() == 1
    assert "region" in (await app.get("customer", 1))


async def test_a_rule_whose_condition_has_no_sql_is_reported_not_counted(app: App) -> None:
    await _stored_data(app)
    doc = sales()
    doc["rules"]["big_deal"]["condition"] = {
        "in": ["云", {"var": "name"}]}  # substring test: counted in SQL as well
    doc["rules"]["dynamic"] = {  # the field is named by a computation: no column to query
        "entity": "opportunity", "trigger": {"on": "create"},
        "condition": {">": [{"var": {"cat": ["amo", "unt"]}}, 0]},
        "actions": [{"type": "set_field", "field": "flagged", "value": True}]}

    answer = await app.publish(doc, dry_run=True)

    assert answer.status_code == 200, answer.text
    rules = {r["rule"]: r for r in answer.json()["impact"]["rules"]}
    assert rules["big_deal"]["count"] == 1
    assert rules["dynamic"]["count"] is None
    assert "computed field name" in rules["dynamic"]["not_counted"]


async def test_an_unchanged_publish_has_no_impact(app: App) -> None:
    await _stored_data(app)
    impact = (await app.publish(sales(), dry_run=True)).json()["impact"]
    assert impact == {"tables": [], "rules": [], "flows": []}
