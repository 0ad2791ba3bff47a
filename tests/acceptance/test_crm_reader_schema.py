"""Who may read what of the CRM's metadata (field report, item 9): the whole document set
— roles with their permissions, rules, flows, versions — is for administrators and the
app's builders; everyone else gets ``GET /api/apps/{app}/schema``, the app as they may use
it: the entities they may read with the fields they see, and the views, forms and
dashboards they may open, in their language."""

from __future__ import annotations

from typing import Any

from crm_world import APP, World, email_of
from fixture_kit import problem_of

SCHEMA = f"/api/apps/{APP}/schema"
BUILDERS_ONLY = [f"/api/apps/{APP}/metadata", f"/api/apps/{APP}/metadata/versions",
                 f"/api/apps/{APP}/metadata/versions/1", f"/api/apps/{APP}/metadata/diff",
                 f"/api/apps/{APP}/metadata/export", f"/api/apps/{APP}/metadata/overlay",
                 f"/api/apps/{APP}/metadata/audit", f"/api/apps/{APP}/metadata/draft",
                 f"/api/apps/{APP}/roles", f"/api/apps/{APP}/roles/sales_rep"]


async def schema_of(world: World, key: str, language: str = "zh-CN") -> dict[str, Any]:
    response = await world.as_(key).get(SCHEMA, headers={"Accept-Language": language})
    assert response.status_code == 200, response.text
    return response.json()


def entity(schema: dict[str, Any], name: str) -> dict[str, Any]:
    found = [e for e in schema["entities"] if e["name"] == name]
    assert found, f"{name} is not in the schema"
    return found[0]


def fields(schema: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in entity(schema, name)["fields"]}


async def test_a_rep_is_refused_the_metadata_and_everything_that_shows_the_roles(
        world: World) -> None:
    for path in BUILDERS_ONLY:
        problem_of(await world.as_("zhang").get(path), 403)
        problem_of(await world.as_("engineer_wu").get(path), 403)
    metadata = await world.admin.get(f"/api/apps/{APP}/metadata")
    assert metadata.status_code == 200 and "sales_rep" in metadata.json()["roles"]


async def test_a_rep_sees_the_sales_entities_with_what_they_may_do_there(
        world: World) -> None:
    schema = await schema_of(world, "zhang")
    assert schema["you"] == {"roles": ["sales_rep"], "builder": False, "admin": False}
    assert schema["app"]["slug"] == APP and schema["app"]["timezone"] == "Asia/Shanghai"
    assert schema["app"]["version"] >= 1
    names = {e["name"] for e in schema["entities"]}
    assert {"lead", "opportunity", "customer", "contact", "quote", "contract",
            "payment"} <= names
    assert "roles" not in schema and "rules" not in schema and "flows" not in schema
    assert entity(schema, "lead")["permissions"] == {
        "create": True, "read": True, "update": True, "delete": False, "export": False,
        "import": False}
    assert entity(schema, "payment")["permissions"]["create"] is False
    lead = entity(schema, "lead")
    assert lead["label"] == "线索" and lead["title_field"] == "name"
    assert lead["default_form"] == "lead"
    assert {"my_leads", "lead_pool"} <= set(lead["views"])
    assert {a["name"] for a in lead["actions"]} >= {"claim", "release", "convert"}
    assert all("steps" not in action for action in lead["actions"])
    status = fields(schema, "lead")["status"]
    assert status["type"] == "select" and status["readonly"] is False
    assert {"value", "label"} <= set(status["options"][0])
    customer = fields(schema, "customer")
    assert customer["rfm_tier"]["readonly"] is True  # the role reads it, a job writes it
    contract = fields(schema, "contract")
    assert contract["received_amount"]["readonly"] is True
    assert contract["customer"]["ref"] == "customer"
    assert fields(schema, "lead")["id"] == {"name": "id", "label": "编号", "type": "integer",
                                             "required": False, "readonly": True,
                                             "system": True}


async def test_views_and_dashboards_are_those_the_reader_may_open(world: World) -> None:
    rep = await schema_of(world, "zhang")
    view_names = [v["name"] for v in rep["views"]]
    assert "my_leads" in view_names and "ticket_sla_board" not in view_names  # by role
    assert {d["name"] for d in rep["dashboards"]} == {"customers", "sales"}
    kanban = next(v for v in rep["views"] if v["name"] == "opportunity_kanban")
    assert kanban["kind"] == "kanban" and kanban["group_by"] == "stage"
    assert {f["entity"] for f in rep["forms"]} <= {e["name"] for e in rep["entities"]}

    engineer = await schema_of(world, "engineer_wu")
    names = {e["name"] for e in engineer["entities"]}
    assert "ticket" in names and not {"lead", "opportunity", "payment", "quote"} & names
    assert entity(engineer, "ticket")["permissions"]["create"] is True
    assert {v["entity"] for v in engineer["views"]} <= names
    assert "ticket_sla_board" in [v["name"] for v in engineer["views"]]
    assert {d["name"] for d in engineer["dashboards"]} == {"service"}
    contract = fields(engineer, "contract")
    assert "amount" not in contract and "received_amount" not in contract  # hidden
    assert "customer" in contract
    assert all(f["readonly"] for f in contract.values())  # reads contracts, never writes


async def test_the_schema_speaks_the_readers_language(world: World) -> None:
    english = await schema_of(world, "zhang", "en")
    assert entity(english, "lead")["label"] == "Lead"
    assert fields(english, "lead")["id"]["label"] == "ID"
    chinese = await schema_of(world, "zhang", "zh-CN")
    assert entity(chinese, "lead")["label"] == "线索"


async def test_builders_and_administrators_get_everything(world: World) -> None:
    joined = await world.admin.put(f"/api/apps/{APP}/roles/admin",
                                   json={"members": [email_of("li")]})
    assert joined.status_code == 200, joined.text
    builder = world.as_("li")
    schema = await schema_of(world, "li")
    assert schema["you"]["builder"] is True and schema["you"]["admin"] is False
    metadata = await builder.get(f"/api/apps/{APP}/metadata")
    assert metadata.status_code == 200 and "sales_rep" in metadata.json()["roles"]
    roles = await builder.get(f"/api/apps/{APP}/roles")
    assert roles.status_code == 200
    assert {"sales_rep", "finance"} <= {r["name"] for r in roles.json()["items"]}

    admin = (await world.admin.get(SCHEMA)).json()
    assert admin["you"]["admin"] is True and admin["you"]["builder"] is True
    assert {e["name"] for e in admin["entities"]} == set(metadata.json()["entities"])
