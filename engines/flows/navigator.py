"""Where a flow goes next — decided, not done. Given the node a path of execution leaves
(with an outcome, for tasks) and the record, the navigator follows edges through gateways
and joins to the next **waiting points** (user tasks, waits, actions, sub-flows, ends) and
returns them; the platform then creates tasks and timers and commits, all in one
transaction (every waiting point is a transaction boundary).

Parallel and inclusive gateways mark the paths they start (``gateway.step.count``), so a
join waits for exactly the paths that were started — an inclusive split that took two of
three edges joins after two.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from loom.engines.expressions import Compiled, Env, Scope, compile_condition
from loom.metamodel.app import AppDocument
from loom.metamodel.flows import START, Edge, FlowSpec, Gateway, Join

MAX_HOPS = 1000  # a graph walked without a waiting point this long is refused, not looped


class FlowStuck(Exception):
    """No edge can be taken (a gateway with nothing true and no default)."""


Branch = tuple[str, ...]  # the split marks a path carries, innermost last


@dataclass(frozen=True)
class Arrival:
    """A path of execution reaching a waiting point."""

    node: str
    branch: Branch = ()
    via: Edge | None = None


@dataclass
class JoinState:
    """Arrivals at joins still waiting for their other paths: (join, mark) → count. The
    platform loads it with the instance and stores it back."""

    arrived: dict[str, int] = field(default_factory=dict)

    def arrive(self, join: str, mark: str) -> int:
        key = f"{join}|{mark}"
        self.arrived[key] = self.arrived.get(key, 0) + 1
        return self.arrived[key]

    def clear(self, join: str, mark: str) -> None:
        self.arrived.pop(f"{join}|{mark}", None)


@dataclass
class CompiledFlow:
    spec: FlowSpec
    conditions: dict[int, Compiled]   # by edge position
    start_condition: Compiled | None
    # SLA name -> (met_when, pause_when)
    slas: dict[str, tuple[Compiled, Compiled | None]] = field(default_factory=dict)
    # worked out once per published version (the flow never changes): whether leaving a
    # node may test a condition, and the compiled actions of action nodes
    _decides: dict[str, bool] = field(default_factory=dict, repr=False)
    actions: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def compile(cls, doc: AppDocument, name: str) -> CompiledFlow:
        spec = doc.flows[name]
        scope = Scope.for_entity(doc, spec.entity)
        conditions = {index: compile_condition(edge.condition, scope)
                      for index, edge in enumerate(spec.edges) if edge.condition is not None}
        start = compile_condition(spec.start.condition, scope) \
            if spec.start.condition is not None else None
        slas = {name: (compile_condition(sla.met_when, scope),
                       compile_condition(sla.pause_when, scope)
                       if sla.pause_when is not None else None)
                for name, sla in spec.slas.items()}
        return cls(spec, conditions, start, slas)

    def expressions(self) -> list[Compiled]:
        found = list(self.conditions.values())
        for met, pause in self.slas.values():
            found += [met] + ([pause] if pause is not None else [])
        return found + ([self.start_condition] if self.start_condition else [])

    def decides_on_record(self, node: str) -> bool:
        """Whether leaving ``node`` may test a condition before the next waiting points
        (a gateway with a conditional edge on the way): if not, the record is not needed
        to know where the flow goes."""
        found = self._decides.get(node)
        if found is None:
            found = self._decides[node] = self._conditional_ahead(node)
        return found

    def _conditional_ahead(self, node: str) -> bool:
        seen: set[str] = set()
        todo = [edge.to for edge in self.spec.outgoing(node)]
        while todo:
            target = todo.pop()
            kind = self.spec.nodes.get(target)
            if target in seen or not isinstance(kind, Gateway | Join):
                continue  # a waiting point: the walk stops there
            seen.add(target)
            edges = self.spec.outgoing(target)
            if isinstance(kind, Gateway) and kind.kind != "parallel" and any(
                    edge.condition is not None for edge in edges):
                return True
            todo += [edge.to for edge in edges]
        return False

    def holds(self, edge: Edge, data: Mapping[str, Any], env: Env) -> bool:
        compiled = self.conditions.get(self.spec.edges.index(edge))
        return compiled is None or compiled.holds(data, env)


class Navigator:
    def __init__(self, flow: CompiledFlow) -> None:
        self.flow = flow
        self.spec = flow.spec

    def start(self, data: Mapping[str, Any], env: Env, joins: JoinState,
              step: int = 0) -> list[Arrival]:
        return self.leave(START, None, (), data, env, joins, step)

    def leave(self, node: str, outcome: str | None, branch: Branch,
              data: Mapping[str, Any], env: Env, joins: JoinState,
              step: int = 0) -> list[Arrival]:
        """The waiting points reached when ``node`` completes (with ``outcome``)."""
        edges = self._edges_out(node, outcome)
        found: list[Arrival] = []
        todo = [(edge, branch) for edge in edges]
        hops = 0
        while todo:
            hops += 1
            if hops > MAX_HOPS:
                raise FlowStuck(f"the flow passes more than {MAX_HOPS} nodes without waiting")
            edge, path = todo.pop(0)
            target = edge.to
            kind = self.spec.nodes.get(target)
            if isinstance(kind, Gateway):
                taken = self._taken(target, kind, data, env)
                if kind.kind == "exclusive" or (kind.kind == "inclusive" and len(taken) == 1):
                    todo += [(e, path) for e in taken[:1]]
                else:
                    mark = f"{target}.{step}.{len(taken)}"
                    todo += [(e, (*path, mark)) for e in taken]
                continue
            if isinstance(kind, Join):
                passed = self._join(target, path, joins)
                if passed is not None:
                    todo += [(e, passed) for e in self._edges_out(target, None)]
                continue
            found.append(Arrival(target, path, edge))
        return found

    def _edges_out(self, node: str, outcome: str | None) -> list[Edge]:
        edges = self.spec.outgoing(node)
        if outcome is None:
            return [e for e in edges if e.outcome is None]
        matching = [e for e in edges if e.outcome == outcome]
        if matching:
            return matching
        # an approval leaves by its unlabelled edges; a rejection only by a reject edge
        return [e for e in edges if e.outcome is None] if outcome == "approve" else []

    def _taken(self, node: str, gateway: Gateway, data: Mapping[str, Any],
               env: Env) -> list[Edge]:
        edges = self.spec.outgoing(node)
        if gateway.kind == "parallel":
            return edges
        chosen = [e for e in edges if not e.default and self.flow.holds(e, data, env)]
        if gateway.kind == "exclusive":
            chosen = chosen[:1]
        if not chosen:
            chosen = [e for e in edges if e.default][:1]
        if not chosen:
            raise FlowStuck(f"gateway '{node}': no condition holds and there is no default")
        return chosen

    def _join(self, node: str, path: Branch, joins: JoinState) -> Branch | None:
        """The path going on when the join completes, None while it still waits."""
        if not path:
            return path  # a merge after an exclusive choice: nothing to wait for
        mark = path[-1]
        expected = int(mark.rsplit(".", 1)[1])
        if joins.arrive(node, mark) < expected:
            return None
        joins.clear(node, mark)
        return path[:-1]
