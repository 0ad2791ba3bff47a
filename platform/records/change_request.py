"""Reading a change request: which fields it sets, as typed values, and what is wrong
with it. Nothing here touches the database."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from loom.engines.field_values.coercion import BadValue, coerce
from loom.metamodel.entity import SYSTEM_FIELDS, EntitySpec
from loom.metamodel.errors import BadRequest, Problem
from loom.metamodel.fields import FieldType
from loom.metamodel.i18n import did_you_mean, message, register_messages
from loom.platform.security.permissions import Access

register_messages({
    "record_not_object": {"en": "A record must be a JSON object of field values",
                          "zh-CN": "记录必须是由字段值组成的 JSON 对象"},
    "unknown_field_hint": {
        "en": "'{name}' is not a field of {entity}{hint_en}",
        "zh-CN": "“{name}”不是{entity}的字段{hint_zh}",
    },
    "not_writable": {"en": "You may not change {label}", "zh-CN": "您不能修改{label}"},
    "subtable_write": {
        "en": "{label}: line items are written as {child} records",
        "zh-CN": "{label}：明细行请作为{child}记录单独保存",
    },
})


def field_problem(spec: EntitySpec, name: str, error: BadValue) -> Problem:
    return Problem(name, message(error.key, label=spec.field_label(name), **error.params),
                   code=error.key)


def read_changes(spec: EntitySpec, data: Any, access: Access, *, tz: tzinfo,
                 current: Mapping[str, Any] | None = None,
                 trusted: bool = False) -> tuple[dict[str, Any], list[Problem]]:
    """The typed values ``data`` sets, and the problems found (all of them).

    System fields (id, version, …) and computed fields are ignored, so a client may send a
    record back as it read it. A read-only or not-permitted field is an error only when the
    request tries to change its value. ``trusted`` writers (rules, flows) may set
    read-only fields.
    """
    if not isinstance(data, Mapping):
        raise BadRequest(message("record_not_object"))
    changes: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, raw in data.items():
        if name in SYSTEM_FIELDS:
            continue
        field = spec.fields.get(name)
        if field is None:
            problems.append(_unknown(spec, name))
            continue
        if field.computed:
            continue
        if field.type is FieldType.SUBTABLE:
            problems.append(Problem(name, message("subtable_write", label=spec.field_label(name),
                                                  child=field.entity)))
            continue
        try:
            value = coerce(field, raw, tz=tz)
        except BadValue as error:
            problems.append(field_problem(spec, name, error))
            continue
        if (field.readonly and not trusted) or not access.can_write(name):
            if current is not None and current.get(name) == value:
                continue
            if current is None and value is None:
                continue
            problems.append(Problem(name, message("not_writable", label=spec.field_label(name)),
                                    code="read_only"))
            continue
        changes[name] = value
    return changes, problems


def check_set_values(spec: EntitySpec, before: Mapping[str, Any], record: dict[str, Any], *,
                     tz: tzinfo) -> list[Problem]:
    """Type and check, like input, the values set on ``record`` since ``before`` (by rules
    before the save): the pipeline validates whatever the source. A refused value is
    cleared so the checks that follow never see it."""
    problems: list[Problem] = []
    for name, value in list(record.items()):
        field = spec.fields.get(name)
        if field is None or field.computed or not field.has_column or value == before.get(name):
            continue
        try:
            record[name] = coerce(field, value, tz=tz)
        except BadValue as error:
            problems.append(field_problem(spec, name, error))
            record[name] = None
    return problems


def _unknown(spec: EntitySpec, name: str) -> Problem:
    hint_en, hint_zh = did_you_mean(name, spec.fields)
    return Problem(str(name), message("unknown_field_hint", name=name, entity=spec.label,
                                      hint_en=hint_en, hint_zh=hint_zh), code="unknown_field")


def literal_defaults(spec: EntitySpec, given: Mapping[str, Any], *,
                     tz: tzinfo) -> dict[str, Any]:
    """Literal default values of the fields a new record was not given."""
    defaults: dict[str, Any] = {}
    for name, field in spec.fields.items():
        if name in given or field.default is None or field.computed:
            continue
        if isinstance(field.default, dict):
            continue  # expression defaults are evaluated by the expression engine
        try:
            defaults[name] = coerce(field, field.default, tz=tz)
        except BadValue:
            continue  # refused at publish; never block a write on it
    return defaults
