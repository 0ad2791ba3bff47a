"""The flow navigator: from a completed node through gateways and joins to the next waiting
points, decided without any I/O; and the flow checks a publish runs."""

from __future__ import annotations

from typing import Any

import pytest

from loom.engines.expressions import Env
from loom.engines.flows.flow_checks import check_flows
from loom.engines.flows.navigator import CompiledFlow, FlowStuck, JoinState, Navigator
from loom.metamodel.app import AppDocument

ENTITY = {"label": {"zh-CN": "合同", "en": "Contract"}, "fields": {
    "amount": {"type": "currency"}, "kind": {"type": "text"}, "owner": {"type": "user"}}}


def task(label: str) -> dict[str, Any]:
    return {"type": "user_task", "label": label, "assignees": [{"kind": "owner"}]}


APPROVAL = {
    "entity": "contract",
    "nodes": {
        "manager": task("销售经理审批"),
        "by_amount": {"type": "gateway", "kind": "exclusive"},
        "director": task("销售总监审批"),
        "split": {"type": "gateway", "kind": "parallel"},
        "legal": task("法务"), "finance": task("财务"),
        "both": {"type": "join"},
        "approved": {"type": "end", "outcome": "approved"},
        "rejected": {"type": "end", "outcome": "rejected"},
    },
    "edges": [
        {"from": "start", "to": "manager"},
        {"from": "manager", "to": "by_amount", "outcome": "approve"},
        {"from": "manager", "to": "rejected", "outcome": "reject"},
        {"from": "by_amount", "to": "director", "condition": {">": [{"var": "amount"}, 100000]}},
        {"from": "by_amount", "to": "split", "default": True},
        {"from": "director", "to": "split", "outcome": "approve"},
        {"from": "director", "to": "rejected", "outcome": "reject"},
        {"from": "split", "to": "legal"}, {"from": "split", "to": "finance"},
        {"from": "legal", "to": "both"}, {"from": "finance", "to": "both"},
        {"from": "both", "to": "approved"},
    ],
}


def flow(spec: dict[str, Any]) -> tuple[AppDocument, Navigator]:
    doc = AppDocument.model_validate({"app": {"label": "x"}, "entities": {"contract": ENTITY},
                                      "flows": {"approval": spec}})
    return doc, Navigator(CompiledFlow.compile(doc, "approval"))


ENV = Env()


def test_amount_decides_the_director_and_the_join_waits_for_both() -> None:
    doc, nav = flow(APPROVAL)
    assert check_flows(doc) == []
    joins = JoinState()
    [first] = nav.start({"amount": 5}, ENV, joins)
    assert first.node == "manager"
    small = nav.leave("manager", "approve", (), {"amount": 5}, ENV, joins, step=2)
    assert [(a.node, a.branch) for a in small] == [("legal", ("split.2.2",)),
                                                   ("finance", ("split.2.2",))]
    big = nav.leave("manager", "approve", (), {"amount": 200000}, ENV, joins)
    assert [a.node for a in big] == ["director"]
    assert [a.node for a in nav.leave("manager", "reject", (), {}, ENV, joins)] == ["rejected"]
    # the join passes when both paths arrived, not before
    assert nav.leave("legal", None, ("split.2.2",), {}, ENV, joins) == []
    done = nav.leave("finance", None, ("split.2.2",), {}, ENV, joins)
    assert [(a.node, a.branch) for a in done] == [("approved", ())]
    assert joins.arrived == {}


def test_inclusive_gateway_joins_the_paths_it_took() -> None:
    spec = {"entity": "contract", "nodes": {
        "pick": {"type": "gateway", "kind": "inclusive"},
        "a": task("a"), "b": task("b"), "c": task("c"),
        "join": {"type": "join"}, "end": {"type": "end"}},
        "edges": [{"from": "start", "to": "pick"},
                  {"from": "pick", "to": "a", "condition": {">": [{"var": "amount"}, 1]}},
                  {"from": "pick", "to": "b", "condition": {"==": [{"var": "kind"}, "x"]}},
                  {"from": "pick", "to": "c", "default": True},
                  {"from": "a", "to": "join"}, {"from": "b", "to": "join"},
                  {"from": "c", "to": "join"}, {"from": "join", "to": "end"}]}
    doc, nav = flow(spec)
    assert check_flows(doc) == []
    joins = JoinState()
    two = nav.start({"amount": 5, "kind": "x"}, ENV, joins, step=1)
    assert [(a.node, a.branch) for a in two] == [("a", ("pick.1.2",)), ("b", ("pick.1.2",))]
    assert nav.leave("a", None, ("pick.1.2",), {}, ENV, joins) == []
    assert [a.node for a in nav.leave("b", None, ("pick.1.2",), {}, ENV, joins)] == ["end"]
    # nothing true: the default alone, and its join passes at once
    [only] = nav.start({"amount": 0}, ENV, joins)
    assert only.node == "c"
    assert [a.node for a in nav.leave("c", None, only.branch, {}, ENV, joins)] == ["end"]


def test_a_gateway_without_a_way_out_is_stuck_and_refused_at_publish() -> None:
    spec = {"entity": "contract", "nodes": {
        "pick": {"type": "gateway"}, "a": task("a"), "end": {"type": "end"}},
        "edges": [{"from": "start", "to": "pick"},
                  {"from": "pick", "to": "a", "condition": {">": [{"var": "amount"}, 1]}},
                  {"from": "a", "to": "end"}]}
    doc, nav = flow(spec)
    assert [p.code for p in check_flows(doc)] == ["flow_gateway_default"]
    with pytest.raises(FlowStuck):
        nav.start({"amount": 0}, ENV, JoinState())


@pytest.mark.parametrize(("change", "code"), [
    (lambda s: s["edges"].append({"from": "manager", "to": "nowhere"}), "flow_unknown_node"),
    (lambda s: s["nodes"].update(orphan=task("x")), "flow_unreachable"),
    (lambda s: s["edges"].remove({"from": "both", "to": "approved"}), "flow_dead_end"),
    (lambda s: s["edges"].append({"from": "approved", "to": "manager"}), "flow_end_edges"),
    (lambda s: s["nodes"]["manager"].update(field_permissions={"amout": "read"}),
     "rule_no_field"),
    (lambda s: s["edges"][3].update(condition={">": [{"var": "amout"}, 1]}), "expr_unknown_field"),
    (lambda s: s["nodes"]["manager"].update(due="P"), "bad_duration"),
    (lambda s: s.update(entity="contrat"), "rule_no_entity"),
])
def test_each_flow_check(change: Any, code: str) -> None:
    import copy

    spec = copy.deepcopy(APPROVAL)
    change(spec)
    doc, _ = flow(spec) if code != "rule_no_entity" else (AppDocument.model_validate(
        {"app": {"label": "x"}, "entities": {"contract": ENTITY}, "flows": {"approval": spec}}),
        None)
    assert code in [p.code for p in check_flows(doc)]
