"""Formula fields and conditional requirements of an entity, compiled once per app version.

Formulas are evaluated in dependency order (a formula reading another formula runs after
it); a cycle among them is refused at publish. A formula that fails at run time (division
by zero, a value that does not fit the field) leaves its field blank — a record is never
refused for a value its user cannot type — and the failure is reported to the caller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from graphlib import CycleError, TopologicalSorter
from typing import Any

from loom.engines.expressions import (
    Compiled,
    Env,
    ExpressionError,
    Scope,
    check_condition,
    check_formula,
    compile_condition,
    compile_formula,
)
from loom.engines.expressions.scope import value_type
from loom.engines.field_values.coercion import BadValue, coerce
from loom.engines.forms.stages import StagePath, compile_stage_paths
from loom.metamodel.app import AppDocument
from loom.metamodel.entity import EntitySpec
from loom.metamodel.errors import Problem
from loom.metamodel.fields import FieldSpec, FieldType
from loom.metamodel.i18n import message, register_messages

register_messages({
    "formula_cycle": {"en": "formulas depend on each other in a circle: {cycle}",
                      "zh-CN": "公式之间存在循环依赖：{cycle}"},
})


@dataclass(frozen=True)
class Formula:
    name: str
    spec: FieldSpec
    compiled: Compiled


@dataclass
class EntityExpressions:
    """What the write pipeline evaluates for one entity."""

    formulas: list[Formula] = field(default_factory=list)   # in dependency order
    required_if: dict[str, Compiled] = field(default_factory=dict)
    defaults: dict[str, Compiled] = field(default_factory=dict)  # expression defaults
    stages: list[StagePath] = field(default_factory=list)  # select fields with a stage SOP

    def compiled(self) -> list[Compiled]:
        return [f.compiled for f in self.formulas] + list(self.required_if.values())

    def default_values(self, spec: EntitySpec, given: Mapping[str, Any], env: Env, *,
                       tz: tzinfo) -> dict[str, Any]:
        """Expression defaults (``{"today": []}``) of the fields a new record was not
        given; one that cannot be evaluated leaves its field blank."""
        values = {}
        for name, compiled in self.defaults.items():
            if name in given:
                continue
            try:
                values[name] = coerce(spec.fields[name], compiled.evaluate(given, env), tz=tz)
            except (ExpressionError, BadValue):
                continue
        return values

    def compute(self, record: Mapping[str, Any], env: Env, *,
                tz: tzinfo) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """The formula values for ``record`` (``record`` may hold values read through
        lookups under their whole path), and (field, reason) of each formula that failed."""
        data = dict(record)
        values: dict[str, Any] = {}
        failures: list[tuple[str, str]] = []
        for formula in self.formulas:
            try:
                value = coerce(formula.spec, formula.compiled.evaluate(data, env), tz=tz)
            except ExpressionError as exc:
                value = None
                failures.append((formula.name, str(exc)))
            except BadValue as exc:
                value = None
                failures.append((formula.name, message(exc.key, label=formula.name,
                                                       **exc.params)))
            data[formula.name] = values[formula.name] = value
        return values, failures

    def required(self, data: Mapping[str, Any], env: Env) -> set[str]:
        """The fields whose ``required_if`` holds for ``data``."""
        found = set()
        for name, condition in self.required_if.items():
            try:
                if condition.holds(data, env):
                    found.add(name)
            except ExpressionError:
                found.add(name)  # a condition that cannot be decided errs on the safe side
        return found


def compile_entity(doc: AppDocument, entity: str) -> EntityExpressions:
    """Compile an entity's formulas and conditions (the document passed its checks)."""
    spec = doc.entities[entity]
    scope = Scope.for_entity(doc, entity)
    compiled = {name: compile_formula(f.formula, scope)
                for name, f in spec.fields.items() if f.type is FieldType.FORMULA and f.formula}
    order = _order(spec, compiled)
    return EntityExpressions(
        formulas=[Formula(name, spec.fields[name], compiled[name]) for name in order],
        required_if={name: compile_condition(f.required_if, scope)
                     for name, f in spec.fields.items() if f.required_if is not None},
        defaults={name: compile_condition(f.default, scope)
                  for name, f in spec.fields.items()
                  if isinstance(f.default, dict) and not f.computed},
        stages=compile_stage_paths(doc, entity))


def _order(spec: EntitySpec, compiled: Mapping[str, Compiled]) -> list[str]:
    graph = {name: {read.split(".")[0] for read in c.reads} & set(compiled)
             for name, c in compiled.items()}
    return list(TopologicalSorter(graph).static_order())


def check_entity(doc: AppDocument, entity: str) -> list[Problem]:
    """Everything wrong with the expressions of one entity's fields, with paths."""
    spec = doc.entities[entity]
    scope = Scope.for_entity(doc, entity)
    problems: list[Problem] = []
    graph: dict[str, set[str]] = {}
    for name, f in spec.fields.items():
        path = f"entities.{entity}.fields.{name}"
        if f.type is FieldType.FORMULA and f.formula:
            found = check_formula(f.formula, scope, value_type(f.storage_type()))
            problems += _at(f"{path}.formula", found)
            if not found:
                reads = compile_formula(f.formula, scope).reads
                graph[name] = {read.split(".")[0] for read in reads}
        if f.required_if is not None:
            problems += _at(f"{path}.required_if", check_condition(f.required_if, scope))
        if isinstance(f.default, dict) and not f.computed:
            problems += _at(f"{path}.default", check_condition(f.default, scope))
        if f.type is FieldType.ROLLUP and f.rollup and f.rollup.filter is not None \
                and f.rollup.entity in doc.entities:
            child = Scope.for_entity(doc, f.rollup.entity)
            problems += _at(f"{path}.rollup.filter", check_condition(f.rollup.filter, child))
    formulas = set(graph)
    try:
        TopologicalSorter({n: deps & formulas for n, deps in graph.items()}).prepare()
    except CycleError as exc:
        cycle = " → ".join(exc.args[1])
        problems.append(Problem(f"entities.{entity}.fields",
                                message("formula_cycle", cycle=cycle), code="formula_cycle"))
    return problems


def check_document(doc: AppDocument) -> list[Problem]:
    problems: list[Problem] = []
    for entity in doc.entities:
        problems += check_entity(doc, entity)
    return problems


def _at(path: str, problems: Iterable[Problem]) -> list[Problem]:
    """Problems of one expression, placed at its path in the document."""
    return [Problem(f"{path} ({p.field})" if p.field else path, p.message, code=p.code)
            for p in problems]
