"""Static checks of an app document: references between items and per-type requirements.

Expressions (formulas, conditions) are checked by the engines, which know the language;
this module only knows the metamodel.
"""

from __future__ import annotations

import re

from loom.metamodel.app import AppDocument
from loom.metamodel.entity import SYSTEM_FIELDS, EntitySpec
from loom.metamodel.errors import Problem
from loom.metamodel.fields import (
    FORMULA_RESULT_TYPES,
    NON_UNIQUE_TYPES,
    NUMBER_TYPES,
    FieldSpec,
    FieldType,
)
from loom.metamodel.i18n import message as _msg
from loom.metamodel.i18n import register_messages
from loom.metamodel.jobs import check_jobs
from loom.metamodel.salvage import UnknownTypeField

# Entity names become part of table names; PostgreSQL allows 63 characters in all.
MAX_ENTITY_NAME = 30
SERIAL_TOKEN = re.compile(r"\{seq(?::(\d+))?\}")

register_messages({
    "check_entity_name_long": {
        "en": "the entity name '{name}' is too long (at most {max} characters)",
        "zh-CN": "实体名称“{name}”过长（最多 {max} 个字符）",
    },
    "check_reserved_field": {
        "en": "'{name}' is a system field every record has; choose another name",
        "zh-CN": "“{name}”是每条记录都有的系统字段，请换一个名称",
    },
    "check_unknown_entity": {
        "en": "there is no entity '{name}' in this app",
        "zh-CN": "此应用中没有实体“{name}”",
    },
    "check_needs": {
        "en": "a {type} field needs '{attribute}'",
        "zh-CN": "{type} 类型的字段需要设置“{attribute}”",
    },
    "check_not_for_type": {
        "en": "'{attribute}' does not apply to a {type} field",
        "zh-CN": "“{attribute}”不适用于 {type} 类型的字段",
    },
    "check_duplicate_option": {
        "en": "the option value '{value}' appears more than once",
        "zh-CN": "选项值“{value}”重复出现",
    },
    "check_unknown_field": {
        "en": "there is no field '{name}' on {entity}",
        "zh-CN": "{entity}上没有字段“{name}”",
    },
    "check_not_lookup_to": {
        "en": "'{name}' on {entity} must be a lookup to {target}",
        "zh-CN": "{entity}上的“{name}”必须是指向{target}的查找字段",
    },
    "check_cannot_be_unique": {
        "en": "a {type} field cannot be unique",
        "zh-CN": "{type} 类型的字段不能设置为唯一",
    },
    "check_serial_format": {
        "en": "the serial format must contain {{seq}} or {{seq:N}}, "
        "e.g. HT-{{YYYY}}{{MM}}-{{seq:4}}",
        "zh-CN": "编号格式必须包含 {{seq}} 或 {{seq:N}}，例如 HT-{{YYYY}}{{MM}}-{{seq:4}}",
    },
    "check_formula_returns": {
        "en": "a formula may return text, integer, decimal, currency, percent, boolean, "
        "date or datetime, not {type}",
        "zh-CN": "公式只能返回文本、整数、小数、金额、百分比、布尔、日期或日期时间，"
        "不能返回 {type}",
    },
    "check_rollup_field_number": {
        "en": "a {function} roll-up needs a number field, and '{name}' is {type}",
        "zh-CN": "{function} 汇总需要数字字段，而“{name}”是 {type}",
    },
    "check_scale_digits": {
        "en": "scale ({scale}) must be smaller than digits ({digits})",
        "zh-CN": "小数位数（{scale}）必须小于总位数（{digits}）",
    },
    "check_min_max": {
        "en": "min ({min}) is larger than max ({max})",
        "zh-CN": "最小值（{min}）大于最大值（{max}）",
    },
    "check_not_user_field": {
        "en": "'{name}' must be a user field",
        "zh-CN": "“{name}”必须是用户字段",
    },
    "check_activity_field_type": {
        "en": "'{name}' must be a field of type {types}",
        "zh-CN": "“{name}”必须是以下类型的字段：{types}",
    },
    "check_key_mismatch": {
        "en": "the name '{name}' differs from its key '{key}'",
        "zh-CN": "名称“{name}”与键“{key}”不一致",
    },
})

# Attributes that belong to one family of types only.
ATTRIBUTE_TYPES: dict[str, frozenset[FieldType]] = {
    "options": frozenset({FieldType.SELECT, FieldType.MULTISELECT}),
    "ref": frozenset({FieldType.LOOKUP}),
    "on_delete": frozenset({FieldType.LOOKUP}),
    "entity": frozenset({FieldType.SUBTABLE}),
    "link_field": frozenset({FieldType.SUBTABLE}),
    "formula": frozenset({FieldType.FORMULA}),
    "rollup": frozenset({FieldType.ROLLUP}),
    "format": frozenset({FieldType.SERIAL}),
    "max_rating": frozenset({FieldType.RATING}),
    "currency": frozenset({FieldType.CURRENCY}),
}


def check_document(doc: AppDocument) -> list[Problem]:
    """Every reference/requirement problem in the document, as a list (empty when fine)."""
    problems: list[Problem] = []
    for key, entity in doc.entities.items():
        problems += _check_entity(doc, key, entity)
    return problems + check_jobs(doc)


def _check_entity(doc: AppDocument, key: str, entity: EntitySpec) -> list[Problem]:
    base = f"entities.{key}"
    problems: list[Problem] = []
    if entity.name and entity.name != key:
        problems.append(Problem(f"{base}.name", _msg("check_key_mismatch", name=entity.name,
                                                     key=key)))
    if len(key) > MAX_ENTITY_NAME:
        problems.append(Problem(base, _msg("check_entity_name_long", name=key,
                                           max=MAX_ENTITY_NAME)))
    for name, spec in entity.fields.items():
        problems += _check_field(doc, entity, key, name, spec, f"{base}.fields.{name}")
    for position, index in enumerate(entity.indexes):
        for field_name in index.fields:
            if field_name not in entity.stored_fields() and field_name not in SYSTEM_FIELDS:
                problems.append(Problem(f"{base}.indexes[{position}].fields",
                                        _msg("check_unknown_field", name=field_name,
                                             entity=key)))
    for attribute in ("title_field", "owner_field"):
        name = getattr(entity, attribute)
        if name and name not in entity.fields and name not in SYSTEM_FIELDS:
            problems.append(Problem(f"{base}.{attribute}",
                                    _msg("check_unknown_field", name=name, entity=key)))
    owner = entity.owner_field
    owner_spec = entity.fields.get(owner or "")
    if owner_spec is not None and owner_spec.type is not FieldType.USER \
            and not isinstance(owner_spec, UnknownTypeField):
        problems.append(Problem(f"{base}.owner_field", _msg("check_not_user_field", name=owner)))
    if entity.activity is not None:
        problems += _check_activity(entity, key, f"{base}.activity")
    return problems


# What each part of an activity may name (a formula returning the type will not do: the
# timeline pages by the stored column).
ACTIVITY_TYPES: dict[str, frozenset[FieldType]] = {
    "at": frozenset({FieldType.DATE, FieldType.DATETIME}),
    "by": frozenset({FieldType.USER}),
    "kind": frozenset({FieldType.SELECT}),
}


def _check_activity(entity: EntitySpec, key: str, base: str) -> list[Problem]:
    assert entity.activity is not None
    problems: list[Problem] = []
    named = [(part, getattr(entity.activity, part)) for part in ACTIVITY_TYPES]
    named += [(f"text[{i}]", name) for i, name in enumerate(entity.activity.text)]
    for part, name in named:
        if name is None:
            continue
        spec = entity.fields.get(name)
        if spec is None or not spec.has_column:
            problems.append(Problem(f"{base}.{part}", _msg("check_unknown_field", name=name,
                                                            entity=key)))
            continue
        wanted = ACTIVITY_TYPES.get(part)
        if wanted is not None and spec.type not in wanted \
                and not isinstance(spec, UnknownTypeField):
            problems.append(Problem(f"{base}.{part}", _msg(
                "check_activity_field_type", name=name,
                types=", ".join(sorted(t.value for t in wanted)))))
    return problems


def _check_field(doc: AppDocument, entity: EntitySpec, entity_key: str, name: str,
                 spec: FieldSpec, path: str) -> list[Problem]:
    problems: list[Problem] = []
    kind = spec.type
    if name in SYSTEM_FIELDS:
        problems.append(Problem(path, _msg("check_reserved_field", name=name)))
    if isinstance(spec, UnknownTypeField):
        return problems + _check_given(doc, entity_key, spec, path)
    for attribute, types in ATTRIBUTE_TYPES.items():
        if getattr(spec, attribute) is not None and kind not in types:
            problems.append(Problem(f"{path}.{attribute}",
                                    _msg("check_not_for_type", attribute=attribute, type=kind)))
    if spec.unique and kind in NON_UNIQUE_TYPES:
        problems.append(Problem(f"{path}.unique", _msg("check_cannot_be_unique", type=kind)))
    if kind in (FieldType.SELECT, FieldType.MULTISELECT):
        problems += _check_options(spec, path)
    elif kind is FieldType.LOOKUP:
        problems += _check_entity_ref(doc, spec.ref, f"{path}.ref", "ref", kind)
    elif kind is FieldType.SUBTABLE:
        problems += _check_subtable(doc, entity_key, spec, path)
    elif kind is FieldType.FORMULA:
        if not spec.formula:
            problems.append(Problem(f"{path}.formula", _msg("check_needs", type=kind,
                                                            attribute="formula")))
        if spec.returns is not None and spec.returns not in FORMULA_RESULT_TYPES:
            problems.append(Problem(f"{path}.returns", _msg("check_formula_returns",
                                                            type=spec.returns)))
    elif kind is FieldType.ROLLUP:
        problems += _check_rollup(doc, entity_key, spec, path)
    elif kind is FieldType.SERIAL and not SERIAL_TOKEN.search(spec.format or ""):
        problems.append(Problem(f"{path}.format", _msg("check_serial_format")))
    if kind in NUMBER_TYPES and spec.scale is not None and spec.scale >= spec.decimal_digits():
        problems.append(Problem(f"{path}.scale", _msg("check_scale_digits", scale=spec.scale,
                                                      digits=spec.decimal_digits())))
    return problems + _check_min_max(spec, path)


def _check_given(doc: AppDocument, entity_key: str, spec: FieldSpec,
                 path: str) -> list[Problem]:
    """A field whose type is unknown: what each attribute it has says on its own (the
    entity it names exists, its options differ, …); nothing that depends on the type."""
    problems: list[Problem] = []
    if spec.options is not None:
        problems += _check_options(spec, path)
    if spec.ref is not None:
        problems += _check_entity_ref(doc, spec.ref, f"{path}.ref", "ref", FieldType.LOOKUP)
    if spec.entity is not None:
        problems += _check_subtable(doc, entity_key, spec, path)
    if spec.rollup is not None:
        problems += _check_rollup(doc, entity_key, spec, path)
    if spec.format is not None and not SERIAL_TOKEN.search(spec.format):
        problems.append(Problem(f"{path}.format", _msg("check_serial_format")))
    return problems + _check_min_max(spec, path)


def _check_min_max(spec: FieldSpec, path: str) -> list[Problem]:
    if spec.min is not None and spec.max is not None and spec.min > spec.max:
        return [Problem(f"{path}.min", _msg("check_min_max", min=spec.min, max=spec.max))]
    return []


def _check_options(spec: FieldSpec, path: str) -> list[Problem]:
    if not spec.options:
        return [Problem(f"{path}.options", _msg("check_needs", type=spec.type,
                                                attribute="options"))]
    problems, seen = [], set()
    for position, option in enumerate(spec.options):
        if option.value in seen:
            problems.append(Problem(f"{path}.options[{position}].value",
                                    _msg("check_duplicate_option", value=option.value)))
        seen.add(option.value)
    return problems


def _check_entity_ref(doc: AppDocument, target: str | None, path: str, attribute: str,
                      kind: FieldType) -> list[Problem]:
    if not target:
        return [Problem(path, _msg("check_needs", type=kind, attribute=attribute))]
    if target not in doc.entities:
        return [Problem(path, _msg("check_unknown_entity", name=target))]
    return []


def _check_back_link(doc: AppDocument, child: str, link: str | None, parent: str,
                     path: str) -> list[Problem]:
    child_spec = doc.entities[child]
    if not link:
        return [Problem(path, _msg("check_needs", type="subtable", attribute="link_field"))]
    link_spec = child_spec.fields.get(link)
    if link_spec is None:
        return [Problem(path, _msg("check_unknown_field", name=link, entity=child))]
    if link_spec.type is not FieldType.LOOKUP or link_spec.ref != parent:
        return [Problem(path, _msg("check_not_lookup_to", name=link, entity=child,
                                   target=parent))]
    return []


def _check_subtable(doc: AppDocument, entity_key: str, spec: FieldSpec,
                    path: str) -> list[Problem]:
    problems = _check_entity_ref(doc, spec.entity, f"{path}.entity", "entity", spec.type)
    if problems:
        return problems
    return _check_back_link(doc, spec.entity or "", spec.link_field, entity_key,
                            f"{path}.link_field")


def _check_rollup(doc: AppDocument, entity_key: str, spec: FieldSpec, path: str) -> list[Problem]:
    rollup = spec.rollup
    if rollup is None:
        return [Problem(f"{path}.rollup", _msg("check_needs", type=spec.type,
                                               attribute="rollup"))]
    problems = _check_entity_ref(doc, rollup.entity, f"{path}.rollup.entity", "entity",
                                 spec.type)
    if problems:
        return problems
    problems = _check_back_link(doc, rollup.entity, rollup.link_field, entity_key,
                                f"{path}.rollup.link_field")
    child = doc.entities[rollup.entity]
    if rollup.function != "count":
        if not rollup.field:
            problems.append(Problem(f"{path}.rollup.field",
                                    _msg("check_needs", type="rollup", attribute="field")))
        elif rollup.field not in child.fields:
            problems.append(Problem(f"{path}.rollup.field",
                                    _msg("check_unknown_field", name=rollup.field,
                                         entity=rollup.entity)))
        else:
            child_type = child.fields[rollup.field].storage_type()
            numeric = child_type in NUMBER_TYPES or child_type is FieldType.INTEGER
            orderable = numeric or child_type in (FieldType.DATE, FieldType.DATETIME)
            if (rollup.function in ("sum", "avg") and not numeric) or not orderable:
                problems.append(Problem(f"{path}.rollup.field",
                                        _msg("check_rollup_field_number",
                                             function=rollup.function, name=rollup.field,
                                             type=child_type)))
    return problems
