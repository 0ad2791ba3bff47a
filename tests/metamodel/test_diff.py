"""The metadata diff reads like a change log, in both languages."""

from __future__ import annotations

import copy
from typing import Any

from loom.metamodel.diff import diff_documents, summarize

OLD: dict[str, Any] = {
    "app": {"label": {"zh-CN": "客户管理", "en": "CRM"}},
    "entities": {"opportunity": {"label": {"zh-CN": "商机", "en": "Opportunity"}, "fields": {
        "stage": {"type": "select", "options": [
            {"value": "initial_contact", "label": {"zh-CN": "初步接洽", "en": "Initial contact"}},
            {"value": "demo", "label": {"zh-CN": "方案演示", "en": "Demo"}}]},
        "amount": {"type": "currency"}}}},
    "rules": {"stale": {"entity": "opportunity", "trigger": {"on": "schedule"},
                        "condition": {">": [{"days_since": {"var": "updated_at"}}, 3]},
                        "actions": []}},
    "flows": {"approval": {"entity": "contract", "nodes": {
        "manager": {"type": "user_task"}, "done": {"type": "end"}},
        "edges": [{"from": "start", "to": "manager"}, {"from": "manager", "to": "done"}]}},
}


def test_no_change_no_diff() -> None:
    assert diff_documents(OLD, copy.deepcopy(OLD)) == []


def test_real_changes_read_as_sentences() -> None:
    new = copy.deepcopy(OLD)
    fields = new["entities"]["opportunity"]["fields"]
    fields["region"] = {"type": "select", "options": [{"value": "east_china"}]}
    fields["stage"]["options"][1]["label"] = {"zh-CN": "产品演示", "en": "Demo"}
    fields["amount"]["required"] = True
    new["rules"]["stale"]["condition"] = {">": [{"days_since": {"var": "updated_at"}}, 5]}
    new["flows"]["approval"]["nodes"]["director"] = {"type": "user_task"}
    new["flows"]["approval"]["edges"] = [{"from": "start", "to": "manager"},
                                         {"from": "manager", "to": "director"},
                                         {"from": "director", "to": "done"}]
    new["dashboards"] = {"funnel": {"charts": []}}
    lines = summarize(diff_documents(OLD, new), "en")
    assert lines == [
        "entities.opportunity: field 'stage': option 'demo' label 方案演示 / Demo → "
        "产品演示 / Demo",
        "entities.opportunity: field 'amount': required false → true",
        "entities.opportunity: field 'region' added (select)",
        "rules.stale: condition changed",
        "flows.approval: node 'director' added (user_task)",
        "flows.approval: edge manager → director added",
        "flows.approval: edge director → done added",
        "flows.approval: edge manager → done removed",
        "dashboards.funnel: dashboard 'funnel' added",
    ]
    zh = summarize(diff_documents(OLD, new), "zh-CN")
    assert "entities.opportunity: 新增字段“region”（select）" in zh


def test_changes_carry_before_and_after() -> None:
    new = copy.deepcopy(OLD)
    new["rules"]["stale"]["condition"] = {"==": [1, 1]}
    (change,) = diff_documents(OLD, new)
    rendered = change.render("en")
    assert rendered["path"] == "rules.stale.condition"
    assert rendered["before"] == OLD["rules"]["stale"]["condition"]
    assert rendered["after"] == {"==": [1, 1]}


def test_removed_items_and_fields() -> None:
    new = copy.deepcopy(OLD)
    del new["entities"]["opportunity"]["fields"]["amount"]
    del new["rules"]["stale"]
    assert summarize(diff_documents(OLD, new), "en") == [
        "entities.opportunity: field 'amount' removed (its data is kept)",
        "rules.stale: rule 'stale' removed",
    ]
