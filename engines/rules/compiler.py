"""Rules compiled once per app version: conditions and value expressions as closures, and
the rules of each entity and trigger in the order they run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from loom.engines.expressions import Compiled, Env, Scope, compile_condition
from loom.metamodel.app import AppDocument
from loom.metamodel.rules import (
    Action,
    Assign,
    Convert,
    CreateRecord,
    CreateTask,
    RecordTarget,
    RuleSpec,
    SetField,
    UpdateRelated,
    Webhook,
)

RECORD_TRIGGERS = ("create", "update", "field_change", "delete")
TIMED_TRIGGERS = ("schedule", "date_offset")


def is_created_ref(value: Any) -> bool:
    """``{"created": "customer"}``: the id of a record an earlier target of the same
    action created."""
    return isinstance(value, Mapping) and len(value) == 1 \
        and isinstance(value.get("created"), str)


def compile_value(value: Any, scope: Scope | None) -> Compiled | None:
    """A value expression (a literal or JSON Logic); None for a created-record reference."""
    if is_created_ref(value):
        return None
    return compile_condition(value, scope)


@dataclass
class CompiledAction:
    spec: Action
    values: dict[str, Compiled | None] = field(default_factory=dict)
    # update_related: which related records; assign: what counts as load;
    # create_task: when the task is done by itself
    condition: Compiled | None = None

    def expressions(self) -> list[Compiled]:
        return [c for c in self.values.values() if c is not None]


@dataclass
class CompiledRule:
    name: str
    spec: RuleSpec
    condition: Compiled | None
    actions: list[CompiledAction]
    paths: frozenset[str] = frozenset()  # fields recipients and assignments read
    scope: Scope | None = None  # what its condition was compiled against (labels, options)

    @property
    def entity(self) -> str:
        return self.spec.entity

    def expressions(self) -> list[Compiled]:
        """Everything evaluated on the triggering record (what its data must hold)."""
        found = [self.condition] if self.condition is not None else []
        for action in self.actions:
            found += action.expressions()
        return found

    def holds(self, data: Mapping[str, Any], env: Env) -> bool:
        return self.condition is None or self.condition.holds(data, env)

    def inputs(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The values the condition read: the "why" of a trace."""
        if self.condition is None:
            return {}
        return {path: data.get(path, data.get(path.split(".")[0]))
                for path in sorted(self.condition.reads) if path != "*"}


def _target_values(target: RecordTarget, scope: Scope) -> dict[str, Compiled | None]:
    return {f"{target.entity}.{name}": compile_value(value, scope)
            for name, value in target.values.items()}


def compile_action(action: Action, scope: Scope, doc: AppDocument) -> CompiledAction:
    compiled = CompiledAction(action)
    if isinstance(action, SetField):
        compiled.values = {action.field: compile_value(action.value, scope)}
    elif isinstance(action, CreateRecord):
        compiled.values = _target_values(action, scope)
    elif isinstance(action, Convert):
        for target in action.targets:
            compiled.values.update(_target_values(target, scope))
    elif isinstance(action, UpdateRelated):
        compiled.values = {name: compile_value(value, scope)
                           for name, value in action.values.items()}
        if action.condition is not None and action.entity in doc.entities:
            compiled.condition = compile_condition(action.condition,
                                                   Scope.for_entity(doc, action.entity))
    elif isinstance(action, Webhook) and action.body:
        compiled.values = {name: compile_value(value, scope)
                           for name, value in action.body.items()}
    elif isinstance(action, CreateTask) and action.done_when is not None:
        compiled.condition = compile_condition(action.done_when, scope)
    elif isinstance(action, Assign) and action.load and action.load.condition is not None:
        load_entity = action.load.entity or scope.entity
        if load_entity in doc.entities:
            compiled.condition = compile_condition(action.load.condition,
                                                   Scope.for_entity(doc, load_entity))
    return compiled


def compile_rule(name: str, spec: RuleSpec, doc: AppDocument) -> CompiledRule:
    scope = Scope.for_entity(doc, spec.entity)
    condition = compile_condition(spec.condition, scope) if spec.condition is not None \
        else None
    return CompiledRule(name, spec, condition,
                        [compile_action(action, scope, doc) for action in spec.actions],
                        frozenset(field_paths(spec.actions)), scope)


def people(action: Action) -> list[Any]:
    """The recipient and candidate specs of an action."""
    found: list[Any] = []
    for name in ("to", "cc"):
        found += getattr(action, name, None) or []
    for name in ("assignee", "escalate_to", "candidates"):
        if getattr(action, name, None) is not None:
            found.append(getattr(action, name))
    return found


def field_paths(actions: Iterable[Action]) -> set[str]:
    """Field paths the actions' recipients and assignments read from the record."""
    paths: set[str] = set()
    for action in actions:
        for item in people(action):
            if item.field:
                paths.add(item.field)
            of = getattr(item, "of", None)
            if of and of not in ("owner", "actor"):
                paths.add(of)
        if isinstance(action, Assign) and action.source:
            paths.add(action.source)
    return paths


def compile_steps(name: str, entity: str, steps: Iterable[Action], condition: Any,
                  doc: AppDocument) -> CompiledRule:
    """A record action (button) as a rule without a trigger."""
    spec = RuleSpec(name=name, entity=entity, trigger={"on": "update"}, condition=condition,
                    actions=list(steps))
    return compile_rule(name, spec, doc)


class RuleSet:
    """The enabled rules of one app version, by entity and trigger, in run order."""

    def __init__(self, rules: Iterable[CompiledRule]) -> None:
        self.rules = sorted(rules, key=lambda r: (r.spec.order, r.name))
        self.by_name = {rule.name: rule for rule in self.rules}
        self._record_actions: dict[tuple[str, str], CompiledRule] = {}
        self._task_closers: dict[str, dict[tuple[str, int], Compiled]] = {}

    @classmethod
    def compile(cls, doc: AppDocument) -> RuleSet:
        return cls(compile_rule(name, spec, doc) for name, spec in doc.rules.items()
                   if spec.enabled)

    def on_save(self, entity: str, operation: str) -> list[CompiledRule]:
        """Rules a create, update or delete of ``entity`` may fire, in order."""
        kinds = {"create": ("create", "field_change"), "update": ("update", "field_change"),
                 "delete": ("delete",)}[operation]
        return [r for r in self.rules if r.entity == entity and r.spec.trigger.on in kinds]

    def record_action(self, doc: AppDocument, entity: str, name: str) -> CompiledRule | None:
        """The record action (button) ``name`` of ``entity``, compiled on first use and kept
        with this app version; None when the entity has no such action."""
        key = (entity, name)
        if key not in self._record_actions:
            spec = doc.entities.get(entity)
            button = spec.actions.get(name) if spec is not None else None
            if button is None:
                return None
            self._record_actions[key] = compile_steps(name, entity, button.steps,
                                                      button.condition, doc)
        return self._record_actions[key]

    def task_closers(self, entity: str) -> dict[tuple[str, int], Compiled]:
        """The ``done_when`` of every task action on ``entity``, by (rule, action index)."""
        if entity not in self._task_closers:
            self._task_closers[entity] = {
                (rule.name, index): action.condition
                for rule in self.rules if rule.entity == entity
                for index, action in enumerate(rule.actions)
                if isinstance(action.spec, CreateTask) and action.condition is not None}
        return self._task_closers[entity]

    def timed(self) -> list[CompiledRule]:
        return [r for r in self.rules if r.spec.trigger.on in TIMED_TRIGGERS]

    def on_flow_event(self, entity: str, flow: str, event: str) -> list[CompiledRule]:
        return [r for r in self.rules if r.entity == entity and r.spec.trigger.on ==
                "flow_event" and r.spec.trigger.flow in (None, flow)
                and r.spec.trigger.event in (None, event)]
