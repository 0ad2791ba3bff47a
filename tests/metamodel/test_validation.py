"""Metadata validation: every problem at once, each with a path and a message a business
user can act on, in Chinese and English."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from loom.metamodel.app import AppDocument
from loom.metamodel.errors import MetadataInvalid
from loom.metamodel.fields import FieldType
from loom.metamodel.salvage import as_stored
from loom.metamodel.validation import app_json_schema, parse_document

BASE: dict[str, Any] = {
    "app": {"label": {"zh-CN": "客户管理", "en": "CRM"}},
    "entities": {
        "customer": {"label": {"zh-CN": "客户", "en": "Customer"},
                     "fields": {"name": {"type": "text", "required": True},
                                "code": {"type": "text", "unique": True}}},
        "contract": {"label": {"zh-CN": "合同", "en": "Contract"},
                     "fields": {
                         "number": {"type": "serial", "format": "HT-{YYYY}{MM}-{seq:4}"},
                         "customer": {"type": "lookup", "ref": "customer"},
                         "amount": {"type": "currency"},
                         "status": {"type": "select", "options": [
                             {"value": "draft", "label": {"zh-CN": "草稿", "en": "Draft"}},
                             {"value": "signed", "category": "won"}]},
                         "payments": {"type": "subtable", "entity": "payment",
                                      "link_field": "contract"},
                         "received": {"type": "rollup", "rollup": {
                             "entity": "payment", "link_field": "contract",
                             "field": "amount", "function": "sum"}}}},
        "payment": {"label": {"zh-CN": "回款", "en": "Payment"},
                    "fields": {"contract": {"type": "lookup", "ref": "contract"},
                               "amount": {"type": "currency"}}},
    },
}


def problems_of(document: Any, locale: str = "en") -> dict[str, str]:
    with pytest.raises(MetadataInvalid) as caught:
        parse_document(document)
    return {p.render(locale)["field"]: p.render(locale)["message"]
            for p in caught.value.problems}


def changed(path: list[str], value: Any) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


def test_a_good_document_parses_with_every_key_name_filled_in() -> None:
    doc = parse_document(BASE)
    assert isinstance(doc, AppDocument)
    assert doc.entities["contract"].name == "contract"
    assert doc.entities["contract"].fields["status"].options[1].category == "won"


def test_misspelt_field_type_gets_a_suggestion_in_both_languages() -> None:
    document = changed(["entities", "contract", "fields", "amount"], {"type": "decmal"})
    assert problems_of(document) == {
        "entities.contract.fields.amount.type":
            "'decmal' is not a field type; did you mean 'decimal'?"}
    zh = problems_of(document, "zh-CN")
    assert zh["entities.contract.fields.amount.type"] == \
        "“decmal”不是有效的字段类型；您是不是想用“decimal”？"


def test_every_problem_is_reported_at_once() -> None:
    document = copy.deepcopy(BASE)
    fields = document["entities"]["customer"]["fields"]
    fields["tier"] = {"type": "select"}
    fields["owner"] = {"type": "lookup", "ref": "employee"}
    fields["Phone"] = {"type": "phone"}
    fields["name"]["required"] = "yes"
    found = problems_of(document)
    assert found["entities.customer.fields.name.required"] == \
        "must be true or false, not text"
    assert "entities.customer.fields.Phone" in found
    assert "not a valid API name" in found["entities.customer.fields.Phone"]


def test_reference_problems_are_reported_together() -> None:
    document = copy.deepcopy(BASE)
    fields = document["entities"]["customer"]["fields"]
    fields["tier"] = {"type": "select"}
    fields["owner"] = {"type": "lookup", "ref": "employee"}
    fields["id"] = {"type": "text"}
    found = problems_of(document)
    assert found == {
        "entities.customer.fields.tier.options": "a select field needs 'options'",
        "entities.customer.fields.owner.ref": "there is no entity 'employee' in this app",
        "entities.customer.fields.id":
            "'id' is a system field every record has; choose another name",
    }


@pytest.mark.parametrize(("path", "value", "where", "fragment"), [
    (["entities", "contract", "fields", "status", "options"],
     [{"value": "a"}, {"value": "a"}], "entities.contract.fields.status.options[1].value",
     "appears more than once"),
    (["entities", "contract", "fields", "number", "format"], "HT-{YYYY}",
     "entities.contract.fields.number.format", "must contain {seq}"),
    (["entities", "contract", "fields", "payments", "link_field"], "customer",
     "entities.contract.fields.payments.link_field", "no field 'customer' on payment"),
    (["entities", "contract", "fields", "received", "rollup"],
     {"entity": "payment", "link_field": "contract", "field": "contract", "function": "sum"},
     "entities.contract.fields.received.rollup.field", "needs a number field"),
    (["entities", "customer", "fields", "name", "options"], [{"value": "x"}],
     "entities.customer.fields.name.options", "does not apply to a text field"),
    (["entities", "customer", "fields", "tags"], {"type": "multiselect", "unique": True,
                                                  "options": [{"value": "a"}]},
     "entities.customer.fields.tags.unique", "cannot be unique"),
    (["entities", "customer", "fields", "code", "colour"], "red",
     "entities.customer.fields.code.colour", "not a known property"),
    (["entities", "customer", "indexes"], [{"fields": ["nope"]}],
     "entities.customer.indexes[0].fields", "no field 'nope'"),
    (["entities", "customer", "fields", "ratio"], {"type": "decimal", "digits": 4, "scale": 4},
     "entities.customer.fields.ratio.scale", "must be smaller than digits"),
])
def test_each_static_check(path: list[str], value: Any, where: str, fragment: str) -> None:
    found = problems_of(changed(path, value))
    assert where in found, found
    assert fragment in found[where]


def test_unknown_property_suggests_the_near_one() -> None:
    document = changed(["entities", "contract", "fields", "status", "options"],
                       [{"value": "a", "colr": "red"}])
    found = problems_of(document)
    assert found["entities.contract.fields.status.options[0].colr"] == \
        "'colr' is not a known property here; did you mean 'color'?"


def test_missing_sections_and_wrong_shapes() -> None:
    assert problems_of({"entities": {}}) == {"app": "'app' is required"}
    assert problems_of({"app": {}}) == {"app.label": "'label' is required"}
    assert problems_of([1, 2]) == {None: "the metadata must be a JSON object with an 'app' "
                                         "section"}
    found = problems_of({"app": {"label": "X"}, "entities": {"lead": {"label": "L",
                                                                      "fields": []}}})
    assert found["entities.lead.fields"] == "must be an object, not a list"


def test_entity_names_must_fit_in_a_table_name() -> None:
    document = copy.deepcopy(BASE)
    document["entities"]["a_very_long_entity_name_for_tables"] = {"label": "X"}
    found = problems_of(document)
    assert "too long" in found["entities.a_very_long_entity_name_for_tables"]


def test_the_json_schema_is_generated_from_the_models_and_accepts_the_document() -> None:
    schema = app_json_schema()
    Draft202012Validator.check_schema(schema)
    assert not list(Draft202012Validator(schema).iter_errors(BASE))
    field_types = schema["$defs"]["FieldType"]["enum"]
    assert set(field_types) == {t.value for t in FieldType}
    assert len(field_types) == 29


def test_normalised_json_is_stable_and_round_trips() -> None:
    doc = parse_document(BASE)
    data = doc.to_json()
    assert "name" not in data["entities"]["customer"]
    assert "required" not in data["entities"]["contract"]["fields"]["amount"]
    assert parse_document(data).to_json() == data


def test_rule_actions_are_read_by_their_type() -> None:
    document = copy.deepcopy(BASE)
    document["rules"] = {"welcome": {"entity": "contract", "trigger": {"on": "create"},
                                     "actions": [{"type": "set_fild", "field": "status"},
                                                 {"type": "notify", "to": [], "title": "x"},
                                                 {"type": "tag", "add": ["a"], "colour": 1}]}}
    with pytest.raises(MetadataInvalid) as caught:
        parse_document(document)
    found = {p.field: p.render("en")["message"] for p in caught.value.problems}
    assert "did you mean 'set_field'?" in found["rules.welcome.actions[0].type"]
    assert "at least 1" in found["rules.welcome.actions[1].to"]
    assert "colour" in found["rules.welcome.actions[2].colour"]  # the tag's own keys only
    assert "您是不是想用“set_field”" in caught.value.problems[0].render("zh-CN")["message"]


def test_a_field_of_unknown_type_is_still_checked_for_what_it_names() -> None:
    document = copy.deepcopy(BASE)
    fields = document["entities"]["customer"]["fields"]
    fields["manager"] = {"type": "decmal", "ref": "employee"}
    fields["lines"] = {"type": "subtabel", "entity": "line", "link_field": "customer"}
    fields["size"] = {"type": "nonsense", "min": 5, "max": 1}
    assert problems_of(document) == {
        "entities.customer.fields.manager.type":
            "'decmal' is not a field type; did you mean 'decimal'?",
        "entities.customer.fields.manager.ref": "there is no entity 'employee' in this app",
        "entities.customer.fields.lines.type":
            "'subtabel' is not a field type; did you mean 'subtable'?",
        "entities.customer.fields.lines.entity": "there is no entity 'line' in this app",
        "entities.customer.fields.size.type": "'nonsense' is not a field type (choose one of: "
        + ", ".join(t.value for t in FieldType) + ")",
        "entities.customer.fields.size.min": "min (5) is larger than max (1)"}


def test_each_item_is_read_as_far_as_it_goes() -> None:
    document = copy.deepcopy(BASE)
    document["entities"]["contract"]["fields"]["status"]["options"] = [
        {"value": "a", "category": "wn"}, {"value": "a"}]
    document["entities"]["customer"]["label"] = 5  # still an entity lookups lead to
    document["entities"]["payment"]["fields"]["amount"] = {"type": "currency", "scale": "x"}
    document["entities"]["payment"]["fields"]["note"] = {"type": "text", "ref": "contract"}
    found = problems_of(document)
    assert set(found) == {
        "entities.contract.fields.status.options[0].category",
        "entities.contract.fields.status.options[1].value",
        "entities.customer.label", "entities.payment.fields.amount.scale",
        "entities.payment.fields.note.ref"}
    assert found["entities.payment.fields.note.ref"] == "'ref' does not apply to a text field"


def test_a_draft_compares_as_it_would_be_stored_as_far_as_it_reads() -> None:
    document = copy.deepcopy(BASE)
    document["entities"]["contract"]["fields"]["amount"] = {"type": "decmal"}
    stored = as_stored(document)
    assert stored["app"]["timezone"] == "Asia/Shanghai"  # the app section as published
    assert stored["entities"]["contract"] == {"label": {"zh-CN": "合同", "en": "Contract"},
                                              "fields": {**BASE["entities"]["contract"][
                                                  "fields"], "amount": {"type": "decmal"}}}
    assert as_stored(BASE) == parse_document(BASE).to_json()
