"""Three-way merge of a template upgrade into an app: one-sided changes arrive, the app's
edits are never overwritten, collisions are listed and resolved by choice."""

from __future__ import annotations

import copy
from typing import Any

from loom.metamodel.merge import merge_documents

BASE: dict[str, Any] = {
    "app": {"label": {"zh-CN": "客户关系管理", "en": "CRM"}, "template": "crm",
            "template_version": "1.0.0"},
    "entities": {
        "opportunity": {"label": {"zh-CN": "商机", "en": "Opportunity"}, "fields": {
            "name": {"type": "text"},
            "stage": {"type": "select", "options": [
                {"value": "initial_contact", "label": {"zh-CN": "初步接洽", "en": "Initial"}},
                {"value": "demo", "label": {"zh-CN": "方案演示", "en": "Demo"}},
                {"value": "won", "label": {"zh-CN": "赢单", "en": "Won"}}]},
            "amount": {"type": "currency"}}}},
    "rules": {"stale": {"entity": "opportunity", "trigger": {"on": "schedule"},
                        "actions": [{"type": "notify", "to": ["owner"]}]}},
    "flows": {"approval": {"entity": "opportunity", "nodes": {
        "manager": {"type": "user_task"}, "done": {"type": "end"}},
        "edges": [{"from": "start", "to": "manager"}, {"from": "manager", "to": "done"}]}},
}


def _fields(document: dict[str, Any]) -> dict[str, Any]:
    return document["entities"]["opportunity"]["fields"]


def test_nothing_changed_anywhere() -> None:
    result = merge_documents(BASE, copy.deepcopy(BASE), copy.deepcopy(BASE))
    assert result.document == BASE
    assert result.conflicts == []


def test_each_side_keeps_its_own_changes() -> None:
    app, template = copy.deepcopy(BASE), copy.deepcopy(BASE)
    _fields(app)["budget"] = {"type": "currency"}                       # the app's field
    _fields(app)["amount"]["required"] = True                          # the app's edit
    _fields(template)["probability"] = {"type": "percent"}              # the template's field
    template["app"]["template_version"] = "1.1.0"
    template["rules"]["stale"]["actions"] = [{"type": "notify", "to": ["manager"]}]

    result = merge_documents(BASE, app, template)

    assert result.conflicts == []
    fields = _fields(result.document)
    assert fields["budget"] == {"type": "currency"}
    assert fields["amount"] == {"type": "currency", "required": True}
    assert fields["probability"] == {"type": "percent"}
    assert list(fields) == ["name", "stage", "amount", "probability", "budget"]
    assert result.document["app"]["template_version"] == "1.1.0"
    assert result.document["rules"]["stale"]["actions"] == [{"type": "notify",
                                                            "to": ["manager"]}]


def test_options_merge_by_value_and_a_new_stage_lands_where_the_template_put_it() -> None:
    app, template = copy.deepcopy(BASE), copy.deepcopy(BASE)
    app_options = _fields(app)["stage"]["options"]
    app_options[1]["label"] = {"zh-CN": "产品演示", "en": "Demo"}        # the app relabels
    app_options.append({"value": "lost", "label": {"zh-CN": "输单", "en": "Lost"}})
    template_options = _fields(template)["stage"]["options"]
    template_options.insert(1, {"value": "needs_analysis",
                                "label": {"zh-CN": "需求分析", "en": "Needs analysis"}})

    result = merge_documents(BASE, app, template)

    assert result.conflicts == []
    options = _fields(result.document)["stage"]["options"]
    assert [o["value"] for o in options] == ["initial_contact", "needs_analysis", "demo",
                                             "won", "lost"]
    assert options[2]["label"]["zh-CN"] == "产品演示"


def test_the_same_thing_changed_differently_is_a_conflict_and_the_app_value_stays() -> None:
    app, template = copy.deepcopy(BASE), copy.deepcopy(BASE)
    _fields(app)["stage"]["options"][1]["label"] = {"zh-CN": "产品演示", "en": "Demo"}
    _fields(template)["stage"]["options"][1]["label"] = {"zh-CN": "方案展示", "en": "Demo"}
    del _fields(app)["amount"]                                          # the app removed it
    _fields(template)["amount"]["scale"] = 2                            # the template changed it

    result = merge_documents(BASE, app, template)

    conflicts = {c.path: c for c in result.unresolved}
    assert set(conflicts) == {
        "entities.opportunity.fields.stage.options.demo.label.zh-CN",
        "entities.opportunity.fields.amount"}
    label = conflicts["entities.opportunity.fields.stage.options.demo.label.zh-CN"]
    assert (label.base, label.app, label.template) == ("方案演示", "产品演示", "方案展示")
    assert _fields(result.document)["stage"]["options"][1]["label"]["zh-CN"] == "产品演示"
    assert "amount" not in _fields(result.document)
    assert conflicts["entities.opportunity.fields.amount"].as_json()["app_present"] is False


def test_resolutions_choose_per_path() -> None:
    app, template = copy.deepcopy(BASE), copy.deepcopy(BASE)
    _fields(app)["stage"]["options"][1]["label"] = {"zh-CN": "产品演示", "en": "Demo"}
    _fields(template)["stage"]["options"][1]["label"] = {"zh-CN": "方案展示", "en": "Demo"}
    del _fields(app)["amount"]
    _fields(template)["amount"]["scale"] = 2
    label_path = "entities.opportunity.fields.stage.options.demo.label.zh-CN"

    result = merge_documents(BASE, app, template, {
        label_path: "template", "entities.opportunity.fields.amount": "app"})

    assert result.unresolved == []
    assert {c.path: c.resolution for c in result.conflicts} == {
        label_path: "template", "entities.opportunity.fields.amount": "app"}
    assert _fields(result.document)["stage"]["options"][1]["label"]["zh-CN"] == "方案展示"
    assert "amount" not in _fields(result.document)


def test_flow_edges_merge_by_their_ends() -> None:
    app, template = copy.deepcopy(BASE), copy.deepcopy(BASE)
    flow = template["flows"]["approval"]
    flow["nodes"]["director"] = {"type": "user_task"}
    flow["edges"] = [{"from": "start", "to": "manager"}, {"from": "manager", "to": "director"},
                     {"from": "director", "to": "done"}]
    app["flows"]["approval"]["nodes"]["manager"]["label"] = "Sales manager"

    result = merge_documents(BASE, app, template)

    assert result.conflicts == []
    merged = result.document["flows"]["approval"]
    assert merged["nodes"]["manager"] == {"type": "user_task", "label": "Sales manager"}
    assert merged["edges"] == flow["edges"]


def test_a_rule_removed_by_the_template_and_untouched_by_the_app_goes() -> None:
    app, template = copy.deepcopy(BASE), copy.deepcopy(BASE)
    del template["rules"]["stale"]
    result = merge_documents(BASE, app, template)
    assert result.document["rules"] == {}
    assert result.conflicts == []


def test_ordered_lists_without_identity_are_one_value() -> None:
    app, template = copy.deepcopy(BASE), copy.deepcopy(BASE)
    app["rules"]["stale"]["actions"].append({"type": "tag", "tag": "stale"})
    template["rules"]["stale"]["actions"] = [{"type": "notify", "to": ["manager"]}]

    result = merge_documents(BASE, app, template)

    [conflict] = result.conflicts
    assert conflict.path == "rules.stale.actions"
    assert result.document["rules"]["stale"]["actions"] == app["rules"]["stale"]["actions"]
