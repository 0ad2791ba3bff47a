"""A publish refuses, with every problem named by its path, and applies nothing: one test
per check the publish makes."""

from __future__ import annotations

from typing import Any

import pytest
from sales_app import App, sales


def _typo_in_type(doc: dict[str, Any]) -> None:
    doc["entities"]["customer"]["fields"]["phone"] = {"type": "phnoe"}


def _missing_reference(doc: dict[str, Any]) -> None:
    doc["entities"]["opportunity"]["fields"]["partner"] = {"type": "lookup", "ref": "partner"}


def _condition_on_a_missing_field(doc: dict[str, Any]) -> None:
    doc["rules"]["big_deal"]["condition"] = {">": [{"var": "amuont"}, 100000]}


def _condition_of_the_wrong_type(doc: dict[str, Any]) -> None:
    doc["rules"]["big_deal"]["condition"] = {">": [{"var": "name"}, {"var": "flagged"}]}


def _broken_formula(doc: dict[str, Any]) -> None:
    doc["entities"]["opportunity"]["fields"]["weighted"] = {
        "type": "formula", "returns": "decimal", "formula": "amount * (0.5"}


def _formulas_in_a_circle(doc: dict[str, Any]) -> None:
    fields = doc["entities"]["opportunity"]["fields"]
    fields["a"] = {"type": "formula", "returns": "decimal", "formula": "b + 1"}
    fields["b"] = {"type": "formula", "returns": "decimal", "formula": "a + 1"}


def _rules_in_a_circle(doc: dict[str, Any]) -> None:
    doc["entities"]["opportunity"]["fields"]["note"] = {"type": "text"}
    doc["rules"]["one"] = {
        "entity": "opportunity", "trigger": {"on": "field_change", "fields": ["flagged"]},
        "actions": [{"type": "set_field", "field": "note", "value": "x"}]}
    doc["rules"]["two"] = {
        "entity": "opportunity", "trigger": {"on": "field_change", "fields": ["note"]},
        "actions": [{"type": "set_field", "field": "flagged", "value": True}]}


def _flow_dead_end(doc: dict[str, Any]) -> None:
    flow = doc["flows"]["approval"]
    flow["nodes"]["legal"] = {"type": "user_task", "label": "Legal",
                             "assignees": [{"kind": "initiator"}]}
    flow["edges"].append({"from": "start", "to": "legal"})


def _flow_unreachable_node(doc: dict[str, Any]) -> None:
    flow = doc["flows"]["approval"]
    flow["nodes"]["orphan"] = {"type": "end"}


CASES = {
    "schema": (_typo_in_type, "entities.customer.fields.phone.type", "did you mean 'phone'"),
    "reference": (_missing_reference, "entities.opportunity.fields.partner.ref", "partner"),
    "condition field": (_condition_on_a_missing_field, "rules.big_deal.condition", "amuont"),
    "condition type": (_condition_of_the_wrong_type, "rules.big_deal.condition", ""),
    "formula syntax": (_broken_formula, "entities.opportunity.fields.weighted.formula", ""),
    "formula cycle": (_formulas_in_a_circle, "entities.opportunity.fields", "circle"),
    "rule cycle": (_rules_in_a_circle, "rules.", ""),
    "flow dead end": (_flow_dead_end, "flows.approval.nodes.legal", ""),
    "flow unreachable": (_flow_unreachable_node, "flows.approval.nodes.orphan", ""),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_publish_refuses_and_applies_nothing(app: App, case: str) -> None:
    change, path, words = CASES[case]
    doc = sales()
    change(doc)

    refused = await app.publish(doc)

    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["type"] == "urn:loom:problem:metadata-invalid"
    matching = [e for e in body["errors"] if (e["field"] or "").startswith(path)]
    assert matching, body["errors"]
    assert any(words.lower() in e["message"].lower() for e in matching), matching
    assert all(e["message"] for e in body["errors"])
    assert await app.version() == 1
    draft = await app.api.get(f"{app.base}/metadata/draft")
    assert draft.json() == doc  # the draft is kept, to be fixed


async def test_every_problem_is_listed_at_once(app: App) -> None:
    """Every problem comes together: the document's shape, references, formulas,
    conditions, rules and flows — a broken shape hides nothing else."""
    doc = sales()
    _typo_in_type(doc)
    _missing_reference(doc)
    doc["rules"]["big_deal"]["trigger"] = {"on": "whenever"}
    _flow_dead_end(doc)
    refused = await app.publish(doc)
    fields = {e["field"] for e in refused.json()["errors"]}
    assert fields >= {"entities.customer.fields.phone.type", "rules.big_deal.trigger.on",
                      "entities.opportunity.fields.partner.ref"}
    assert any(f.startswith("flows.approval.nodes.legal") for f in fields)

    doc = sales()
    _broken_formula(doc)
    _condition_on_a_missing_field(doc)
    _flow_unreachable_node(doc)
    refused = await app.publish(doc)
    fields = {e["field"] for e in refused.json()["errors"]}
    assert "entities.opportunity.fields.weighted.formula" in fields
    assert any(f.startswith("rules.big_deal.condition") for f in fields)
    assert any(f.startswith("flows.approval.nodes.orphan") for f in fields)


async def test_an_unsafe_type_change_is_refused_with_the_reason(app: App) -> None:
    await app.create("customer", {"name": "华为", "region": "east"})
    doc = sales()
    doc["entities"]["customer"]["fields"]["region"] = {"type": "integer"}

    refused = await app.publish(doc)

    assert refused.status_code == 422, refused.text
    assert refused.json()["type"] == "urn:loom:problem:schema-change-refused"
    [error] = refused.json()["errors"]
    assert error["field"] == "entities.customer.fields.region"
    assert "text" in error["message"] and "integer" in error["message"]
    assert await app.version() == 1


@pytest.mark.parametrize("base_version", [0, -161093891183370811002405336907776, 2**63])
async def test_a_base_version_no_version_can_have_is_refused_by_name(app: App,
                                                                    base_version: int) -> None:
    refused = await app.publish(sales(), base_version=base_version, dry_run=True)

    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["base_version"]
    assert await app.version() == 1
