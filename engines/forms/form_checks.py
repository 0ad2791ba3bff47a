"""Publish-time checks of forms: every field, sub-table and related list a form names
exists and fits its place, each field is placed once, the visible / required / readonly
conditions are sound conditions on the form's entity, and each related list's path of
lookups leads back to the form's entity."""

from __future__ import annotations

from typing import Any

from loom.engines.expressions import Scope, check_condition
from loom.engines.query.view_checks import check_columns, check_filter, check_sort
from loom.metamodel.app import AppDocument
from loom.metamodel.entity import SYSTEM_FIELDS, EntitySpec
from loom.metamodel.errors import Problem
from loom.metamodel.fields import FieldType
from loom.metamodel.forms import FormSpec, RelatedListSpec, SectionSpec
from loom.metamodel.i18n import message, register_messages

register_messages({
    "form_unknown_entity": {"en": "there is no entity '{entity}' in this app",
                            "zh-CN": "本应用中没有实体“{entity}”"},
    "form_unknown_field": {"en": "{entity} has no field '{field}'",
                           "zh-CN": "{entity}没有字段“{field}”"},
    "form_placed_twice": {"en": "the field '{field}' is placed more than once",
                          "zh-CN": "字段“{field}”被放置了多次"},
    "form_subtable_as_field": {
        "en": "'{field}' is a sub-table: place it under the section's subtables",
        "zh-CN": "“{field}”是子表，请放在分区的 subtables 中"},
    "form_not_subtable": {"en": "'{field}' is a {type} field, not a sub-table",
                          "zh-CN": "“{field}”是 {type} 类型的字段，不是子表"},
    "form_tabs_and_sections": {
        "en": "a form has either tabs (each with sections) or sections, not both",
        "zh-CN": "表单要么使用页签（每个页签包含分区），要么直接使用分区，不能同时使用"},
    "form_empty": {"en": "a form needs at least one section",
                   "zh-CN": "表单至少需要一个分区"},
    "form_duplicate_name": {"en": "the name '{name}' is used twice",
                            "zh-CN": "名称“{name}”重复使用"},
    "form_bad_via": {
        "en": "'{via}' on {entity} does not lead to {target}: give a lookup of {entity} to "
              "{target}, or a path of lookups ending at one",
        "zh-CN": "{entity}上的“{via}”不能关联到{target}：请填写{entity}指向{target}的查找字段，"
                 "或以其结尾的查找字段路径"},
})


def check_forms(doc: AppDocument) -> list[Problem]:
    problems: list[Problem] = []
    for name, form in doc.forms.items():
        problems += _check_form(doc, f"forms.{name}", form)
    return problems


def _check_form(doc: AppDocument, base: str, form: FormSpec) -> list[Problem]:
    spec = doc.entities.get(form.entity)
    if spec is None:
        return [Problem(f"{base}.entity", message("form_unknown_entity", entity=form.entity))]
    problems: list[Problem] = []
    if form.tabs and form.sections:
        problems.append(Problem(base, message("form_tabs_and_sections")))
    sections = form.all_sections()
    if not sections:
        problems.append(Problem(base, message("form_empty")))
    scope = Scope.for_entity(doc, form.entity)
    placed: set[str] = set()
    problems += _unique_names([t.name for t in form.tabs], f"{base}.tabs")
    problems += _unique_names([s.name for _, s in sections], f"{base}.sections")
    for t, tab in enumerate(form.tabs):
        problems += _condition(scope, tab.visible, f"{base}.tabs[{t}].visible")
    for path, section in sections:
        problems += _check_section(doc, spec, scope, section, f"{base}.{path}", placed)
    problems += _unique_names([r.key for r in form.related], f"{base}.related")
    for position, related in enumerate(form.related):
        problems += check_related(doc, form.entity, related, f"{base}.related[{position}]")
    return problems


def _check_section(doc: AppDocument, spec: EntitySpec, scope: Scope, section: SectionSpec,
                   base: str, placed: set[str]) -> list[Problem]:
    problems = _condition(scope, section.visible, f"{base}.visible")
    for position, placement in enumerate(section.placements()):
        where = f"{base}.fields[{position}]"
        field = spec.fields.get(placement.field)
        if field is None and placement.field not in SYSTEM_FIELDS:
            problems.append(Problem(where, message("form_unknown_field", entity=spec.label,
                                                   field=placement.field)))
            continue
        if field is not None and field.type is FieldType.SUBTABLE:
            problems.append(Problem(where, message("form_subtable_as_field",
                                                   field=placement.field)))
        if placement.field in placed:
            problems.append(Problem(where, message("form_placed_twice", field=placement.field)))
        placed.add(placement.field)
        for attribute in ("visible", "required", "readonly"):
            problems += _condition(scope, getattr(placement, attribute), f"{where}.{attribute}")
    for position, sub in enumerate(section.subtables):
        where = f"{base}.subtables[{position}]"
        field = spec.fields.get(sub.field)
        if field is None or field.type is not FieldType.SUBTABLE or not field.entity:
            key = "form_unknown_field" if field is None else "form_not_subtable"
            problems.append(Problem(f"{where}.field", message(
                key, entity=spec.label, field=sub.field,
                type=field.type.value if field else "")))
            continue
        if sub.field in placed:
            problems.append(Problem(where, message("form_placed_twice", field=sub.field)))
        placed.add(sub.field)
        if field.entity in doc.entities:
            problems += check_columns(doc, field.entity, sub.columns, f"{where}.columns")
        for attribute in ("visible", "readonly"):
            problems += _condition(scope, getattr(sub, attribute), f"{where}.{attribute}")
    return problems


def check_related(doc: AppDocument, target: str, related: RelatedListSpec,
                  base: str) -> list[Problem]:
    """A related list: its entity exists, ``via`` leads back to ``target``, and its
    columns, sort and filter fit that entity."""
    spec = doc.entities.get(related.entity)
    if spec is None:
        return [Problem(f"{base}.entity", message("form_unknown_entity",
                                                  entity=related.entity))]
    problems: list[Problem] = []
    if not leads_to(doc, related.entity, related.via, target):
        problems.append(Problem(f"{base}.via", message(
            "form_bad_via", via=related.via, entity=spec.label,
            target=doc.entities[target].label)))
    if related.columns is not None:
        problems += check_columns(doc, related.entity, related.columns, f"{base}.columns")
    problems += check_sort(spec, related.sort, f"{base}.sort")
    problems += check_filter(doc, related.entity, related.filter, f"{base}.filter")
    return problems


def leads_to(doc: AppDocument, entity: str, via: str, target: str) -> bool:
    """Whether the lookup path ``via`` from ``entity`` goes through lookups only and ends
    at a lookup to ``target``."""
    current = entity
    for step in via.split("."):
        spec = doc.entities.get(current)
        field = spec.fields.get(step) if spec is not None else None
        if field is None or field.type is not FieldType.LOOKUP or not field.ref:
            return False
        current = field.ref
    return current == target


def _condition(scope: Scope, condition: Any, path: str) -> list[Problem]:
    if not isinstance(condition, dict):
        return []
    return [Problem(f"{path} ({p.field})" if p.field else path, p.message, code=p.code)
            for p in check_condition(condition, scope)]


def _unique_names(names: list[str], path: str) -> list[Problem]:
    seen: set[str] = set()
    problems = []
    for name in names:
        if name in seen:
            problems.append(Problem(path, message("form_duplicate_name", name=name)))
        seen.add(name)
    return problems
