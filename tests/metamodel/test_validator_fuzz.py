"""Fuzzing the metadata validator: whatever document an administrator uploads — arbitrary
JSON, or a real app (slices of the CRM template) with values replaced, keys dropped or
renamed, and parts moved where they do not belong — ``parse_document`` answers with an
AppDocument or a MetadataInvalid listing problems with messages, the publish checks
(``check_app``) of a parsed document answer with a list of problems, and the whole check
of a draft (``check_metadata``: every item read as far as it goes) answers with a sorted
list of problems. Never another exception, never a hang."""

from __future__ import annotations

import copy
import time
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from loom.engines.metadata_checks import check_app, check_metadata
from loom.metamodel.app import ITEM_SECTIONS, AppDocument
from loom.metamodel.errors import MetadataInvalid, Problem
from loom.metamodel.fields import FieldType
from loom.metamodel.salvage import as_stored
from loom.metamodel.validation import parse_document
from loom.platform.apps.templates import load_template

FUZZ = settings(max_examples=250, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BOUND_SECONDS = 10.0  # a check that takes longer is a hang waiting for a bigger app


def _slice(template: dict[str, Any], entity: str) -> dict[str, Any]:
    """One entity of the template with the entities its fields name, and its rules and
    flows — less whatever points outside the slice: a real, small app to mutate."""
    entities = template["entities"]
    names = {entity}
    for spec in entities[entity]["fields"].values():
        names.update(spec[key] for key in ("ref", "entity") if spec.get(key) in entities)
    # the slice has none of the template's views: it opens on none of them
    app = {key: value for key, value in template["app"].items() if key != "home"}
    document: dict[str, Any] = {"app": app,
                                "entities": {name: entities[name] for name in sorted(names)}}
    for section in ("rules", "flows"):
        document[section] = {name: item for name, item in template.get(section, {}).items()
                             if item.get("entity") == entity}
    document = copy.deepcopy(document)
    for _ in range(20):
        try:
            problems = check_app(parse_document(copy.deepcopy(document)))
        except MetadataInvalid as exc:
            problems = exc.problems
        if not problems:
            return document
        for problem in problems:  # drop the field, rule or flow the problem is in
            parts = (problem.field or "").split(".")
            if parts[0] == "entities" and len(parts) > 3:  # a field, an action, an index
                items = document["entities"][parts[1]][parts[2].split("[")[0]]
                if isinstance(items, dict):
                    items.pop(parts[3], None)
                else:
                    items.clear()
            elif parts[0] in ("rules", "flows") and len(parts) > 1:
                document[parts[0]].pop(parts[1], None)
            else:
                raise AssertionError(f"cannot slice the template around {problem}")
    raise AssertionError(f"no valid slice of the template around {entity}: {problems}")


CRM = load_template("crm")
SEEDS = [_slice(CRM, name) for name in ("lead", "contract", "customer", "ticket", "quote")]
NAMES = sorted({*CRM["entities"], *(f for e in CRM["entities"].values() for f in e["fields"]),
                *CRM.get("rules", {}), *CRM.get("flows", {})})
ODD_VALUES = [None, "", " ", "x" * 300, -1, 0, 2**63, 1.5, 1e308, True, [], {}, [[[]]],
              "decmal", "lookup", "HT-{seq:99}", "{YYYY", "IF(", "SUM(items.amount",
              {"var": "nothing"}, {"==": [{"var": "amount"}]}, {"pluck": []},
              {"zh-CN": ""}, {"en": 1}, "P1Y2M", "PT-5H", "0 0 31 2 *", "* * * * * * *",
              "__proto__", "constructor", "线索", "\u0000", *(t.value for t in FieldType)]

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=10), st.sampled_from(ODD_VALUES), st.sampled_from(NAMES))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(NAMES)), inner,
                    max_size=4)), max_leaves=15)


def _places(node: Any, found: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key) in the document, depth first."""
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, value in items:
        found.append((node, key))
        _places(value, found)
    return found


@st.composite
def mutated_documents(draw: st.DrawFn) -> Any:
    document = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 5))):
        places = _places(document, [])
        container, key = draw(st.sampled_from(places))
        if key not in (container if isinstance(container, dict) else range(len(container))):
            continue  # gone with an earlier edit
        edit = draw(st.sampled_from(["replace", "odd", "delete", "rename", "move"]))
        if edit == "replace":
            container[key] = draw(json_values)
        elif edit == "odd":
            container[key] = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
        elif edit == "delete":
            del container[key]
        elif edit == "rename" and isinstance(container, dict):
            container[draw(st.one_of(st.sampled_from(NAMES), st.text(max_size=8)))] = \
                container.pop(key)
        elif edit == "move":
            other, other_key = draw(st.sampled_from(places))
            if other_key in (other if isinstance(other, dict) else range(len(other))):
                container[key] = copy.deepcopy(other[other_key])
    if draw(st.booleans()):
        section = draw(st.sampled_from([*ITEM_SECTIONS, "extra"]))
        document[section] = draw(st.dictionaries(st.sampled_from(NAMES), json_values,
                                                 max_size=2))
    return document


documents = st.one_of(mutated_documents(), json_values,
                      st.fixed_dictionaries({"app": json_values}, optional={
                          section: st.dictionaries(st.sampled_from(NAMES), json_values,
                                                   max_size=3)
                          for section in ITEM_SECTIONS}))


def _assert_problems(problems: Any) -> None:
    assert isinstance(problems, list), problems
    for problem in problems:
        assert isinstance(problem, Problem), problem
        assert problem.render("en")["message"].strip(), problem
        assert problem.render("zh-CN")["message"].strip(), problem


@FUZZ
@example(document={"app": {"label": "x"}, "entities": {"a": {"fields": {"f": {
    "type": "formula", "formula": "1", "required_if": {"pluck": []}}}}}})
@example(document={"app": {"label": "x"}, "flows": {"f": {  # an action kind not a text
    "entity": "a", "start": {"on": "create"}, "nodes": {"n": {"type": "action", "actions": [
        {"type": {"kind": "tag"}, "field": "f", "value": 1}]}}, "edges": []}}})
@example(document={"app": {"label": "x"},
                   "entities": {"a": {"label": "A", "fields": {"f": {"type": "text"}}}},
                   "rules": {"r": {"entity": "a", "trigger": {"on": "create"}, "actions": [
                       {"type": "create_record", "entity": "a",  # not the name of a target
                        "values": {"f": {"created": {"var": "x"}}}}]}}})
@given(document=documents)
def test_any_document_parses_or_is_refused_with_its_problems(document: Any) -> None:
    started = time.perf_counter()
    try:
        parsed = parse_document(copy.deepcopy(document))
    except MetadataInvalid as exc:
        assert exc.problems, "refused without saying why"
        _assert_problems(exc.problems)
        parsed = None
    else:
        assert isinstance(parsed, AppDocument)
        _assert_problems(check_app(parsed))
    # the whole check of a draft save: every item read as far as it goes, every check
    # run on what reads — whatever is broken, an answer with messages
    checked = check_metadata(copy.deepcopy(document))
    _assert_problems(checked.problems)
    assert (checked.document is None) == bool(checked.problems)
    if parsed is None:
        assert checked.problems
    fields = [problem.field or "" for problem in checked.problems]
    assert fields == sorted(fields)
    as_stored(copy.deepcopy(document))
    elapsed = time.perf_counter() - started
    assert elapsed < BOUND_SECONDS, f"took {elapsed:.1f}s"


def test_the_seeds_are_valid_apps() -> None:
    """The mutations start from real apps, so they reach the checks behind the schema."""
    for seed in SEEDS:
        assert check_app(parse_document(copy.deepcopy(seed))) == []
