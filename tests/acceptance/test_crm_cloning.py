"""CRM_TEMPLATE.md §5: a team clones the template in one step and changes fields, stages,
rules and flows for its own business — without touching the original or another clone, and
without a deploy."""

from __future__ import annotations

from typing import Any

from crm_world import World


async def published(world: World, slug: str, document: dict[str, Any]) -> None:
    draft = await world.admin.put(f"/api/apps/{slug}/metadata/draft", json=document)
    assert draft.status_code == 200, draft.text
    response = await world.admin.post(f"/api/apps/{slug}/metadata/publish", json={})
    assert response.status_code == 200, response.text


async def metadata(world: World, slug: str) -> dict[str, Any]:
    response = await world.admin.get(f"/api/apps/{slug}/metadata")
    assert response.status_code == 200, response.text
    return response.json()


def stage_labels(document: dict[str, Any]) -> dict[str, str]:
    return {o["value"]: o["label"]["zh-CN"]
            for o in document["entities"]["opportunity"]["fields"]["stage"]["options"]}


async def test_two_clones_of_the_template_coexist_and_diverge(world: World) -> None:
    created = await world.admin.post("/api/apps", json={"slug": "retail", "template": "crm"})
    assert created.status_code == 201, created.text
    retail = await metadata(world, "retail")
    original = await metadata(world, "crm")
    assert retail["entities"] == original["entities"]

    retail["entities"]["customer"]["fields"]["wechat"] = {
        "type": "text", "label": {"zh-CN": "微信号", "en": "WeChat ID"}}
    for option in retail["entities"]["opportunity"]["fields"]["stage"]["options"]:
        if option["value"] == "demo":
            option["label"]["zh-CN"] = "门店试用"
    retail["rules"]["lead_pool_notify"]["enabled"] = False
    retail["flows"]["contract_approval"]["nodes"]["sales_manager"]["due"] = "PT24H"
    await published(world, "retail", retail)

    # the clone has its own fields, stages, rules and flows …
    customer = await world.admin.post("/api/apps/retail/records/customer", json={
        "name": "成都小满餐饮管理有限公司", "wechat": "xiaoman_cd"})
    assert customer.status_code == 201, customer.text
    assert customer.json()["wechat"] == "xiaoman_cd"
    retail = await metadata(world, "retail")
    assert stage_labels(retail)["demo"] == "门店试用"
    lead = await world.admin.post("/api/apps/retail/records/lead", json={
        "name": "何军", "company": "成都小满餐饮管理有限公司", "region": "east_china"})
    assert lead.status_code == 201, lead.text

    # … and the original, already in use, keeps its own
    original = await metadata(world, "crm")
    assert "wechat" not in original["entities"]["customer"]["fields"]
    assert stage_labels(original)["demo"] == "方案演示"
    assert original["flows"]["contract_approval"]["nodes"]["sales_manager"]["due"] == "PT48H"
    refused = await world.admin.post("/api/apps/crm/records/customer", json={
        "name": "成都小满餐饮管理有限公司", "wechat": "xiaoman_cd"})
    assert refused.status_code == 422, refused.text
    await world.create("lead", {"name": "何军", "company": "苏州东方纺织有限公司",
                                "region": "east_china"})
    # the pool notice: on in the original, switched off in the clone (one notice, not two)
    assert [t for t in await world.titles("east_manager") if t.startswith("公海新线索")] == [
        "公海新线索：何军（苏州东方纺织有限公司）"]
    # records stay in their own app
    assert [c["name"] for c in await world.find("customer")] == []
    listed = (await world.admin.get("/api/apps/retail/records/customer")).json()["items"]
    assert [c["name"] for c in listed] == ["成都小满餐饮管理有限公司"]
