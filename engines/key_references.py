"""Records the metadata names by a value: a routing rule that puts leads in "the team whose
code is east_china_team" (``set_field`` with ``match``), a condition comparing
``team.code`` with a literal, a rule setting a lookup to a fixed id. Deleting such a record,
or changing the value it is named by, silently breaks the rule — so the platform refuses
both, naming the rules, flows, record actions and roles that depend on it.

Found once per app version from the document alone. A name counts where it picks one
record: a unique field (or the id) of the entity, compared with or set to a literal.
Rules that are switched off do not count (they run nowhere); views and dashboards do not
either (a filter naming a deleted record shows nothing, and breaks nothing).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from loom.engines.field_values.coercion import BadValue, coerce
from loom.metamodel.app import AppDocument
from loom.metamodel.fields import FieldType
from loom.metamodel.rules import Action, Assign, Convert, CreateRecord, SetField, UpdateRelated

Kind = Literal["rule", "flow", "action", "role"]
COMPARISONS = frozenset({"==", "===", "!=", "!=="})
CHOICES = frozenset({"if", "?:"})  # their results are in the odd places and the last


@dataclass(frozen=True)
class KeyReference:
    """``kind`` ``name`` (labelled ``label``) names the ``entity`` record whose ``field``
    holds ``value``; ``path`` says where in the metadata."""

    entity: str
    field: str
    value: Any
    kind: Kind
    name: str
    label: Any
    path: str


class KeyReferences:
    """Every record an app version names by a value, by (entity, field)."""

    def __init__(self, found: list[KeyReference]) -> None:
        self.all = found
        self._by_entity: dict[str, dict[str, list[KeyReference]]] = {}
        for ref in found:
            self._by_entity.setdefault(ref.entity, {}).setdefault(ref.field, []).append(ref)

    def fields(self, entity: str) -> dict[str, list[KeyReference]]:
        """Field → the references naming ``entity`` records by it."""
        return self._by_entity.get(entity, {})

    def naming(self, entity: str, record: dict[str, Any]) -> list[KeyReference]:
        """The references that name this very record."""
        return [ref for field, refs in self.fields(entity).items() for ref in refs
                if record.get(field) is not None and record.get(field) == ref.value]

    @classmethod
    def find(cls, doc: AppDocument) -> KeyReferences:
        return cls(list(_Finder(doc).run()))


class _Finder:
    def __init__(self, doc: AppDocument) -> None:
        self.doc = doc

    def run(self) -> Iterator[KeyReference]:
        doc = self.doc
        for name, rule in doc.rules.items():
            if not rule.enabled:
                continue
            where = _Where("rule", name, rule.label or name, f"rules.{name}")
            yield from self.condition(rule.condition, rule.entity, where.at("condition"))
            yield from self.actions(rule.actions, rule.entity, where.at("actions"))
        for entity_name, entity in doc.entities.items():
            for name, button in entity.actions.items():
                where = _Where("action", f"{entity_name}.{name}", button.label,
                               f"entities.{entity_name}.actions.{name}")
                yield from self.condition(button.condition, entity_name, where.at("condition"))
                yield from self.actions(button.steps, entity_name, where.at("steps"))
        for name, flow in doc.flows.items():
            where = _Where("flow", name, flow.label or name, f"flows.{name}")
            yield from self.condition(flow.start.condition, flow.entity,
                                      where.at("start.condition"))
            for index, edge in enumerate(flow.edges):
                yield from self.condition(edge.condition, flow.entity,
                                          where.at(f"edges[{index}].condition"))
            for node_id, node in flow.nodes.items():
                at = where.at(f"nodes.{node_id}")
                if node.type == "action":
                    yield from self.actions(node.actions, flow.entity, at.at("actions"))
                elif node.type == "wait":
                    yield from self.condition(node.condition, flow.entity, at.at("condition"))
            for sla_name, sla in flow.slas.items():
                at = where.at(f"slas.{sla_name}")
                yield from self.condition(sla.met_when, flow.entity, at.at("met_when"))
                yield from self.condition(sla.pause_when, flow.entity, at.at("pause_when"))
                yield from self.actions(sla.on_breach, flow.entity, at.at("on_breach"))
        for name, role in doc.roles.items():
            where = _Where("role", name, role.label or name, f"roles.{name}")
            for entity_name, grant in role.permissions.items():
                for operation in ("read", "update", "delete"):
                    scope = getattr(grant, operation)
                    if isinstance(scope, dict):
                        yield from self.condition(scope, entity_name, where.at(
                            f"permissions.{entity_name}.{operation}"))

    # --- actions --------------------------------------------------------------------------

    def actions(self, actions: list[Action], entity: str, where: _Where) -> Iterator[KeyReference]:
        for index, action in enumerate(actions):
            at = where.at(f"[{index}]")
            if isinstance(action, SetField):
                yield from self.set_value(entity, action.field, action.value, action.match,
                                          at.at("value"))
            if isinstance(action, CreateRecord | Convert):
                targets = action.targets if isinstance(action, Convert) else [action]
                for number, target in enumerate(targets):
                    for name, raw in target.values.items():
                        yield from self.set_value(target.entity, name, raw, None,
                                                  at.at(f"targets[{number}].values.{name}"),
                                                  scope=entity)
            if isinstance(action, UpdateRelated):
                target = action.entity or self._ref(entity, action.lookup)
                if target is not None:
                    yield from self.condition(action.condition, target, at.at("condition"))
                    for name, raw in action.values.items():
                        yield from self.set_value(target, name, raw, None,
                                                  at.at(f"values.{name}"), scope=entity)
            if isinstance(action, Assign) and action.load is not None:
                yield from self.condition(action.load.condition, action.load.entity or entity,
                                          at.at("load.condition"))
            if isinstance(action, SetField | CreateRecord | Convert | UpdateRelated | Assign):
                continue
            # the rest (done_when of a task, a webhook's body …) read the rule's record
            yield from self.condition(action.model_dump(mode="json"), entity, at)

    def set_value(self, entity: str, field: str, value: Any, match: str | None,
                  where: _Where, scope: str | None = None) -> Iterator[KeyReference]:
        """A lookup set to a literal names a record: by its ``match`` field, else by id.
        Conditions inside the value read the record the action runs on (``scope``)."""
        spec = self.doc.entities.get(entity)
        target = spec.fields.get(field) if spec is not None else None
        if target is not None and target.type is FieldType.LOOKUP and target.ref:
            key = match or "id"
            for literal in _outcomes(value):
                yield from self.named(target.ref, key, literal, where)
        yield from self.condition(value, scope or entity, where)

    # --- conditions -----------------------------------------------------------------------

    def condition(self, expression: Any, entity: str, where: _Where) -> Iterator[KeyReference]:
        if isinstance(expression, list):
            for item in expression:
                yield from self.condition(item, entity, where)
            return
        if not isinstance(expression, dict):
            return
        if len(expression) == 1:
            (operator, args), = expression.items()
            if operator == "related" and isinstance(args, dict | list):
                spec = args[0] if isinstance(args, list) and args else args
                if isinstance(spec, dict) and isinstance(spec.get("entity"), str):
                    yield from self.condition(spec.get("where"), spec["entity"], where)
                return
            if operator in COMPARISONS and isinstance(args, list) and len(args) == 2:
                yield from self.compared(entity, args[0], [args[1]], where)
                yield from self.compared(entity, args[1], [args[0]], where)
            if operator == "in" and isinstance(args, list) and len(args) == 2 and \
                    isinstance(args[1], list):
                yield from self.compared(entity, args[0], args[1], where)
        for value in expression.values():
            yield from self.condition(value, entity, where)

    def compared(self, entity: str, side: Any, literals: list[Any],
                 where: _Where) -> Iterator[KeyReference]:
        path = _var_path(side)
        if path is None:
            return
        resolved = self._resolve(entity, path)
        if resolved is None:
            return
        target, field = resolved
        for literal in literals:
            if _is_literal(literal):
                yield from self.named(target, field, literal, where)

    def named(self, entity: str, field: str, literal: Any,
              where: _Where) -> Iterator[KeyReference]:
        spec = self.doc.entities.get(entity)
        if spec is None or literal is None:
            return
        if field == "id":
            if isinstance(literal, int) and not isinstance(literal, bool):
                yield where.reference(entity, "id", literal)
            return
        field_spec = spec.fields.get(field)
        if field_spec is None or not self._unique(entity, field):
            return
        try:
            value = coerce(field_spec, literal)
        except BadValue:
            return  # no record can hold it: the rule's own checks speak of that
        if value is not None:
            yield where.reference(entity, field, value)

    # --- the metadata ---------------------------------------------------------------------

    def _ref(self, entity: str, field: str | None) -> str | None:
        spec = self.doc.entities.get(entity)
        target = spec.fields.get(field) if spec is not None and field else None
        return target.ref if target is not None and target.type is FieldType.LOOKUP else None

    def _resolve(self, entity: str, path: str) -> tuple[str, str] | None:
        """(entity, field) a dot path ends on; a path ending on a lookup names its record
        by id (``team`` compared with 3 is the team with id 3)."""
        *hops, last = path.split(".")
        for hop in hops:
            ref = self._ref(entity, hop)
            if ref is None:
                return None
            entity = ref
        ref = self._ref(entity, last)
        if ref is not None:
            return ref, "id"
        return entity, last

    def _unique(self, entity: str, field: str) -> bool:
        spec = self.doc.entities[entity]
        if spec.fields[field].unique:
            return True
        return any(index.unique and index.fields == [field] for index in spec.indexes)


@dataclass(frozen=True)
class _Where:
    kind: Kind
    name: str
    label: Any
    path: str

    def at(self, step: str) -> _Where:
        joined = f"{self.path}{step}" if step.startswith("[") else f"{self.path}.{step}"
        return _Where(self.kind, self.name, self.label, joined)

    def reference(self, entity: str, field: str, value: Any) -> KeyReference:
        return KeyReference(entity, field, value, self.kind, self.name, self.label, self.path)


def _var_path(expression: Any) -> str | None:
    if not isinstance(expression, dict) or set(expression) != {"var"}:
        return None
    name = expression["var"]
    if isinstance(name, list):
        name = name[0] if name else None
    return name if isinstance(name, str) and name else None


def _is_literal(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _outcomes(value: Any) -> list[Any]:
    """The literals an expression may evaluate to: itself, or the branches of an ``if``."""
    if _is_literal(value):
        return [value]
    if isinstance(value, dict) and len(value) == 1:
        (operator, args), = value.items()
        if operator in CHOICES and isinstance(args, list):
            results = [args[i] for i in range(1, len(args), 2)]
            if len(args) % 2:
                results.append(args[-1])
            return [literal for result in results for literal in _outcomes(result)]
    return []
