"""Rule traces and trying rules, through the public API on both databases: the runs an
admin reads, dry runs on stored and unsaved records that leave nothing behind, unpublished
and draft rules, previews counted in SQL, and the problems of bad requests."""

from __future__ import annotations

import json
from typing import Any

import httpx
from rules_api import APP, RECORDS, counts, get, person, post, problem, publish

from loom.platform.services import Services

GRADE = {
    "entity": "lead", "trigger": {"on": "create"},
    "condition": {"==": [{"var": "region"}, "east_china"]},
    "actions": [{"type": "set_field", "field": "grade", "value": "A"},
                {"type": "notify", "to": [{"kind": "owner"}],
                 "title": {"zh-CN": "新线索 {{ name }}", "en": "New lead {{ name }}"}}]}

# the leads of the tests have no grade: creating them does not fire it
CONVERT = {
    "entity": "lead", "trigger": {"on": "field_change", "fields": ["grade"]},
    "condition": {"and": [{"==": [{"var": "region"}, "east_china"]},
                          {"!": {"is_blank": {"var": "company"}}}]},
    "actions": [
        {"type": "set_field", "field": "status", "value": "converted"},
        {"type": "create_record", "entity": "customer", "link": "converted_customer",
         "values": {"name": {"var": "company"}, "owner": {"var": "owner"}}},
        {"type": "notify", "to": [{"kind": "owner"}], "title": {"en": "Converted {{ name }}"}},
        {"type": "create_task", "assignee": {"kind": "owner"}, "due": "P1D",
         "remind_before": "PT2H", "title": {"en": "Call {{ company }}"}},
        {"type": "webhook", "url": "https://hooks.example.com/converted"},
        {"type": "send_email", "to": [{"kind": "owner"}], "subject": {"en": "Converted"},
         "body": {"en": "{{ name }}"}}]}


async def try_rule(api: httpx.AsyncClient, name: str, body: Any,
                   **headers: str) -> httpx.Response:
    return await api.post(f"{APP}/rules/{name}/try", json=body, headers=headers)


async def test_rule_runs_are_listed_newest_first(api: httpx.AsyncClient,
                                                 services: Services) -> None:
    await publish(api, {"grade": GRADE})
    first = await post(api, "lead", {"name": "张三", "region": "east_china", "owner": 1})
    second = await post(api, "lead", {"name": "李四", "region": "east_china", "owner": 1})
    await post(api, "lead", {"name": "王五", "region": "north_china"})  # not matched
    response = await api.get(f"{APP}/rule-runs")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(i["rule"], i["record_id"], i["trigger"], i["status"]) for i in items] == [
        ("grade", second["id"], "create", "done"), ("grade", first["id"], "create", "done")]
    assert items[0]["inputs"] == {"region": "east_china"}
    assert items[0]["actions"] == [
        {"type": "set_field", "set": {"grade": "A"}},
        {"type": "notify", "to": [1], "title": "新线索 李四"}]
    assert (items[0]["version"], items[0]["actor_id"], items[0]["source"]) == (1, 1, "api")
    # filters and limit
    one = (await api.get(f"{APP}/rule-runs", params={"entity": "lead",
                                                     "record": first["id"]})).json()
    assert [i["record_id"] for i in one["items"]] == [first["id"]]
    assert (await api.get(f"{APP}/rule-runs", params={"rule": "other"})).json() == {
        "items": []}
    assert len((await api.get(f"{APP}/rule-runs", params={"limit": 1})).json()["items"]) == 1
    body = problem(await api.get(f"{APP}/rule-runs", params={"limit": 0}), 422)
    assert [e["field"] for e in body["errors"]] == ["query.limit"]
    # traces show any record's values: for administrators only
    _rep, headers = await person(api, services, "rep@example.com")
    problem(await api.get(f"{APP}/rule-runs", headers=headers), 403)
    problem(await api.get("/api/apps/nope/rule-runs"), 404)


async def test_a_dry_run_leaves_nothing_behind(api: httpx.AsyncClient,
                                               services: Services) -> None:
    await publish(api, {"convert": CONVERT})
    lead = await post(api, "lead", {"name": "王五", "company": "比亚迪",
                                    "region": "east_china", "owner": 1})
    before = await counts(services)
    response = await try_rule(api, "convert", {"record_id": lead["id"]})
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["matched"] is True
    assert found["inputs"] == {"company": "比亚迪", "region": "east_china"}
    assert [a["type"] for a in found["actions"]] == [
        "set_field", "create_record", "notify", "create_task", "webhook", "send_email"]
    assert found["actions"][0] == {"type": "set_field", "set": {"status": "converted"}}
    customer_id = found["actions"][1]["created"]["customer"]
    assert found["actions"][2]["to"] == [1]
    assert found["actions"][3]["assignee"] == 1
    assert found["actions"][5]["to"] == ["admin@example.com"]
    # what the record would look like: converted and linked to the new customer
    assert (found["record"]["status"], found["record"]["converted_customer"]) == (
        "converted", customer_id)
    assert "failed" not in found
    # and none of it happened
    assert await counts(services) == before
    assert await get(api, "lead", lead["id"]) == lead
    assert (await api.get(f"{RECORDS}/customer")).json()["items"] == []
    assert (await api.get("/api/notifications")).json()["items"] == []
    # a lead the condition does not hold for: the values it read, no actions
    other = await post(api, "lead", {"name": "赵六", "region": "north_china"})
    found = (await try_rule(api, "convert", {"record_id": other["id"]})).json()
    assert found == {"matched": False, "inputs": {"company": None, "region": "north_china"},
                     "actions": []}
    assert await counts(services) == before


async def test_a_dry_run_reports_what_would_refuse_the_change(
        api: httpx.AsyncClient, services: Services) -> None:
    rule = {**CONVERT, "condition": {"==": [{"var": "region"}, "east_china"]}}
    await publish(api, {"convert": rule})
    lead = await post(api, "lead", {"name": "无公司", "region": "east_china"})
    before = await counts(services)
    response = await try_rule(api, "convert", {"record_id": lead["id"]},
                              **{"accept-language": "en"})
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["matched"] is True and "record" not in found
    assert found["failed"]["status"] == 422
    assert "Rule 'convert'" in found["failed"]["detail"]
    assert [e["field"] for e in found["failed"]["errors"]] == ["name"]  # the customer's
    assert await counts(services) == before
    assert await get(api, "lead", lead["id"]) == lead


async def test_a_dry_run_on_values_not_stored(api: httpx.AsyncClient,
                                              services: Services) -> None:
    await publish(api, {"convert": CONVERT})
    before = await counts(services)
    values = {"name": "新客", "company": "海尔", "region": "east_china", "owner": 1}
    response = await try_rule(api, "convert", {"record": values})
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["matched"] is True
    assert found["inputs"] == {"company": "海尔", "region": "east_china"}
    assert found["actions"][0] == {"type": "set_field", "set": {"status": "converted"}}
    assert found["actions"][1]["type"] == "create_record"
    assert found["record"]["status"] == "converted"
    assert await counts(services) == before
    assert (await api.get(f"{RECORDS}/lead")).json()["items"] == []
    assert (await api.get(f"{RECORDS}/customer")).json()["items"] == []
    unmatched = (await try_rule(api, "convert", {"record": {"name": "x"}})).json()
    assert unmatched == {"matched": False, "inputs": {"company": None, "region": None},
                         "actions": []}
    # values are read as a save reads them, each problem named by its field
    body = problem(await try_rule(api, "convert", {"record": {
        "regoin": "east_china", "region": "mars"}}, **{"accept-language": "en"}), 422)
    assert sorted(e["field"] for e in body["errors"]) == ["record.region", "record.regoin"]
    assert "did you mean 'region'" in next(e["message"] for e in body["errors"]
                                           if e["field"] == "record.regoin")


async def test_trying_unpublished_draft_and_disabled_rules(api: httpx.AsyncClient) -> None:
    await publish(api, {"off": {**GRADE, "enabled": False}})
    lead = await post(api, "lead", {"name": "a", "region": "east_china"})
    assert lead["grade"] is None  # disabled: it did not fire on create …
    found = (await try_rule(api, "off", {"record_id": lead["id"]})).json()
    assert found["matched"] is True  # … but can be tried
    assert found["record"]["grade"] == "A"
    # a definition sent with the request
    proposal = {"entity": "lead", "trigger": {"on": "update"},
                "condition": {"==": [{"var": "name"}, "a"]},
                "actions": [{"type": "tag", "add": ["vip"]}]}
    found = (await try_rule(api, "vip", {"record_id": lead["id"], "rule": proposal})).json()
    assert (found["matched"], found["record"]["tags"]) == (True, ["vip"])
    assert found["inputs"] == {"name": "a"}
    # problems of a proposal are named under "rule", as publish would name them
    broken = {**proposal, "trigger": {"on": "creat"},
              "actions": [{"type": "set_field", "field": "regoin", "value": "x"}]}
    body = problem(await try_rule(api, "vip", {"record_id": lead["id"], "rule": broken},
                                  **{"accept-language": "en"}), 422)
    assert [e["field"] for e in body["errors"]] == ["rule.trigger.on"]
    broken = {**proposal, "actions": [{"type": "set_field", "field": "regoin", "value": "x"}]}
    body = problem(await try_rule(api, "vip", {"record_id": lead["id"], "rule": broken},
                                  **{"accept-language": "en"}), 422)
    assert [e["field"] for e in body["errors"]] == ["rule.actions[0].field"]
    assert "has no field 'regoin'" in body["errors"][0]["message"]
    body = problem(await try_rule(api, "Bad-Name", {"record_id": lead["id"],
                                                    "rule": proposal}), 422)
    assert [e["field"] for e in body["errors"]] == ["name"]
    # the rule as it stands in the draft
    response = await api.patch(f"{APP}/metadata/draft", json={"rules": {"hot": {
        "entity": "lead", "trigger": {"on": "update"}, "actions": [
            {"type": "tag", "add": ["hot"]}]}}})
    assert response.status_code == 200, response.text
    found = (await try_rule(api, "hot", {"record_id": lead["id"], "draft": True})).json()
    assert (found["matched"], found["record"]["tags"]) == (True, ["hot"])
    problem(await try_rule(api, "hot", {"record_id": lead["id"]}), 404)  # not published
    problem(await try_rule(api, "nope", {"record_id": lead["id"], "draft": True}), 404)
    assert (await get(api, "lead", lead["id"]))["tags"] is None


async def test_a_preview_counts_the_matching_records(api: httpx.AsyncClient) -> None:
    await publish(api, {"convert": CONVERT})
    rows = [("华东甲", "east_china", "甲"), ("华东乙", "east_china", None),
            ("华北", "north_china", "丙"), ("空", None, "丁")]
    rows += [(f"华东{n}", "east_china", f"公司{n}") for n in range(12)]
    ids = [(await post(api, "lead", {"name": name, "region": region, "company": company})
            )["id"] for name, region, company in rows]
    response = await try_rule(api, "convert", {"preview": True})
    assert response.status_code == 200, response.text
    found = response.json()
    # the same records a dry run of each says it matches, and a list filter finds
    matched = [record_id for record_id in ids if (await try_rule(
        api, "convert", {"record_id": record_id})).json()["matched"]]
    listed = (await api.get(f"{RECORDS}/lead", params={
        "filter": json.dumps(CONVERT["condition"]), "count": "true"})).json()
    assert found["count"] == len(matched) == listed["count"] == 13
    assert found["sample"] == matched[:10]
    assert found["count_capped"] is False
    # a proposal without a condition matches every record
    everything = {"entity": "lead", "trigger": {"on": "update"},
                  "actions": [{"type": "tag", "add": ["hot"]}]}
    found = (await try_rule(api, "all", {"preview": True, "rule": everything})).json()
    assert (found["count"], found["sample"]) == (len(ids), ids[:10])
    # a condition the database cannot evaluate is refused, saying why
    listy = {**everything, "condition": {"in": ["vip", {"var": "tags"}]}}
    body = problem(await try_rule(api, "listy", {"preview": True, "rule": listy},
                                  **{"accept-language": "en"}), 422)
    assert "cannot be counted in the database" in body["detail"]
    assert [e["field"] for e in body["errors"]] == ["condition"]


async def test_bad_requests_to_try_a_rule(api: httpx.AsyncClient,
                                          services: Services) -> None:
    await publish(api, {"convert": CONVERT})
    lead = await post(api, "lead", {"name": "a"})
    body = problem(await try_rule(api, "nope", {"record_id": lead["id"]},
                                  **{"accept-language": "en"}), 404)
    assert body["detail"] == "There is no rule 'nope' in this app"
    assert problem(await try_rule(api, "nope", {"record_id": lead["id"]}), 404)[
        "detail"] == "应用中没有规则“nope”"
    problem(await try_rule(api, "convert", {"record_id": 999999}), 404)
    problem(await api.post(f"{APP}/rules/convert/try", content=b"[1"), 400)
    cases = [({}, ["record_id"]),
             ({"record_id": lead["id"], "record": {}}, ["record_id"]),
             ({"record_id": "one"}, ["record_id"]),
             ({"record_id": 0}, ["record_id"]),
             ({"record_id": lead["id"], "regard": 1}, ["regard"]),
             ({"preview": "yes"}, ["preview"]),
             ({"record": [1]}, ["record"]),
             ({"preview": True, "draft": True, "rule": {}}, ["draft"])]
    for request, fields in cases:
        body = problem(await try_rule(api, "convert", request), 422)
        assert [e["field"] for e in body["errors"]] == fields, request
    _rep, headers = await person(api, services, "rep@example.com")
    response = await api.post(f"{APP}/rules/convert/try", json={"record_id": lead["id"]},
                              headers=headers)
    problem(response, 403)
