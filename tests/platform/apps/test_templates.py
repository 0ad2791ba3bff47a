"""Apps cloned from a template are independent of it and of each other; upgrading the
template later merges into each app and never overwrites what its admins changed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx
import pytest
from sales_app import App, sales

import loom.platform.apps.templates as templates
from loom.platform.apps.folder import write_folder

DEMO_PATH = "entities.opportunity.fields.stage.options.demo.label.zh-CN"


def template_v1() -> dict[str, Any]:
    doc = sales()
    doc["app"]["template_version"] = "1.0.0"
    doc["app"]["description"] = {"zh-CN": "销售模板", "en": "Sales template"}
    return doc


@pytest.fixture
def shelf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A templates folder holding the template ``mini``, version 1.0.0."""
    monkeypatch.setattr(templates, "TEMPLATES_DIR", tmp_path)
    write_folder(template_v1(), tmp_path / "mini")
    return tmp_path


async def clone(api: httpx.AsyncClient, slug: str) -> App:
    api.headers["Accept-Language"] = "en"
    created = await api.post("/api/apps", json={"slug": slug, "template": "mini"})
    assert created.status_code == 201, created.text
    return App(api, slug)


def _stage_labels(document: dict[str, Any]) -> dict[str, str]:
    options = document["entities"]["opportunity"]["fields"]["stage"]["options"]
    return {o["value"]: o["label"]["zh-CN"] for o in options}


async def test_two_clones_coexist_and_diverge(api: httpx.AsyncClient, shelf: Path) -> None:
    east, north = await clone(api, "east"), await clone(api, "north")
    listed = (await api.get("/api/templates")).json()["items"]
    assert listed == [{"name": "mini", "label": {"zh-CN": "销售", "en": "Sales"},
                       "description": {"zh-CN": "销售模板", "en": "Sales template"},
                       "version": "1.0.0"}]

    changed = await east.metadata()
    changed["entities"]["customer"]["fields"]["wechat"] = {"type": "text"}
    changed["entities"]["opportunity"]["fields"]["stage"]["options"][1]["label"]["zh-CN"] = \
        "产品演示"
    await east.published(changed)
    await east.create("customer", {"name": "华为", "wechat": "huawei"})
    await north.create("customer", {"name": "小米"})

    north_doc = await north.metadata()
    assert "wechat" not in north_doc["entities"]["customer"]["fields"]
    assert _stage_labels(north_doc)["demo"] == "方案演示"
    assert (await api.get("/api/apps/north/records/customer")).json()["items"][0]["name"] == \
        "小米"
    assert [c["name"] for c in (await api.get("/api/apps/east/records/customer")).json()[
        "items"]] == ["华为"]
    assert templates.load_template("mini")["entities"] == template_v1()["entities"]
    east_layers = (await api.get("/api/apps/east/metadata/overlay")).json()
    assert east_layers["template"] == "mini" and east_layers["template_version"] == "1.0.0"
    assert [c["summary"] for c in east_layers["changes"]] == [
        "field 'wechat' added (text)",
        "field 'stage': option 'demo' label 方案演示 / Demo → 产品演示 / Demo"]
    assert (await api.get("/api/apps/north/metadata/overlay")).json()["changes"] == []


def _ship_v2(shelf: Path, change: Any) -> None:
    doc = template_v1()
    doc["app"]["template_version"] = "1.1.0"
    change(doc)
    write_folder(doc, shelf / "mini")


async def test_an_upgrade_without_conflicts_brings_the_template_and_keeps_the_app(
        api: httpx.AsyncClient, shelf: Path) -> None:
    app = await clone(api, "east")
    mine = await app.metadata()
    mine["entities"]["opportunity"]["fields"]["budget"] = {"type": "currency"}
    await app.published(mine)
    await app.create("opportunity", {"name": "云服务", "budget": 1000})

    def v2(doc: dict[str, Any]) -> None:
        fields = doc["entities"]["opportunity"]["fields"]
        fields["probability"] = {"type": "percent"}
        fields["stage"]["options"].insert(1, {"value": "needs_analysis", "label": {
            "zh-CN": "需求分析", "en": "Needs analysis"}})
    _ship_v2(shelf, v2)

    preview = await api.post("/api/apps/east/metadata/upgrade", json={"dry_run": True})
    assert preview.status_code == 200, preview.text
    assert preview.json()["conflicts"] == [] and preview.json()["problems"] == []
    assert (await api.get("/api/apps/east/metadata/draft")).json() == await app.metadata()

    upgraded = await api.post("/api/apps/east/metadata/upgrade", json={})
    assert upgraded.status_code == 200, upgraded.text
    assert (upgraded.json()["from_version"], upgraded.json()["to_version"]) == ("1.0.0",
                                                                                "1.1.0")
    summaries = [c["summary"] for c in upgraded.json()["changes"]]
    assert "field 'probability' added (percent)" in summaries
    assert "field 'stage': option 'needs_analysis' added" in summaries
    assert await app.version() == 2  # staged as the draft, not yet published

    published = await api.post("/api/apps/east/metadata/publish", json={})
    assert published.status_code == 200, published.text
    fields = (await app.metadata())["entities"]["opportunity"]["fields"]
    assert {"budget", "probability"} <= set(fields)
    assert list(_stage_labels(await app.metadata())) == ["initial_contact", "needs_analysis",
                                                         "demo", "won"]
    assert (await app.get("opportunity", 1))["budget"] == 1000
    layers = (await api.get("/api/apps/east/metadata/overlay")).json()
    assert layers["template_version"] == "1.1.0"
    assert [c["summary"] for c in layers["changes"]] == ["field 'budget' added (currency)"]
    again = (await api.post("/api/apps/east/metadata/upgrade", json={})).json()
    assert again["up_to_date"] is True and again["changes"] == []


async def test_a_conflicting_upgrade_lists_the_conflicts_until_resolved(
        api: httpx.AsyncClient, shelf: Path) -> None:
    app = await clone(api, "east")
    mine = await app.metadata()
    mine["entities"]["opportunity"]["fields"]["stage"]["options"][1]["label"]["zh-CN"] = \
        "产品演示"
    await app.published(mine)

    def v2(doc: dict[str, Any]) -> None:
        doc["entities"]["opportunity"]["fields"]["stage"]["options"][1]["label"]["zh-CN"] = \
            "方案展示"
        doc["entities"]["customer"]["fields"]["industry"] = {"type": "text"}
    _ship_v2(shelf, v2)

    refused = await api.post("/api/apps/east/metadata/upgrade", json={})

    assert refused.status_code == 409, refused.text
    [conflict] = refused.json()["conflicts"]
    assert (conflict["path"], conflict["base"], conflict["app"], conflict["template"]) == (
        DEMO_PATH, "方案演示", "产品演示", "方案展示")
    assert (await api.get("/api/apps/east")).json()["has_draft"] is False

    kept = await api.post("/api/apps/east/metadata/upgrade", json={
        "resolutions": {DEMO_PATH: "app"}, "dry_run": True})
    assert kept.status_code == 200
    assert kept.json()["conflicts"][0]["resolution"] == "app"

    taken = await api.post("/api/apps/east/metadata/upgrade", json={
        "resolutions": {DEMO_PATH: "template"}})
    assert taken.status_code == 200, taken.text
    await api.post("/api/apps/east/metadata/publish", json={})
    doc = await app.metadata()
    assert _stage_labels(doc)["demo"] == "方案展示"
    assert "industry" in doc["entities"]["customer"]["fields"]


async def test_an_upgrade_waits_for_the_draft_and_needs_a_template(
        api: httpx.AsyncClient, shelf: Path) -> None:
    app = await clone(api, "east")
    draft = copy.deepcopy(await app.metadata())
    draft["app"]["label"] = "East"
    await api.put("/api/apps/east/metadata/draft", json=draft)
    busy = await api.post("/api/apps/east/metadata/upgrade", json={})
    assert busy.status_code == 409 and "draft" in busy.json()["detail"]

    made = await api.post("/api/apps", json={"slug": "plain", "metadata": sales()})
    assert made.status_code == 201
    plain = await api.post("/api/apps/plain/metadata/upgrade", json={})
    assert plain.status_code == 404 and "not created from a template" in plain.json()["detail"]
    bad = await api.post("/api/apps/east/metadata/upgrade", json={
        "resolutions": {DEMO_PATH: "mine"}})
    assert bad.status_code == 422
    unknown = await api.post("/api/apps", json={"slug": "other", "template": "nope"})
    assert unknown.status_code == 404 and "mini" in unknown.json()["detail"]


async def test_discarding_an_upgrade_draft_keeps_the_old_base(
        api: httpx.AsyncClient, shelf: Path) -> None:
    app = await clone(api, "east")
    _ship_v2(shelf, lambda doc: doc["entities"]["customer"]["fields"].update(
        industry={"type": "text"}))
    assert (await api.post("/api/apps/east/metadata/upgrade", json={})).status_code == 200
    assert (await api.get("/api/apps/east/metadata/overlay")).json()["pending_version"] == \
        "1.1.0"

    await api.delete("/api/apps/east/metadata/draft")

    layers = (await api.get("/api/apps/east/metadata/overlay")).json()
    assert layers["template_version"] == "1.0.0" and layers["pending_version"] is None
    assert layers["available_version"] == "1.1.0"
    assert await app.version() == 1


async def test_the_crm_template_clones_into_independent_apps(api: httpx.AsyncClient) -> None:
    api.headers["Accept-Language"] = "en"
    for slug in ("crm_east", "crm_north"):
        created = await api.post("/api/apps", json={"slug": slug, "template": "crm"})
        assert created.status_code == 201, created.text
    east = App(api, "crm_east")
    doc = await east.metadata()
    assert doc["app"]["template"] == "crm"
    doc["entities"]["lead"]["fields"]["wechat"] = {
        "type": "text", "label": {"zh-CN": "微信", "en": "WeChat"}}
    await east.published(doc)

    north = await App(api, "crm_north").metadata()

    assert "wechat" not in north["entities"]["lead"]["fields"]
    assert "wechat" not in templates.load_template("crm")["entities"]["lead"]["fields"]
    layers = (await api.get("/api/apps/crm_east/metadata/overlay")).json()
    assert [c["summary"] for c in layers["changes"]] == ["field 'wechat' added (text)"]


async def test_a_crm_clone_has_its_seed_records_from_the_first_minute(
        api: httpx.AsyncClient) -> None:
    api.headers["Accept-Language"] = "en"
    created = await api.post("/api/apps", json={"slug": "crm", "template": "crm"})
    assert created.status_code == 201, created.text

    teams = (await api.get("/api/apps/crm/records/team", params={"sort": "code"})).json()
    lead = await api.post("/api/apps/crm/records/lead", json={
        "name": "张伟", "company": "上海云启科技有限公司", "phone": "13800138000",
        "region": "east_china"})

    assert [t["code"] for t in teams["items"]] == ["company_pool", "east_china_team",
                                                   "north_china_team", "south_china_team"]
    assert lead.status_code == 201, lead.text
    east = next(t["id"] for t in teams["items"] if t["code"] == "east_china_team")
    assert lead.json()["team"] == east
    history = (await api.get(f"/api/apps/crm/records/team/{east}/history")).json()["items"]
    assert history[0]["source"] == "import"
