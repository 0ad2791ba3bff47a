"""What the web app keeps for a person — a list's columns and sort, saved views — checked
as the lists themselves check a reader; and builders sharing a saved view with everyone."""

from __future__ import annotations

import json

import pytest
from crm_world import World, world_fixtures
from fixture_kit import problem_of

database_url, world = world_fixtures("en")

GRID = {"columns": [{"colId": "name", "width": 240, "hide": False},
                    {"colId": "phone", "hide": True}], "sort": "-created_at"}


async def test_preferences_are_each_persons_own(world: World) -> None:
    zhang, li = world.as_("zhang"), world.as_("li")
    kept = await zhang.put("/api/me/preferences/grid/crm/view/my_leads", json=GRID)
    assert kept.status_code == 200, kept.text
    read = await zhang.get("/api/me/preferences/grid/crm/view/my_leads")
    assert read.json() == {"key": "grid/crm/view/my_leads", "value": GRID}
    await zhang.put("/api/me/preferences/grid/crm/entity/customer", json={"columns": []})
    await zhang.put("/api/me/preferences/theme", json="compact")
    listed = (await zhang.get("/api/me/preferences", params={"prefix": "grid/crm/"})).json()
    assert set(listed["items"]) == {"grid/crm/view/my_leads", "grid/crm/entity/customer"}
    # another person has none of them
    problem_of(await li.get("/api/me/preferences/grid/crm/view/my_leads"), 404)
    assert (await li.get("/api/me/preferences")).json()["items"] == {}
    assert (await zhang.delete("/api/me/preferences/theme")).status_code == 204
    problem_of(await zhang.get("/api/me/preferences/theme"), 404)


async def test_preferences_refuse_odd_keys_and_big_values(world: World) -> None:
    zhang = world.as_("zhang")
    problem_of(await zhang.put("/api/me/preferences/bad key!", json=1), 422)
    problem_of(await zhang.put("/api/me/preferences/big", json="x" * 70_000), 413)


async def test_a_saved_view_is_checked_as_its_list_would_be(world: World) -> None:
    engineer = world.as_("engineer_wu")
    base = {"label": "大合同", "base": "entity:contract", "sort": "-created_at",
            "columns": ["number", "customer"],
            "filter": {">": [{"var": "amount"}, 100000]}}
    refused = problem_of(await engineer.post("/api/apps/crm/saved-views", json=base), 422)
    assert refused["errors"][0]["field"] == "amount"  # hidden from engineers
    refused = problem_of(await engineer.post("/api/apps/crm/saved-views", json={
        **base, "filter": None, "columns": ["number", "amount"]}), 422)
    assert refused["errors"][0]["field"] == "columns.amount"
    problem_of(await engineer.post("/api/apps/crm/saved-views", json={
        **base, "filter": None, "sort": "-amount"}), 422)
    problem_of(await engineer.post("/api/apps/crm/saved-views", json={
        **base, "filter": None, "base": "entity:nothing"}), 422)
    # a list of an entity they may not read is refused as opening it would be
    problem_of(await engineer.post("/api/apps/crm/saved-views", json={
        **base, "filter": None, "base": "view:lead_pool"}), 403)


async def test_saved_views_are_kept_changed_and_deleted_by_their_owner(world: World) -> None:
    zhang, li = world.as_("zhang"), world.as_("li")
    body = {"label": "本周大单", "base": "view:my_opportunities", "sort": "-amount",
            "filter": {"and": [{">=": [{"var": "amount"}, 100000]},
                               {"<=": [{"date_add": [{"today": []}, -7, "days"]},
                                       {"var": "created_at"}, {"today": []}]}]},
            "columns": ["name", "amount", "stage"], "q": "云"}
    created = await zhang.post("/api/apps/crm/saved-views", json=body)
    assert created.status_code == 201, created.text
    saved = created.json()
    assert {key: saved[key] for key in body} == body
    mine = (await zhang.get("/api/apps/crm/saved-views",
                            params={"base": "view:my_opportunities"})).json()["items"]
    assert [item["id"] for item in mine] == [saved["id"]]
    assert (await li.get("/api/apps/crm/saved-views")).json()["items"] == []
    problem_of(await li.put(f"/api/apps/crm/saved-views/{saved['id']}", json=body), 404)
    changed = await zhang.put(f"/api/apps/crm/saved-views/{saved['id']}",
                              json={**body, "label": "大单"})
    assert changed.json()["label"] == "大单"
    problem_of(await li.delete(f"/api/apps/crm/saved-views/{saved['id']}"), 404)
    assert (await zhang.delete(f"/api/apps/crm/saved-views/{saved['id']}")).status_code == 204
    assert (await zhang.get("/api/apps/crm/saved-views")).json()["items"] == []


@pytest.mark.parametrize("sharer, allowed", [("admin", True), ("zhang", False)])
async def test_builders_share_a_saved_view_as_an_app_view(world: World, sharer: str,
                                                          allowed: bool) -> None:
    client = world.as_(sharer)
    saved = (await client.post("/api/apps/crm/saved-views", json={
        "label": "华东线索", "base": "entity:lead", "columns": ["name", "company", "region"],
        "filter": {"==": [{"var": "region"}, "east_china"]}, "sort": "-created_at"})).json()
    shared = await client.post(f"/api/apps/crm/saved-views/{saved['id']}/share", json={
        "name": "east_leads", "label": {"zh-CN": "华东线索", "en": "East China leads"},
        "roles": ["sales_rep", "sales_manager"]})
    if not allowed:
        problem_of(shared, 403)
        return
    assert shared.status_code == 200, shared.text
    views = (await world.as_("li").get("/api/apps/crm/views")).json()["items"]
    assert "east_leads" in [view["name"] for view in views]
    opened = await world.as_("li").get("/api/apps/crm/views/east_leads")
    assert [column["name"] for column in opened.json()["columns"]] == [
        "name", "company", "region"]
    problem_of(await world.as_("engineer_wu").get("/api/apps/crm/views/east_leads"), 404)


async def test_people_are_found_by_name_for_pickers(world: World) -> None:
    zhang = world.as_("zhang")
    found = (await zhang.get("/api/people", params={"q": "张"})).json()["items"]
    assert {"id": world.id("zhang"), "name": "张伟", "email": "zhang@yunqi.example",
            "department": "华东销售部"} in found
    picked = (await zhang.get("/api/people", params={
        "ids": f"{world.id('li')},{world.id('sun')}"})).json()["items"]
    assert sorted(person["name"] for person in picked) == ["孙丽", "李娜"]
    departments = (await zhang.get("/api/departments", params={"q": "销售"})).json()["items"]
    assert "华东销售部" in [item["name"] for item in departments]


async def test_lists_name_the_records_and_people_they_refer_to(world: World) -> None:
    customer = await world.create("customer", {"code": "C-T-1", "name": "云启科技",
                                               "owner": world.id("zhang")})
    hidden = await world.create("customer", {"code": "C-T-2", "name": "北方重工",
                                             "owner": world.id("sun")})
    opportunity = await world.create("opportunity", {
        "name": "云启 · CRM", "customer": customer["id"], "stage": "initial_contact",
        "owner": world.id("zhang"), "amount": 50000}, by="zhang")
    beyond = await world.create("opportunity", {
        "name": "北方 · ERP", "customer": hidden["id"], "stage": "initial_contact",
        "owner": world.id("zhang"), "amount": 1000})
    listed = (await world.as_("zhang").get("/api/apps/crm/records/opportunity", params={
        "titles": "true", "filter": json.dumps({"==": [{"var": "id"}, opportunity["id"]]})}
    )).json()
    assert listed["titles"]["customer"] == {str(customer["id"]): "云启科技"}
    assert listed["titles"]["@user"][str(world.id("zhang"))] == "张伟"
    # a customer beyond the reader's reach keeps its bare id: no name leaks through
    other = (await world.as_("zhang").get(
        f"/api/apps/crm/records/opportunity/{beyond['id']}", params={"titles": "true"})).json()
    assert str(hidden["id"]) not in other["_titles"].get("customer", {})
    one = (await world.as_("zhang").get(
        f"/api/apps/crm/records/opportunity/{opportunity['id']}",
        params={"titles": "true"})).json()
    assert one["_titles"]["customer"][str(customer["id"])] == "云启科技"
    view = (await world.as_("zhang").get("/api/apps/crm/views/my_opportunities",
                                         params={"titles": "true"})).json()
    assert view["titles"]["customer"][str(customer["id"])] == "云启科技"


async def test_exporting_a_view_exports_what_it_lists(world: World) -> None:
    customer = await world.create("customer", {"code": "C-X-1", "name": "导出客户",
                                               "owner": world.id("east_manager")})
    for owner, name in (("east_manager", "王的商机"), ("zhang", "张的商机")):
        await world.create("opportunity", {"name": name, "customer": customer["id"],
                                           "stage": "initial_contact", "amount": 10,
                                           "owner": world.id(owner)})
    # the manager reaches the team's opportunities; "my opportunities" lists their own
    exported = await world.as_("east_manager").get(
        "/api/apps/crm/records/opportunity/export",
        params={"view": "my_opportunities", "fields": "name,amount", "header": "names"})
    assert exported.status_code == 200, exported.text
    lines = exported.text.strip().splitlines()
    assert lines[0].lstrip("\ufeff") == "id,name,amount" and len(lines) == 2
    assert "王的商机" in lines[1]
    problem_of(await world.as_("east_manager").get("/api/apps/crm/records/lead/export",
                                                   params={"view": "my_opportunities"}), 400)


async def test_a_record_read_names_what_its_line_items_refer_to(world: World) -> None:
    product = await world.create("product", {"name": "云服务器", "price": 100})
    customer = await world.create("customer", {"code": "C-Q-1", "name": "报价客户"})
    opportunity = await world.create("opportunity", {
        "name": "报价商机", "customer": customer["id"], "stage": "initial_contact",
        "amount": 100})
    quote = await world.create("quote", {"opportunity": opportunity["id"], "items": [
        {"product": product["id"], "quantity": 2, "unit_price": 100}]})
    read = (await world.admin.get(f"/api/apps/crm/records/quote/{quote['id']}",
                                  params={"titles": "true"})).json()
    assert read["_titles"]["product"] == {str(product["id"]): "云服务器"}
