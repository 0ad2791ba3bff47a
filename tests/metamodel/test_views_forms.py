"""Views and forms as typed metadata: the CRM template's pass their publish checks, and bad
ones are refused with every problem at once, each at its path, in Chinese and English."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from loom.engines.metadata_checks import check_app
from loom.metamodel.errors import MetadataInvalid
from loom.metamodel.validation import parse_document
from loom.platform.apps.templates import load_template

TEMPLATE = load_template("crm")


def problems_of(**sections: dict[str, Any]) -> dict[str, list[str]]:
    """The publish problems of the template with ``sections`` replacing its views/forms,
    by path, with messages in English (and Chinese under the key ``zh:<path>``)."""
    document = copy.deepcopy(TEMPLATE)
    document.update(sections)
    found: dict[str, list[str]] = {}
    for problem in check_app(parse_document(document)):
        found.setdefault(problem.field or "", []).append(problem.render("en")["message"])
        found.setdefault(f"zh:{problem.field}", []).append(problem.render("zh-CN")["message"])
    return found


def test_the_crm_templates_views_and_forms_pass_their_checks() -> None:
    doc = parse_document(copy.deepcopy(TEMPLATE))
    assert {"lead_pool", "my_leads", "opportunity_kanban", "contracts_awaiting_payment",
            "my_tickets"} <= set(doc.views)
    assert {"lead", "customer", "opportunity", "quote", "contract", "ticket"} <= set(doc.forms)
    assert [p for p in check_app(doc) if p.field and p.field.startswith(("views", "forms"))
            ] == []
    assert doc.views["opportunity_kanban"].kind == "kanban"
    customer = doc.forms["customer"]
    assert [r.entity for r in customer.related] == [
        "contact", "opportunity", "contract", "payment", "order", "ticket", "follow_up", "visit"]


def view(**changes: Any) -> dict[str, Any]:
    base = {"entity": "lead", "label": {"zh-CN": "视图", "en": "View"},
            "columns": ["name", "status"]}
    base.update(changes)
    return base


def test_bad_views_are_refused_with_every_problem_at_its_path() -> None:
    found = problems_of(views={
        "ghost": view(entity="ghost"),
        "typo": view(columns=["name", "compnay", "name"]),
        "board": view(kind="kanban", group_by="company"),
        "no_group": view(kind="kanban"),
        "grouped_list": view(group_by="status"),
        "bad_filter": view(filter={"==": [{"var": "stauts"}, "new"]}),
        "slow_filter": view(filter={"some": [{"var": "tags"}, {"==": [{"var": ""}, "hot"]}]}),
        "bad_sort": view(sort="-nothing"),
        "json_sort": view(sort="tags"),
        "no_role": view(roles=["astronaut"]),
        "virtual": view(entity="quote", columns=["items"]),
    })
    assert found["views.ghost.entity"] == ["there is no entity 'ghost' in this app"]
    assert found["views.typo.columns[1]"] == [
        "Lead has no field 'compnay' (did you mean 'company'?)"]
    assert found["zh:views.typo.columns[1]"] == ["线索没有字段“compnay”（是否想写“company”？）"]
    assert found["views.typo.columns[2]"] == ["the column 'name' appears more than once"]
    assert found["views.board.group_by"] == [
        "a kanban groups by a select field, and 'company' is text"]
    assert "group_by" in found["views.no_group.group_by"][0]
    assert found["views.grouped_list.group_by"] == ["group_by applies to kanban views only"]
    assert any("stauts" in m for p, ms in found.items() if p.startswith("views.bad_filter")
               for m in ms)
    assert "cannot run in the database" in found["views.slow_filter.filter"][0]
    assert "nothing" in found["views.bad_sort.sort"][0]
    assert "tags" in found["views.json_sort.sort"][0]
    assert found["views.no_role.roles"] == ["there is no role 'astronaut' in this app"]
    assert found["views.virtual.columns[0]"] == [
        "'items' is a subtable field and cannot be a column"]


def test_the_shape_of_a_view_is_checked_by_its_schema() -> None:
    document = copy.deepcopy(TEMPLATE)
    document["views"] = {"odd": view(kind="table", page_size=0, colour="red")}
    with pytest.raises(MetadataInvalid) as refused:
        parse_document(document)
    messages = {p.field: p.render("en")["message"] for p in refused.value.problems}
    assert messages["views.odd.kind"] == "'table' is not a valid choice (choose one of: list, " \
        "kanban)"
    assert messages["views.odd.page_size"] == "must be at least 1"
    assert "colour" in messages["views.odd.colour"]


def form(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"entity": "quote", "label": {"zh-CN": "表单", "en": "Form"},
                            "sections": [{"name": "main", "fields": ["status"]}]}
    base.update(changes)
    return base


def test_bad_forms_are_refused_with_every_problem_at_its_path() -> None:
    found = problems_of(forms={
        "ghost": form(entity="ghost"),
        "fields": form(sections=[
            {"name": "main", "fields": ["status", "nothing", "status", "items",
                                        {"field": "valid_until",
                                         "required": {"==": [{"var": "stage"}, "x"]}}],
             "subtables": [{"field": "total", "columns": ["quantity"]},
                           {"field": "items", "columns": ["quantity", "colour"]}]},
            {"name": "main", "visible": {"==": [{"var": "status"}, "nope"]}}]),
        "both": form(tabs=[{"name": "t", "label": "T", "sections": [{"name": "s"}]}]),
        "empty": form(sections=[]),
        "related": form(entity="customer", sections=[{"name": "s", "fields": ["name"]}],
                        related=[{"entity": "payment", "via": "contract"},
                                 {"entity": "payment", "via": "contract.customer"},
                                 {"entity": "ghost", "via": "customer"},
                                 {"entity": "ticket", "via": "customer", "columns": ["nope"],
                                  "sort": "-nope"}]),
    })
    assert found["forms.ghost.entity"] == ["there is no entity 'ghost' in this app"]
    assert found["forms.fields.sections[0].fields[1]"] == ["Quote has no field 'nothing'"]
    assert found["forms.fields.sections[0].fields[2]"] == [
        "the field 'status' is placed more than once"]
    assert found["forms.fields.sections[0].fields[3]"] == [
        "'items' is a sub-table: place it under the section's subtables"]
    assert any("stage" in m for p, ms in found.items()
               if p.startswith("forms.fields.sections[0].fields[4].required") for m in ms)
    assert found["forms.fields.sections[0].subtables[0].field"] == [
        "'total' is a rollup field, not a sub-table"]
    assert "colour" in found["forms.fields.sections[0].subtables[1].columns[1]"][0]
    assert found["forms.fields.sections"] == ["the name 'main' is used twice"]
    assert any("nope" in m for p, ms in found.items()
               if p.startswith("forms.fields.sections[1].visible") for m in ms)
    assert "either tabs" in found["forms.both"][0]
    assert found["forms.empty"] == ["a form needs at least one section"]
    assert found["forms.related.related[0].via"] == [
        "'contract' on Payment does not lead to Customer: give a lookup of Payment to "
        "Customer, or a path of lookups ending at one"]
    assert "forms.related.related[1].via" not in found  # a path of lookups is fine
    assert found["forms.related.related"] == ["the name 'payment' is used twice"]
    assert found["forms.related.related[2].entity"] == ["there is no entity 'ghost' in this app"]
    assert "nope" in found["forms.related.related[3].columns[0]"][0]
    assert "nope" in found["forms.related.related[3].sort"][0]
    assert found["zh:forms.empty"] == ["表单至少需要一个分区"]


def test_a_form_keeps_the_shorthand_it_was_written_in() -> None:
    document = copy.deepcopy(TEMPLATE)
    written = document["forms"]["quote"]
    exported = parse_document(document).to_json()["forms"]["quote"]["sections"]
    assert [s.get("fields", []) for s in exported] == [
        s.get("fields", []) for s in written["sections"]]
    assert exported[0]["fields"][0] == "number"  # a bare name stays a bare name
