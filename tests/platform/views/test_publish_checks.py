"""A bad view or form refuses the publish with a readable list; a good one is served as
soon as it is published — no deploy."""

from __future__ import annotations

from crm_world import APP, World, sop_ready

METADATA = f"/api/apps/{APP}/metadata"


async def test_a_bad_view_refuses_the_publish_and_a_fixed_one_is_served(world: World) -> None:
    bad = {"app": {"home": "nowhere"}, "views": {"by_owner": {
        "entity": "opportunity", "label": {"zh-CN": "按负责人", "en": "By owner"},
        "kind": "kanban", "group_by": "owner", "columns": ["name", "amuont"], "sum": "name"},
        "summed_list": {"entity": "lead", "label": {"zh-CN": "列表", "en": "List"},
                        "columns": ["name"], "sum": "name"}},
        "forms": {"lead": {"related": [{"entity": "payment", "via": "contract"}]}}}
    drafted = await world.admin.patch(f"{METADATA}/draft", json=bad,
                                      headers={"Content-Type": "application/merge-patch+json"})
    assert drafted.status_code == 200, drafted.text
    refused = await world.admin.post(f"{METADATA}/publish", json={})
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    errors = {e["field"]: e["message"] for e in refused.json()["errors"]}
    assert errors["views.by_owner.group_by"] == \
        "a kanban groups by a select field, and 'owner' is user"
    assert errors["views.by_owner.columns[1]"].startswith("Opportunity has no field 'amuont'")
    assert errors["views.by_owner.sum"] == "a kanban sums a number field, and 'name' is text"
    assert errors["views.summed_list.sum"] == "sum applies to kanban views only"
    assert errors["app.home"] == "The app opens on 'nowhere', which is no view or dashboard"
    # a merge patch replaces lists: the form's related lists are just this one
    assert "does not lead to Lead" in errors["forms.lead.related[0].via"]
    assert (await world.admin.get(f"/api/apps/{APP}/views/by_owner")).status_code == 404

    fixed = {"app": {"home": "by_owner"},
             "views": {"by_owner": {"group_by": "stage", "columns": ["name", "amount"],
                                    "filter": {">=": [{"var": "amount"}, 1000]},
                                    "sum": "amount"},
                       "summed_list": None},
             "forms": {"lead": {"related": [{"entity": "follow_up", "via": "lead"}]}}}
    drafted = await world.admin.patch(f"{METADATA}/draft", json=fixed,
                                      headers={"Content-Type": "application/merge-patch+json"})
    assert drafted.status_code == 200, drafted.text
    published = await world.admin.post(f"{METADATA}/publish", json={})
    assert published.status_code in (200, 201), published.text
    customer = await world.create("customer", {"name": "发布后", "tag": "prospect"})
    contact = await world.create("contact", {"name": "孙经理", "customer": customer["id"]})
    for amount in (500, 2000):
        await world.create("opportunity", {"name": f"Deal {amount}", "stage": "demo",
                                           "customer": customer["id"], "amount": amount,
                                           **sop_ready(contact["id"])})
    board = await world.admin.get(f"/api/apps/{APP}/views/by_owner")
    assert board.status_code == 200, board.text
    demo = next(lane for lane in board.json()["columns"] if lane["value"] == "demo")
    assert [item["name"] for item in demo["items"]] == ["Deal 2000"]
    # the app now opens on it, for those who may open it
    schema = (await world.as_("zhang").get(f"/api/apps/{APP}/schema")).json()
    assert schema["app"]["home"] == {"view": "by_owner"}
    engineer = (await world.as_("engineer_wu").get(f"/api/apps/{APP}/schema")).json()
    assert "home" not in engineer["app"]
