"""Static checks of flows at publish: the graph (edges between known nodes, every node
reachable from the start, no dead ends, every node can finish, exclusive and inclusive
gateways with a way out whatever the record says, joins after splits), and everything the
nodes name (fields, roles' field paths, durations, sub-flows, conditions, actions)."""

from __future__ import annotations

from collections.abc import Callable

from loom.engines.expressions import Scope
from loom.engines.rules.rule_checks import MetadataChecker
from loom.metamodel.app import AppDocument
from loom.metamodel.errors import Problem
from loom.metamodel.fields import FieldType
from loom.metamodel.flows import (
    START,
    ActionNode,
    End,
    FlowSpec,
    Gateway,
    Join,
    SlaSpec,
    Subflow,
    UserTask,
    Wait,
)
from loom.metamodel.i18n import register_messages

register_messages({
    "flow_unknown_node": {"en": "there is no node '{name}' in this flow",
                          "zh-CN": "流程中没有节点“{name}”"},
    "flow_unreachable": {"en": "node '{name}' cannot be reached from the start",
                         "zh-CN": "节点“{name}”无法从开始节点到达"},
    "flow_dead_end": {"en": "node '{name}' has no way out (only end nodes may)",
                      "zh-CN": "节点“{name}”没有出口（只有结束节点可以没有）"},
    "flow_no_end": {"en": "from node '{name}' no end can be reached",
                    "zh-CN": "从节点“{name}”无法到达任何结束节点"},
    "flow_end_edges": {"en": "end node '{name}' cannot have edges going out",
                       "zh-CN": "结束节点“{name}”不能有出口"},
    "flow_gateway_default": {
        "en": "gateway '{name}' needs a default edge (or an edge without a condition), so "
              "that some way is always taken",
        "zh-CN": "网关“{name}”需要一条默认出口（或一条无条件的出口），以保证总有路可走"},
    "flow_join_inputs": {"en": "join '{name}' needs at least two incoming edges",
                         "zh-CN": "汇聚节点“{name}”至少需要两条入口"},
    "flow_no_end_node": {"en": "the flow has no end node", "zh-CN": "流程没有结束节点"},
    "flow_quorum": {"en": "mode 'quorum' needs a quorum", "zh-CN": "“quorum”模式需要设置人数"},
    "flow_start_name": {"en": "'start' is the flow's implicit first node; name yours "
                              "differently", "zh-CN": "“start”是流程隐含的开始节点，请换一个名称"},
    "flow_subflow_entity": {"en": "the sub-flow '{name}' must run on {entity} records too",
                            "zh-CN": "子流程“{name}”也必须运行在{entity}记录上"},
    "flow_wait_for": {"en": "a wait needs a duration, an until_field or a condition",
                      "zh-CN": "等待节点需要设置时长、日期字段或条件"},
    "flow_timeout_edge": {"en": "node '{name}' can time out but has no 'timeout' edge",
                          "zh-CN": "节点“{name}”会超时，但没有“timeout”出口"},
    "flow_no_calendar": {"en": "there is no calendar '{name}' in app.calendars",
                         "zh-CN": "app.calendars 中没有日历“{name}”"},
    "flow_start_edges": {"en": "the start needs exactly one edge going out",
                         "zh-CN": "开始节点需要恰好一条出口"},
})


class _FlowChecker(MetadataChecker):
    def flow(self, path: str, flow: FlowSpec) -> None:
        if flow.entity not in self.doc.entities:
            self.add(f"{path}.entity", "rule_no_entity", name=flow.entity)
            return
        scope = Scope.for_entity(self.doc, flow.entity)
        if START in flow.nodes:
            self.add(f"{path}.nodes.{START}", "flow_start_name")
        for name in flow.start.fields or []:
            self.field(f"{path}.start.fields", flow.entity, name)
        if flow.start.condition is not None:
            self.expression(f"{path}.start.condition", flow.start.condition, scope)
        graph_known = True
        for index, edge in enumerate(flow.edges):
            at = f"{path}.edges[{index}]"
            for end, name in (("from", edge.source), ("to", edge.to)):
                if name not in flow.node_ids():
                    self.add(f"{at}.{end}", "flow_unknown_node", name=name)
                    graph_known = False
            if edge.condition is not None:
                self.expression(f"{at}.condition", edge.condition, scope)
        for name, node in flow.nodes.items():
            self.node(f"{path}.nodes.{name}", flow, name, node, scope)
        for name, sla in flow.slas.items():
            self.sla(f"{path}.slas.{name}", flow, sla, scope)
        if graph_known:  # an edge to nowhere: what is reachable is not known
            self.graph(path, flow)

    def node(self, path: str, flow: FlowSpec, name: str, node: object, scope: Scope) -> None:
        if isinstance(node, UserTask):
            if node.mode == "quorum" and not node.quorum:
                self.add(f"{path}.quorum", "flow_quorum")
            self.duration(f"{path}.due", node.due)
            if node.due_field:
                self.field(f"{path}.due_field", flow.entity, node.due_field,
                           kinds=(FieldType.DATE, FieldType.DATETIME))
            for field_name in node.field_permissions:
                self.field(f"{path}.field_permissions", flow.entity, field_name)
            for index, timer in enumerate(node.timers):
                self.duration(f"{path}.timers[{index}].after", timer.after)
                self.duration(f"{path}.timers[{index}].before_due", timer.before_due)
            for person in [*node.assignees, *node.cc]:
                self.path(f"{path}.assignees", scope, person.field)
        elif isinstance(node, ActionNode):
            self.actions(path, flow.entity, node.actions, scope)
            self.duration(f"{path}.retry.backoff", node.retry.backoff)
        if isinstance(node, Wait):
            if not (node.duration or node.until_field or node.condition is not None):
                self.add(path, "flow_wait_for")
            self.duration(f"{path}.duration", node.duration)
            self.duration(f"{path}.timeout", node.timeout)
            if node.until_field:
                self.field(f"{path}.until_field", flow.entity, node.until_field,
                           kinds=(FieldType.DATE, FieldType.DATETIME))
            if node.condition is not None:
                self.expression(f"{path}.condition", node.condition, scope)
        if isinstance(node, Subflow):
            child = self.doc.flows.get(node.flow)
            if child is None or node.flow == flow.name:
                self.add(f"{path}.flow", "rule_no_flow", name=node.flow)
            elif child.entity != flow.entity:
                self.add(f"{path}.flow", "flow_subflow_entity", name=node.flow,
                         entity=flow.entity)

    def sla(self, path: str, flow: FlowSpec, sla: SlaSpec, scope: Scope) -> None:
        if not sla.target and not sla.targets:
            self.add(path, "rule_needs", name="target")
        self.duration(f"{path}.target", sla.target)
        if sla.targets is not None:
            self.field(f"{path}.targets.field", flow.entity, sla.targets.field)
            for value, text in sla.targets.values.items():
                self.duration(f"{path}.targets.values.{value}", text)
            self.duration(f"{path}.targets.default", sla.targets.default)
        if sla.calendar and sla.calendar not in self.doc.app.calendars:
            self.add(f"{path}.calendar", "flow_no_calendar", name=sla.calendar)
        self.expression(f"{path}.met_when", sla.met_when, scope)
        if sla.pause_when is not None:
            self.expression(f"{path}.pause_when", sla.pause_when, scope)
        if sla.status_field:
            self.field(f"{path}.status_field", flow.entity, sla.status_field, settable=True,
                       kinds=(FieldType.SELECT, FieldType.TEXT))
        if sla.due_field:
            self.field(f"{path}.due_field", flow.entity, sla.due_field, settable=True,
                       kinds=(FieldType.DATETIME,))
        self.actions(f"{path}.on_breach", flow.entity, sla.on_breach, scope)

    def graph(self, path: str, flow: FlowSpec) -> None:
        if len(flow.outgoing(START)) != 1:
            self.add(f"{path}.edges", "flow_start_edges")
        ends = {name for name, node in flow.nodes.items() if isinstance(node, End)}
        if not ends:
            self.add(f"{path}.nodes", "flow_no_end_node")
            return
        for name, node in flow.nodes.items():
            out = flow.outgoing(name)
            if isinstance(node, End):
                if out:
                    self.add(f"{path}.nodes.{name}", "flow_end_edges", name=name)
                continue
            if not out:
                self.add(f"{path}.nodes.{name}", "flow_dead_end", name=name)
            if isinstance(node, Gateway) and node.kind != "parallel" and not any(
                    edge.default or edge.condition is None for edge in out):
                self.add(f"{path}.nodes.{name}", "flow_gateway_default", name=name)
            times_out = (isinstance(node, Wait) and node.timeout) or (
                isinstance(node, UserTask) and any(t.action == "timeout" for t in node.timers))
            if times_out and not any(edge.outcome == "timeout" for edge in out):
                self.add(f"{path}.nodes.{name}", "flow_timeout_edge", name=name)
            if isinstance(node, Join) and len(flow.incoming(name)) < 2:
                self.add(f"{path}.nodes.{name}", "flow_join_inputs", name=name)
        forward = _reachable(START, lambda n: [e.to for e in flow.outgoing(n)])
        for name in sorted(set(flow.nodes) - forward):
            self.add(f"{path}.nodes.{name}", "flow_unreachable", name=name)
        finishing = set()
        for end in ends:
            finishing |= _reachable(end, lambda n: [e.source for e in flow.incoming(n)])
        for name in sorted((forward & set(flow.nodes)) - finishing):
            self.add(f"{path}.nodes.{name}", "flow_no_end", name=name)


def _reachable(start: str, step: Callable[[str], list[str]]) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in step(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def check_flows(doc: AppDocument) -> list[Problem]:
    """Every problem of the app's flows."""
    checker = _FlowChecker(doc)
    for name, flow in doc.flows.items():
        checker.flow(f"flows.{name}", flow)
    return checker.problems

