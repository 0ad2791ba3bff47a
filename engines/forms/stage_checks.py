"""Publish-time checks of stage SOPs on select options: the key fields exist on the entity
and hold a value of their own, the key conditions are sound conditions on the record, the
time limits are positive ISO 8601 durations, and only a select field's options carry them."""

from __future__ import annotations

from loom.engines.expressions import Scope, check_condition
from loom.engines.timing import parse_duration
from loom.metamodel.app import AppDocument
from loom.metamodel.entity import EntitySpec
from loom.metamodel.errors import Problem
from loom.metamodel.fields import FieldSpec, FieldType, Option
from loom.metamodel.i18n import did_you_mean, message, register_messages

SOP_KEYS = ("guidance", "key_fields", "key_conditions", "time_limit")

register_messages({
    "stage_not_select": {
        "en": "'{attribute}' belongs to the options of a select field (a stage path), and "
              "'{field}' is {type}",
        "zh-CN": "“{attribute}”只能用于单选字段（阶段路径）的选项，而“{field}”是 {type} 类型"},
    "stage_unknown_field": {"en": "{entity} has no field '{field}'{hint_en}",
                            "zh-CN": "{entity}没有字段“{field}”{hint_zh}"},
    "stage_key_field_kind": {
        "en": "'{field}' cannot be a key field: a {type} field holds no value of its own "
              "(use key_conditions with a related aggregate)",
        "zh-CN": "“{field}”不能作为关键字段：{type} 类型的字段本身不存值"
                 "（请使用 key_conditions 和 related 汇总）"},
    "stage_key_field_self": {"en": "'{field}' is the stage field itself",
                             "zh-CN": "“{field}”就是阶段字段本身"},
    "stage_bad_time_limit": {
        "en": "'{value}' is not a time limit: write a positive ISO 8601 duration such as "
              "P7D or PT48H",
        "zh-CN": "“{value}”不是有效的时限：请填写正的 ISO 8601 时长，例如 P7D 或 PT48H"},
})


def check_stage_paths(doc: AppDocument) -> list[Problem]:
    problems: list[Problem] = []
    for entity_name, entity in doc.entities.items():
        for field_name, field in entity.fields.items():
            for position, option in enumerate(field.options or []):
                path = f"entities.{entity_name}.fields.{field_name}.options[{position}]"
                problems += _check_option(doc, entity_name, entity, field_name, field,
                                          option, path)
    return problems


def _check_option(doc: AppDocument, entity_name: str, entity: EntitySpec, field_name: str,
                  field: FieldSpec, option: Option, path: str) -> list[Problem]:
    if not option.sop:
        return []
    if field.type is not FieldType.SELECT:
        key = next(k for k in SOP_KEYS if getattr(option, k) is not None)
        return [Problem(f"{path}.{key}", message("stage_not_select", attribute=key,
                                                 field=field_name, type=field.type.value))]
    problems: list[Problem] = []
    for index, name in enumerate(option.key_fields or []):
        problems += _check_key_field(entity_name, entity, field_name, name,
                                     f"{path}.key_fields[{index}]")
    scope = Scope.for_entity(doc, entity_name)
    for index, condition in enumerate(option.key_conditions or []):
        where = f"{path}.key_conditions[{index}].condition"
        problems += [Problem(f"{where} ({p.field})" if p.field else where, p.message,
                             code=p.code) for p in check_condition(condition.condition, scope)]
    if option.time_limit is not None and not _positive_duration(option.time_limit):
        problems.append(Problem(f"{path}.time_limit", message(
            "stage_bad_time_limit", value=option.time_limit), code="bad_duration"))
    return problems


def _check_key_field(entity_name: str, entity: EntitySpec, stage_field: str, name: str,
                     path: str) -> list[Problem]:
    field = entity.fields.get(name)
    if field is None:
        hint_en, hint_zh = did_you_mean(name, entity.fields)
        return [Problem(path, message("stage_unknown_field", entity=entity_name, field=name,
                                      hint_en=hint_en, hint_zh=hint_zh))]
    if name == stage_field:
        return [Problem(path, message("stage_key_field_self", field=name))]
    if not field.has_column:
        return [Problem(path, message("stage_key_field_kind", field=name,
                                      type=field.type.value))]
    return []


def _positive_duration(text: str) -> bool:
    try:
        duration = parse_duration(text)
    except ValueError:
        return False
    return not duration.negative and (duration.months > 0 or duration.delta.total_seconds() > 0)
