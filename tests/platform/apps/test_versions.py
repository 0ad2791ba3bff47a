"""Versions, readable diffs, rollback (data kept), discarding a draft, and publishing
races: the safety net of an app's metadata, through the API."""

from __future__ import annotations

import asyncio

from sales_app import App, sales
from sqlalchemy import text

from loom.platform.storage.entity_tables import Namespace
from loom.platform.storage.system_tables import apps


def _second_version() -> dict:
    doc = sales()
    fields = doc["entities"]["opportunity"]["fields"]
    fields["budget"] = {"type": "currency", "label": {"zh-CN": "预算", "en": "Budget"}}
    fields["stage"]["options"][1]["label"] = {"zh-CN": "产品演示", "en": "Demo"}
    doc["rules"]["big_deal"]["condition"] = {">": [{"var": "amount"}, 500000]}
    flow = doc["flows"]["approval"]
    flow["nodes"]["director"] = {"type": "user_task", "label": "Director",
                                 "assignees": [{"kind": "initiator"}]}
    flow["edges"] = [{"from": "start", "to": "manager"},
                     {"from": "manager", "to": "director", "outcome": "approve"},
                     {"from": "manager", "to": "done", "outcome": "reject"},
                     {"from": "director", "to": "done"}]
    return doc


async def test_the_diff_of_two_versions_reads_as_a_change_log(app: App) -> None:
    published = await app.published(_second_version(), message="budget and director")

    assert published["version"] == 2
    assert await app.diff(**{"from": 1, "to": 2}) == [
        "entities.opportunity: field 'stage': option 'demo' label 方案演示 / Demo → "
        "产品演示 / Demo",
        "entities.opportunity: field 'budget' added (currency)",
        "rules.big_deal: condition changed",
        "flows.approval: node 'director' added (user_task)",
        "flows.approval: edge manager → director added",
        "flows.approval: edge director → done added",
        "flows.approval: edge manager → done removed",
    ]
    app.api.headers["Accept-Language"] = "zh-CN"
    assert "entities.opportunity: 新增字段“budget”（currency）" in await app.diff(
        **{"from": 1, "to": 2})
    # the same changes came back with the publish itself
    assert [c["path"] for c in published["diff"]][1] == "entities.opportunity.fields.budget"


async def test_the_diff_of_the_draft_against_the_published_version(app: App) -> None:
    doc = sales()
    doc["entities"]["customer"]["fields"]["phone"] = {"type": "phone"}
    saved = await app.api.put(f"{app.base}/metadata/draft", json=doc)
    assert saved.status_code == 200

    response = await app.api.get(f"{app.base}/metadata/diff")

    assert response.json()["from"] == 1 and response.json()["to"] == "draft"
    assert await app.diff() == ["entities.customer: field 'phone' added (phone)"]
    assert await app.diff(to=1) == []


async def test_a_diff_names_a_missing_version(app: App) -> None:
    missing = await app.api.get(f"{app.base}/metadata/diff", params={"from": 7})
    assert missing.status_code == 404
    assert "no version 7" in missing.json()["detail"]
    bad = await app.api.get(f"{app.base}/metadata/diff", params={"from": "latest"})
    assert bad.status_code == 422


async def test_versions_carry_author_time_and_message(app: App) -> None:
    await app.published(_second_version(), message="budget and director")

    items = (await app.api.get(f"{app.base}/metadata/versions")).json()["items"]

    assert [(i["version"], i["message"], i["current"]) for i in items] == [
        (2, "budget and director", True), (1, "created", False)]
    assert items[0]["author_email"] == "admin@example.com"
    assert items[0]["created_at"].startswith("2026-11-02")


async def test_rollback_hides_newer_fields_and_keeps_their_data(app: App, services) -> None:
    await app.published(_second_version())
    record = await app.create("opportunity", {"name": "华为云", "amount": 800000,
                                              "budget": 750000})

    rolled = await app.api.post(f"{app.base}/metadata/rollback", json={"version": 1})

    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["version"] == 3
    assert "budget" not in await app.get("opportunity", record["id"])
    assert (await app.metadata())["entities"]["opportunity"]["fields"].keys() == \
        sales()["entities"]["opportunity"]["fields"].keys()
    namespace = Namespace.for_app("default", "sales", postgres=services.database.is_postgres)
    table = namespace.table_name("opportunity")
    qualified = f'"{namespace.schema}"."{table}"' if namespace.schema else f'"{table}"'
    async with services.database.read() as conn:
        stored = await conn.scalar(text(f"SELECT budget FROM {qualified}"))
    assert stored == 750000
    versions = (await app.api.get(f"{app.base}/metadata/versions")).json()["items"]
    assert versions[0]["message"] == "rolled back to version 1"

    again = await app.api.post(f"{app.base}/metadata/rollback", json={"version": 2})

    assert again.status_code == 200, again.text
    assert (await app.get("opportunity", record["id"]))["budget"] == 750000


async def test_rollback_does_not_throw_away_a_draft_unasked(app: App) -> None:
    await app.published(_second_version())
    draft = sales()
    draft["app"]["label"] = "Sales (editing)"
    await app.api.put(f"{app.base}/metadata/draft", json=draft)

    refused = await app.api.post(f"{app.base}/metadata/rollback", json={"version": 1})

    assert refused.status_code == 409
    assert "draft" in refused.json()["detail"]
    assert (await app.api.get(f"{app.base}/metadata/draft")).json() == draft
    forced = await app.api.post(f"{app.base}/metadata/rollback",
                                json={"version": 1, "discard_draft": True})
    assert forced.status_code == 200, forced.text
    same = await app.api.post(f"{app.base}/metadata/rollback", json={"version": 3})
    assert same.status_code == 409
    missing = await app.api.post(f"{app.base}/metadata/rollback", json={"version": 9})
    assert missing.status_code == 404


async def test_discarding_the_draft_keeps_the_published_version(app: App) -> None:
    doc = sales()
    doc["entities"]["customer"]["fields"]["phone"] = {"type": "phone"}
    await app.api.put(f"{app.base}/metadata/draft", json=doc)

    discarded = await app.api.delete(f"{app.base}/metadata/draft")

    assert discarded.status_code == 200
    assert (await app.api.get(f"{app.base}/metadata/draft")).json() == await app.metadata()
    assert (await app.api.delete(f"{app.base}/metadata/draft")).status_code == 409
    nothing = await app.api.post(f"{app.base}/metadata/publish", json={})
    assert nothing.status_code == 409


async def test_a_stale_publish_is_told_what_was_published_meanwhile(app: App) -> None:
    first = sales()
    first["entities"]["customer"]["fields"]["phone"] = {"type": "phone"}
    assert (await app.publish(first, base_version=1)).status_code == 200
    second = sales()
    second["entities"]["customer"]["fields"]["email"] = {"type": "email"}

    stale = await app.publish(second, base_version=1)

    assert stale.status_code == 409, stale.text
    body = stale.json()
    assert body["current_version"] == 2
    assert [c["summary"] for c in body["changes"]] == ["field 'phone' added (phone)"]
    assert await app.version() == 2


async def test_two_admins_publishing_at_once_one_wins(app: App, services) -> None:
    doc = sales()
    doc["entities"]["customer"]["fields"]["phone"] = {"type": "phone"}
    await app.api.put(f"{app.base}/metadata/draft", json=doc)

    answers = await asyncio.gather(*(
        app.api.post(f"{app.base}/metadata/publish", json={"base_version": 1})
        for _ in range(2)))

    assert sorted(a.status_code for a in answers) == [200, 409]
    [loser] = [a for a in answers if a.status_code == 409]
    assert loser.json()["current_version"] == 2
    assert [c["summary"] for c in loser.json()["changes"]] == ["field 'phone' added (phone)"]
    assert await app.version() == 2
    async with services.database.read() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM metadata_versions mv JOIN apps a "
                                      "ON a.id = mv.app_id WHERE a.slug = 'sales'")) == 2
        assert await conn.scalar(apps.select().with_only_columns(apps.c.draft)
                                 .where(apps.c.slug == "sales")) is None
