"""A form's conditions, compiled once, and what they say about one record: which fields are
visible, required and read-only, and which required ones are blank.

The conditions are the same condition language the write pipeline runs (``required_if``
of the entity's fields is compiled the same way), and the blanks are found by the same
``missing_required`` the pipeline uses: a field is required when the entity says so
(``required``, ``required_if``) or when the form's ``required`` holds — unless the form
hides it, since nobody can fill in a field they cannot see. Fields the entity requires
unconditionally stay required wherever they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from loom.engines.expressions import Compiled, Env, ExpressionError, Scope, compile_condition
from loom.engines.forms.computed import EntityExpressions
from loom.engines.forms.validation import missing_required
from loom.metamodel.app import AppDocument
from loom.metamodel.entity import EntitySpec
from loom.metamodel.errors import Problem
from loom.metamodel.forms import FormSpec

# A compiled condition, or a constant (a condition that was written as true/false).
Rule = Compiled | bool


@dataclass(frozen=True)
class FieldState:
    visible: bool
    required: bool
    readonly: bool

    def as_json(self) -> dict[str, bool]:
        return {"visible": self.visible, "required": self.required, "readonly": self.readonly}


@dataclass
class FormConditions:
    """Per placed field: the conditions that decide its visibility (its own, its section's
    and its tab's), whether it is required, and whether it is read-only."""

    entity: str
    visible: dict[str, list[Rule]] = field(default_factory=dict)
    required: dict[str, Rule] = field(default_factory=dict)
    readonly: dict[str, Rule] = field(default_factory=dict)

    @classmethod
    def compile(cls, doc: AppDocument, form: FormSpec) -> FormConditions:
        """Compile a form's conditions (the document passed its checks)."""
        scope = Scope.for_entity(doc, form.entity)
        found = cls(form.entity)
        tabs = [(tab.visible, tab.sections) for tab in form.tabs] or [(None, form.sections)]
        for tab_visible, sections in tabs:
            for section in sections:
                outer = [_rule(c, scope) for c in (tab_visible, section.visible)
                         if c is not None]
                for placement in section.placements():
                    own = [_rule(placement.visible, scope)] if placement.visible is not None \
                        else []
                    found.visible[placement.field] = outer + own
                    if placement.required is not None:
                        found.required[placement.field] = _rule(placement.required, scope)
                    if placement.readonly is not None:
                        found.readonly[placement.field] = _rule(placement.readonly, scope)
        return found

    def states(self, record: Mapping[str, Any], env: Env,
               entity_required: set[str]) -> dict[str, FieldState]:
        """The state of every placed field for ``record``; ``entity_required`` are the
        fields whose ``required_if`` holds (the pipeline's own answer)."""
        states = {}
        for name, conditions in self.visible.items():
            shown = all(_holds(c, record, env, default=True) for c in conditions)
            required = name in entity_required or (
                shown and name in self.required
                and _holds(self.required[name], record, env, default=True))
            readonly = name in self.readonly and _holds(self.readonly[name], record, env,
                                                        default=False)
            states[name] = FieldState(shown, required, readonly)
        return states

    def missing(self, spec: EntitySpec, expressions: EntityExpressions,
                record: Mapping[str, Any], env: Env) -> tuple[dict[str, FieldState],
                                                              list[Problem]]:
        """The fields' states and a problem for every required field that is blank."""
        entity_required = expressions.required(record, env)
        states = self.states(record, env, entity_required)
        # the form's requirements as the entity's own: the same check the pipeline runs
        demanded = {name for name, state in states.items() if state.required}
        as_required = spec.model_copy(update={"fields": {
            name: f.model_copy(update={"required": True}) if name in demanded else f
            for name, f in spec.fields.items()}})
        return states, missing_required(as_required, record, entity_required.__contains__)


def _rule(condition: Any, scope: Scope) -> Rule:
    return condition if isinstance(condition, bool) else compile_condition(condition, scope)


def _holds(rule: Rule, record: Mapping[str, Any], env: Env, *, default: bool) -> bool:
    if isinstance(rule, bool):
        return rule
    try:
        return rule.holds(record, env)
    except ExpressionError:
        return default  # undecidable: show it, require it, leave it editable
