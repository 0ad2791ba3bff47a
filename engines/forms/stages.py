"""Stage paths: a select field whose options carry a stage SOP — what to do in the stage
(``guidance``), what must be filled or hold before a record moves past it (``key_fields``,
``key_conditions``) and how long it may stay (``time_limit``). Compiled once per app
version; the write pipeline asks which requirements a change must meet, and refuses it
with a problem per field or condition left unmet.

The rules of movement, stated on the record's new stage:

* a record at an open stage meets the requirements of every open stage before it;
* a record at a final stage (category ``won``, ``lost``, ``resolved`` or ``closed``) meets
  that stage's own requirements, and — unless its category is ``lost`` — those of every
  open stage: losing passes over nothing, a deal may be lost at any stage;
* moving back to an earlier open stage is always allowed, and so is staying put (only
  emptying a key field the stage needs is refused).

So a record cannot be *created* past a stage either: an opportunity created as won would
need a signed contract that cannot point at it yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from loom.engines.expressions import Compiled, Env, ExpressionError, Scope, compile_condition
from loom.engines.field_values.coercion import is_blank
from loom.engines.timing import Duration, parse_duration
from loom.metamodel.app import AppDocument
from loom.metamodel.entity import EntitySpec
from loom.metamodel.errors import Problem
from loom.metamodel.fields import FieldSpec, LocalizedText, Option
from loom.metamodel.i18n import message, register_messages

FINAL_CATEGORIES = frozenset({"won", "lost", "resolved", "closed"})

register_messages({
    "stage_key_field": {"en": "Fill in {field} before leaving {stage}",
                        "zh-CN": "填写{field}后才能离开{stage}阶段"},
    "stage_key_condition": {"en": "Leaving {stage} needs {requirement}",
                            "zh-CN": "需要{requirement}才能离开{stage}阶段"},
    "stage_entry_field": {"en": "Fill in {field} before moving to {stage}",
                          "zh-CN": "填写{field}后才能进入{stage}阶段"},
    "stage_entry_condition": {"en": "Moving to {stage} needs {requirement}",
                              "zh-CN": "需要{requirement}才能进入{stage}阶段"},
})
# (months, days, hours, minutes) in words
_UNITS = {"en": ("month", "day", "hour", "minute"), "zh-CN": ("个月", "天", "小时", "分钟")}


@dataclass(frozen=True)
class KeyCheck:
    """A key condition, compiled."""

    label: LocalizedText
    compiled: Compiled


@dataclass(frozen=True)
class Stage:
    option: Option
    position: int
    key_fields: tuple[str, ...]
    key_conditions: tuple[KeyCheck, ...]
    time_limit: Duration | None

    @property
    def value(self) -> str:
        return self.option.value

    @property
    def final(self) -> bool:
        return self.option.category in FINAL_CATEGORIES

    @property
    def label(self) -> LocalizedText:
        return self.option.label or self.option.value


@dataclass(frozen=True)
class Unmet:
    """What one stage still needs of a record."""

    stage: Stage
    fields: tuple[str, ...]
    conditions: tuple[KeyCheck, ...]
    # the stage is the target of the move (a final stage's own requirements)
    entering: bool = False

    def __bool__(self) -> bool:
        return bool(self.fields or self.conditions)

    def problems(self, spec: EntitySpec, field: str) -> list[Problem]:
        """A problem per unmet field (named by it) and per condition (named by the stage
        field), in the reader's language."""
        stage = self.stage.label
        field_key, condition_key = (("stage_entry_field", "stage_entry_condition")
                                    if self.entering else
                                    ("stage_key_field", "stage_key_condition"))
        found = [Problem(name, message(field_key, field=spec.field_label(name), stage=stage),
                         code="stage_key_field") for name in self.fields]
        found += [Problem(field, message(condition_key, requirement=check.label, stage=stage),
                          code="stage_key_condition") for check in self.conditions]
        return found


@dataclass(frozen=True)
class StagePath:
    """The stages of one select field, in option order."""

    field: str
    stages: tuple[Stage, ...]

    def stage(self, value: Any) -> Stage | None:
        return next((s for s in self.stages if s.value == value), None)

    def compiled(self) -> list[Compiled]:
        return [check.compiled for stage in self.stages for check in stage.key_conditions]

    def required_at(self, value: Any) -> list[Stage]:
        """The stages whose requirements a record at stage ``value`` meets."""
        target = self.stage(value)
        if target is None:
            return []
        if not target.final:
            return [s for s in self.stages if s.position < target.position and not s.final]
        passed = [] if target.option.category == "lost" else [
            s for s in self.stages if not s.final]
        return [*passed, target]

    def required_for_move(self, old: Any, new: Any) -> list[Stage]:
        """The stages whose requirements a change from ``old`` to ``new`` must meet: none
        when the stage stays or moves back to an earlier open stage."""
        if old == new:
            return []
        before, after = self.stage(old), self.stage(new)
        if (before is not None and after is not None and not before.final
                and not after.final and after.position < before.position):
            return []
        return self.required_at(new)

    def ahead(self, value: Any) -> list[Stage]:
        """The stages whose requirements a move past the open stage ``value`` needs (none
        past a final stage)."""
        stage = self.stage(value)
        if stage is None or stage.final:
            return []
        return [*self.required_at(value), stage]

    def unmet(self, stages: Iterable[Stage], target: Any, data: Mapping[str, Any],
              env: Env) -> list[Unmet]:
        """For each of ``stages``, the key fields blank and the key conditions that do
        not hold in ``data`` (a condition that cannot be evaluated counts as unmet)."""
        found = []
        for stage in stages:
            fields = tuple(name for name in stage.key_fields if is_blank(data.get(name)))
            conditions = tuple(check for check in stage.key_conditions
                               if not _holds(check, data, env))
            unmet = Unmet(stage, fields, conditions, entering=stage.value == target)
            if unmet:
                found.append(unmet)
        return found

    def emptied(self, value: Any, record: Mapping[str, Any],
                changed: set[str]) -> list[Unmet]:
        """Key fields the record's stage needs that this change empties."""
        found = []
        for stage in self.required_at(value):
            fields = tuple(name for name in stage.key_fields
                           if name in changed and is_blank(record.get(name)))
            if fields:
                found.append(Unmet(stage, fields, (), entering=stage.value == value))
        return found


def describe_duration(duration: Duration, locale: str) -> str:
    """A time limit as a person says it: 7 天 / 7 days, 1 天 12 小时 / 1 day 12 hours."""
    seconds = int(duration.delta.total_seconds())
    amounts = (duration.months, seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60)
    if locale.startswith("zh"):
        return " ".join(f"{n} {unit}" for n, unit in zip(amounts, _UNITS["zh-CN"],
                                                         strict=True) if n)
    return " ".join(f"{n} {unit}{'s' if n != 1 else ''}"
                    for n, unit in zip(amounts, _UNITS["en"], strict=True) if n)


def _holds(check: KeyCheck, data: Mapping[str, Any], env: Env) -> bool:
    try:
        return check.compiled.holds(data, env)
    except ExpressionError:
        return False


def compile_stage_paths(doc: AppDocument, entity: str) -> list[StagePath]:
    """The stage paths of an entity (the document passed its checks)."""
    spec = doc.entities[entity]
    scope = Scope.for_entity(doc, entity)
    return [_compile(name, field, scope) for name, field in spec.fields.items()
            if field.is_stage_path]


def _compile(name: str, field: FieldSpec, scope: Scope) -> StagePath:
    stages = []
    for position, option in enumerate(field.options or []):
        stages.append(Stage(
            option, position, tuple(option.key_fields or ()),
            tuple(KeyCheck(c.label, compile_condition(c.condition, scope))
                  for c in option.key_conditions or ()),
            parse_duration(option.time_limit) if option.time_limit else None))
    return StagePath(name, tuple(stages))
