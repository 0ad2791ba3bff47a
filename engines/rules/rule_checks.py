"""Static checks of rules and record actions at publish: every field, entity, recipient,
schedule, duration and template they name exists and fits, their expressions type-check,
and no rules set each other off in a circle."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from loom.engines.expressions import Scope, check_condition
from loom.engines.rules.compiler import is_created_ref, people
from loom.engines.rules.templates import check_template
from loom.engines.timing import check_cron, parse_duration
from loom.metamodel.app import AppDocument
from loom.metamodel.errors import Problem
from loom.metamodel.fields import FieldType
from loom.metamodel.i18n import message, register_messages
from loom.metamodel.rules import (
    Action,
    Assign,
    Convert,
    CreateRecord,
    CreateTask,
    Notify,
    RecordTarget,
    RuleSpec,
    SendEmail,
    SetField,
    StartFlow,
    Tag,
    UpdateRelated,
)

register_messages({
    "rule_no_entity": {"en": "there is no entity '{name}' in this app",
                       "zh-CN": "应用中没有实体“{name}”"},
    "rule_no_field": {"en": "{entity} has no field '{name}'", "zh-CN": "{entity}没有字段“{name}”"},
    "rule_computed_field": {"en": "'{name}' is computed and cannot be set",
                            "zh-CN": "“{name}”是计算字段，不能赋值"},
    "rule_field_kind": {"en": "'{name}' must be a {kind} field",
                        "zh-CN": "“{name}”必须是{kind}类型的字段"},
    "rule_needs": {"en": "needs '{name}'", "zh-CN": "缺少“{name}”"},
    "rule_bad_option": {"en": "'{value}' is not an option of '{name}'",
                        "zh-CN": "“{value}”不是“{name}”的选项"},
    "rule_no_flow": {"en": "there is no flow '{name}' in this app",
                     "zh-CN": "应用中没有流程“{name}”"},
    "rule_created_ref": {"en": "'{name}' is not created by an earlier target",
                         "zh-CN": "“{name}”不是前面步骤创建的记录"},
    "rule_bad_template": {"en": "the template does not parse: {detail}",
                          "zh-CN": "模板无法解析：{detail}"},
    "rule_cycle": {"en": "rules set each other off in a circle: {cycle}",
                   "zh-CN": "规则之间循环触发：{cycle}"},
    "rule_not_lookup_to": {"en": "'{name}' must be a lookup to {entity}",
                           "zh-CN": "“{name}”必须是指向{entity}的关联字段"},
})


class MetadataChecker:
    """Collects the problems of metadata items that name fields, entities and people."""

    def __init__(self, doc: AppDocument) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def add(self, path: str, key: str, **params: Any) -> None:
        self.problems.append(Problem(path, message(key, **params), code=key))

    def expression(self, path: str, value: Any, scope: Scope) -> None:
        if is_created_ref(value) or not isinstance(value, dict | list):
            return
        for problem in check_condition(value, scope):
            where = f"{path} ({problem.field})" if problem.field else path
            self.problems.append(Problem(where, problem.message, code=problem.code))

    def field(self, path: str, entity: str, name: str | None, *,
              settable: bool = False, kinds: Iterable[FieldType] = ()) -> bool:
        spec = self.doc.entities[entity]
        if not name:
            self.add(path, "rule_needs", name="field")
            return False
        field = spec.fields.get(name)
        if field is None:
            self.add(path, "rule_no_field", entity=spec.label, name=name)
            return False
        if settable and (field.computed or not field.has_column):
            self.add(path, "rule_computed_field", name=name)
            return False
        allowed = tuple(kinds)
        if allowed and field.type not in allowed:
            self.add(path, "rule_field_kind", name=name, kind=allowed[0].value)
            return False
        return True

    def path(self, path: str, scope: Scope, field_path: str | None) -> None:
        if field_path and scope.lookup(field_path) is None:
            self.add(path, "rule_no_field", entity=scope.label, name=field_path)

    def duration(self, path: str, text: str | None) -> None:
        if text is not None:
            try:
                parse_duration(text)
            except ValueError as exc:
                self.problems.append(Problem(path, str(exc), code="bad_duration"))

    def template(self, path: str, text: Any) -> None:
        if text is not None and (detail := check_template(text)):
            self.add(path, "rule_bad_template", detail=detail)

    # --- rules and actions ----------------------------------------------------------------

    def rule(self, path: str, rule: RuleSpec) -> None:
        if rule.entity not in self.doc.entities:
            self.add(f"{path}.entity", "rule_no_entity", name=rule.entity)
            return
        scope = Scope.for_entity(self.doc, rule.entity)
        trigger = rule.trigger
        at = f"{path}.trigger"
        for name in trigger.fields or []:
            self.field(f"{at}.fields", rule.entity, name)
        if trigger.on == "schedule":
            problem = check_cron(trigger.cron or "")
            if problem:
                self.problems.append(Problem(f"{at}.cron", problem, code="bad_cron"))
        if trigger.on == "date_offset":
            self.field(f"{at}.field", rule.entity, trigger.field,
                       kinds=(FieldType.DATE, FieldType.DATETIME))
            self.duration(f"{at}.offset", trigger.offset)
            self.duration(f"{at}.catch_up", trigger.catch_up)
        if trigger.on == "flow_event" and trigger.flow and trigger.flow not in self.doc.flows:
            self.add(f"{at}.flow", "rule_no_flow", name=trigger.flow)
        if rule.condition is not None:
            self.expression(f"{path}.condition", rule.condition, scope)
        self.actions(path, rule.entity, rule.actions, scope)

    def actions(self, path: str, entity: str, actions: list[Action], scope: Scope) -> None:
        for index, action in enumerate(actions):
            self.action(f"{path}.actions[{index}]", entity, action, scope)

    def action(self, path: str, entity: str, action: Action, scope: Scope) -> None:
        if isinstance(action, SetField):
            if self.field(f"{path}.field", entity, action.field, settable=True):
                self.expression(f"{path}.value", action.value, scope)
                if action.match:
                    self._match(path, entity, action.field, action.match)
        elif isinstance(action, CreateRecord):
            self.targets(path, entity, [action], scope, single=True)
        elif isinstance(action, Convert):
            self.targets(f"{path}.targets", entity, action.targets, scope)
        elif isinstance(action, UpdateRelated):
            self._update_related(path, entity, action, scope)
        elif isinstance(action, Assign):
            self._assign(path, entity, action, scope)
        elif isinstance(action, Tag):
            if self.field(f"{path}.field", entity, action.field, settable=True,
                          kinds=(FieldType.MULTISELECT,)):
                options = self.doc.entities[entity].fields[action.field].option_values()
                for value in [*action.add, *action.remove]:
                    if options and value not in options:
                        self.add(f"{path}.add", "rule_bad_option", value=value,
                                 name=action.field)
        elif isinstance(action, StartFlow) and action.flow not in self.doc.flows:
            self.add(f"{path}.flow", "rule_no_flow", name=action.flow)
        if isinstance(action, CreateTask):
            for name in ("due", "remind_before", "escalate_after"):
                self.duration(f"{path}.{name}", getattr(action, name))
            if action.done_when is not None:
                self.expression(f"{path}.done_when", action.done_when, scope)
        for name in ("title", "body", "subject", "notes"):
            if isinstance(action, Notify | SendEmail | CreateTask):
                self.template(f"{path}.{name}", getattr(action, name, None))
        for person in people(action):
            self.path(f"{path}.recipients", scope, person.field)
            of = getattr(person, "of", None)
            if of not in (None, "owner", "actor"):
                self.path(f"{path}.recipients", scope, of)

    def _match(self, path: str, entity: str, name: str, match: str) -> None:
        field = self.doc.entities[entity].fields[name]
        if field.type is not FieldType.LOOKUP or not field.ref:
            self.add(f"{path}.match", "rule_field_kind", name=name, kind="lookup")
        elif field.ref in self.doc.entities:
            self.field(f"{path}.match", field.ref, match)

    def targets(self, path: str, entity: str, targets: list[RecordTarget], scope: Scope,
                single: bool = False) -> None:
        created: set[str] = set()
        for index, target in enumerate(targets):
            at = path if single else f"{path}[{index}]"
            if target.entity not in self.doc.entities:
                self.add(f"{at}.entity", "rule_no_entity", name=target.entity)
                continue
            for name, value in target.values.items():
                if self.field(f"{at}.values.{name}", target.entity, name, settable=True):
                    if is_created_ref(value) and value["created"] not in created:
                        self.add(f"{at}.values.{name}", "rule_created_ref",
                                 name=value["created"])
                    self.expression(f"{at}.values.{name}", value, scope)
            for name in target.match or []:
                self.field(f"{at}.match", target.entity, name)
            if target.link and self.field(f"{at}.link", entity, target.link, settable=True):
                ref = self.doc.entities[entity].fields[target.link].ref
                if ref != target.entity:
                    self.add(f"{at}.link", "rule_not_lookup_to", name=target.link,
                             entity=target.entity)
            created.add(target.name or target.entity)

    def _update_related(self, path: str, entity: str, action: UpdateRelated,
                        scope: Scope) -> None:
        if action.lookup:
            if not self.field(f"{path}.lookup", entity, action.lookup,
                              kinds=(FieldType.LOOKUP,)):
                return
            target = self.doc.entities[entity].fields[action.lookup].ref or ""
        else:
            target = action.entity or ""
            if target not in self.doc.entities:
                self.add(f"{path}.entity", "rule_no_entity", name=target)
                return
            if self.field(f"{path}.via", target, action.via, kinds=(FieldType.LOOKUP,)) \
                    and self.doc.entities[target].fields[action.via or ""].ref != entity:
                self.add(f"{path}.via", "rule_not_lookup_to", name=action.via, entity=entity)
            if action.condition is not None:
                self.expression(f"{path}.condition", action.condition,
                                Scope.for_entity(self.doc, target))
        if target not in self.doc.entities:
            self.add(f"{path}.lookup", "rule_no_entity", name=target)
            return
        for name, value in action.values.items():
            if self.field(f"{path}.values.{name}", target, name, settable=True):
                self.expression(f"{path}.values.{name}", value, scope)

    def _assign(self, path: str, entity: str, action: Assign, scope: Scope) -> None:
        target = action.field or self.doc.entities[entity].owner()
        self.field(f"{path}.field", entity, target, settable=True, kinds=(FieldType.USER,))
        needs = {"user": action.user, "field": action.source,
                 "round_robin": action.candidates, "least_loaded": action.candidates}
        if action.strategy in needs and not needs[action.strategy]:
            name = {"user": "user", "field": "source"}.get(action.strategy, "candidates")
            self.add(path, "rule_needs", name=name)
        self.path(f"{path}.source", scope, action.source)
        if action.load and action.load.entity and action.load.entity not in self.doc.entities:
            self.add(f"{path}.load.entity", "rule_no_entity", name=action.load.entity)
        elif action.load and action.load.condition is not None:
            self.expression(f"{path}.load.condition", action.load.condition,
                            Scope.for_entity(self.doc, action.load.entity or entity))


# --- cycles -------------------------------------------------------------------------------

def _writes(rule: RuleSpec, doc: AppDocument) -> list[tuple[str, str, frozenset[str], bool]]:
    """(operation, entity, fields, same save) of every record change a rule's actions make."""
    found = []
    for action in rule.actions:
        if isinstance(action, SetField | Tag | Assign):
            name = action.field or doc.entities[rule.entity].owner() or "owner"
            found.append(("update", rule.entity, frozenset({name}), True))
        elif isinstance(action, CreateRecord | Convert):
            targets = [action] if isinstance(action, CreateRecord) else action.targets
            for target in targets:
                found.append(("create", target.entity, frozenset(target.values), False))
                if target.link:
                    found.append(("update", rule.entity, frozenset({target.link}), False))
        elif isinstance(action, UpdateRelated):
            field = doc.entities[rule.entity].fields.get(action.lookup or "")
            target = field.ref if field is not None else action.entity
            if target:
                found.append(("update", target, frozenset(action.values), False))
    return found


def _with_rollups(writes: list[tuple[str, str, frozenset[str], bool]],
                  doc: AppDocument) -> list[tuple[str, str, frozenset[str], bool]]:
    """A change of a child record also updates the parents that roll it up."""
    found = list(writes)
    for _operation, entity, _fields, _same in writes:
        for parent, spec in doc.entities.items():
            for name, field in spec.fields.items():
                if field.type is FieldType.ROLLUP and field.rollup and \
                        field.rollup.entity == entity:
                    found.append(("update", parent, frozenset({name}), False))
    return found


def _sets_off(write: tuple[str, str, frozenset[str], bool], other: RuleSpec) -> bool:
    operation, entity, fields, same_save = write
    trigger = other.trigger
    if other.entity != entity:
        return False
    if trigger.on == "field_change":
        return not trigger.fields or bool(fields & set(trigger.fields))
    if same_save:  # a change inside a save does not start another save
        return False
    return trigger.on == operation


def rule_cycles(doc: AppDocument, broken: frozenset[str] = frozenset()) -> list[Problem]:
    """Rules that set each other off in a circle, among the enabled rules that are not
    ``broken`` (what a broken rule writes is not known for sure)."""
    rules = {name: rule for name, rule in doc.rules.items()
             if rule.enabled and rule.entity in doc.entities and name not in broken}
    # a rule fires at most once per save: setting its own trigger field is no loop
    writes = {name: _with_rollups(_writes(rule, doc), doc) for name, rule in rules.items()}
    edges = {name: sorted(other for other, spec in rules.items()
                          if any(_sets_off(w, spec) and not (w[3] and other == name)
                                 for w in writes[name]))
             for name in rules}
    problems, reported = [], set()
    for start in sorted(rules):
        cycle = _cycle_from(start, edges)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            problems.append(Problem(f"rules.{start}", message(
                "rule_cycle", cycle=" → ".join([*cycle, cycle[0]])), code="rule_cycle"))
    return problems


def _cycle_from(start: str, edges: dict[str, list[str]]) -> list[str] | None:
    stack = [(start, [start])]
    seen = set()
    while stack:
        node, trail = stack.pop()
        for nxt in edges.get(node, []):
            if nxt == start:
                return trail
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*trail, nxt]))
    return None


def check_rules(doc: AppDocument) -> list[Problem]:
    """Every problem of the app's rules and record actions."""
    checker = MetadataChecker(doc)
    broken = set()
    for name, rule in doc.rules.items():
        before = len(checker.problems)
        checker.rule(f"rules.{name}", rule)
        if len(checker.problems) > before:
            broken.add(name)
    for entity_name, entity in doc.entities.items():
        if not entity.actions:
            continue
        scope = Scope.for_entity(doc, entity_name)
        for name, button in entity.actions.items():
            path = f"entities.{entity_name}.actions.{name}"
            if button.condition is not None:
                checker.expression(f"{path}.condition", button.condition, scope)
            checker.actions(f"{path}.steps", entity_name, button.steps, scope)
    return checker.problems + rule_cycles(doc, frozenset(broken))
