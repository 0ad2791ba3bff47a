"""Finding the records an app's metadata names by a value — the routing rule's team code,
a condition on ``team.code``, a lookup set to a fixed id — from the document alone."""

from __future__ import annotations

from typing import Any

from loom.engines.key_references import KeyReferences
from loom.metamodel.app import AppDocument


def _doc(**sections: Any) -> AppDocument:
    entities = {
        "team": {"label": "Team", "fields": {
            "code": {"type": "text", "unique": True},
            "name": {"type": "text"},
            "region": {"type": "text"}}},
        "lead": {"label": "Lead", "fields": {
            "name": {"type": "text"},
            "region": {"type": "text"},
            "score": {"type": "integer"},
            "team": {"type": "lookup", "ref": "team"},
            "backup": {"type": "lookup", "ref": "team"}},
            "actions": sections.pop("actions", {})},
        "zone": {"label": "Zone", "fields": {"slug": {"type": "text"}},
                 "indexes": [{"fields": ["slug"], "unique": True}]},
    }
    return AppDocument.model_validate({"app": {"label": "t"}, "entities": entities,
                                       **sections})


def _found(doc: AppDocument) -> set[tuple[str, str, Any, str, str]]:
    return {(r.entity, r.field, r.value, r.kind, r.name) for r in KeyReferences.find(doc).all}


def _rule(actions: list[Any], condition: Any = None, **more: Any) -> dict[str, Any]:
    return {"entity": "lead", "trigger": {"on": "create"}, "condition": condition,
            "actions": actions, **more}


def test_a_lookup_set_by_a_unique_field_names_that_record() -> None:
    doc = _doc(rules={
        "route": _rule([{"type": "set_field", "field": "team", "value": "east",
                         "match": "code"}]),
        # every literal result of an if names a record; a computed value names none
        "branch": _rule([{"type": "set_field", "field": "team", "match": "code", "value": {
            "if": [{"==": [{"var": "region"}, "n"]}, "north", "south"]}}]),
        "computed": _rule([{"type": "set_field", "field": "team", "match": "code",
                            "value": {"var": "region"}}]),
        # a fixed id names a record too
        "fixed": _rule([{"type": "set_field", "field": "backup", "value": 7}]),
        # a field that is not unique names no single record
        "loose": _rule([{"type": "set_field", "field": "team", "value": "x",
                         "match": "name"}]),
        "off": _rule([{"type": "set_field", "field": "team", "value": "gone",
                       "match": "code"}], enabled=False)})

    assert _found(doc) == {("team", "code", "east", "rule", "route"),
                           ("team", "code", "north", "rule", "branch"),
                           ("team", "code", "south", "rule", "branch"),
                           ("team", "id", 7, "rule", "fixed")}


def test_conditions_naming_a_record_through_a_lookup_or_on_itself() -> None:
    doc = _doc(
        rules={"by_path": _rule([{"type": "notify", "to": [{"kind": "owner"}],
                                  "title": "t"}], condition={"and": [
                                      {"==": [{"var": "team.code"}, "east"]},
                                      {"in": [{"var": "backup.code"}, ["a", "b"]]},
                                      {"!=": ["old", {"var": "team.code"}]},
                                      {"==": [{"var": "team.region"}, "e"]},
                                      {">": [{"var": "score"}, 3]}]})},
        flows={"care": {"entity": "lead", "start": {"on": "create", "condition": {
            "==": [{"var": "team"}, 3]}}, "nodes": {
                "act": {"type": "action", "actions": [{"type": "update_related",
                                                       "lookup": "team", "condition": {
                                                           "==": [{"var": "code"}, "own"]},
                                                       "values": {"name": "x"}}]},
                "done": {"type": "end"}},
            "edges": [{"from": "start", "to": "act"}, {"from": "act", "to": "done"}]}},
        actions={"hand_over": {"label": "Hand over", "condition": {
            "==": [{"var": "team.code"}, "desk"]}, "steps": [
                {"type": "set_field", "field": "region", "value": "w"}]}},
        roles={"east": {"permissions": {"lead": {"read": {
            "==": [{"var": "team.code"}, "east_only"]}}, "zone": {"read": {
                "==": [{"var": "slug"}, "z1"]}}}}})

    assert _found(doc) == {("team", "code", "east", "rule", "by_path"),
                           ("team", "code", "a", "rule", "by_path"),
                           ("team", "code", "b", "rule", "by_path"),
                           ("team", "code", "old", "rule", "by_path"),
                           ("team", "id", 3, "flow", "care"),
                           ("team", "code", "own", "flow", "care"),
                           ("team", "code", "desk", "action", "lead.hand_over"),
                           ("team", "code", "east_only", "role", "east"),
                           ("zone", "slug", "z1", "role", "east")}


def test_which_stored_records_are_named() -> None:
    keys = KeyReferences.find(_doc(rules={"route": _rule([
        {"type": "set_field", "field": "team", "value": "east", "match": "code"}])}))

    [ref] = keys.naming("team", {"id": 1, "code": "east"})
    assert (ref.path, ref.label) == ("rules.route.actions[0].value", "route")
    assert keys.naming("team", {"id": 2, "code": "west"}) == []
    assert keys.naming("lead", {"id": 1, "code": "east"}) == []
    assert set(keys.fields("team")) == {"code"}


def test_the_crm_template_names_its_three_sales_teams() -> None:
    from loom.platform.apps.templates import load_template

    found = _found(AppDocument.model_validate(load_template("crm")))
    assert {(entity, field, value) for entity, field, value, _kind, _name in found} >= {
        ("team", "code", "east_china_team"), ("team", "code", "north_china_team"),
        ("team", "code", "south_china_team")}
