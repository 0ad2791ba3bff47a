"""Errors of the expression language, with their messages in zh-CN and English."""

from __future__ import annotations

from typing import Any

from loom.metamodel.errors import BadRequest, Problem
from loom.metamodel.i18n import Message, message, register_messages

register_messages({
    "expr_syntax": {
        "en": "Formula error at column {column}: {detail}",
        "zh-CN": "公式第 {column} 列有误：{detail}",
    },
    "expr_unexpected": {"en": "unexpected '{token}'", "zh-CN": "不应出现“{token}”"},
    "expr_unexpected_end": {"en": "the formula ends too early",
                            "zh-CN": "公式不完整"},
    "expr_expected": {"en": "expected {expected} but found '{token}'",
                      "zh-CN": "此处应为{expected}，实际为“{token}”"},
    "expr_unclosed_text": {"en": "text is not closed with a quote",
                           "zh-CN": "文本缺少结束引号"},
    "expr_bad_number": {"en": "'{token}' is not a number", "zh-CN": "“{token}”不是数字"},
    "expr_unknown_function": {"en": "there is no function {name}{hint}",
                              "zh-CN": "没有函数 {name}{hint}"},
    "expr_unknown_operator": {"en": "there is no operator '{name}'{hint}",
                              "zh-CN": "没有运算符“{name}”{hint}"},
    "expr_did_you_mean": {"en": " (did you mean {suggestion}?)",
                          "zh-CN": "（您是想用 {suggestion} 吗？）"},
    "expr_arity": {"en": "{name} takes {expected} argument(s), not {given}",
                   "zh-CN": "{name} 需要 {expected} 个参数，而不是 {given} 个"},
    "expr_bad_argument": {"en": "{name}: {detail}", "zh-CN": "{name}：{detail}"},
    "expr_too_deep": {"en": "the expression is nested too deeply (at most {max} levels)",
                      "zh-CN": "表达式嵌套过深（最多 {max} 层）"},
    "expr_too_large": {"en": "the expression is too large (at most {max} parts)",
                       "zh-CN": "表达式过大（最多 {max} 个部分）"},
    "expr_too_long": {"en": "the formula is too long (at most {max} characters)",
                      "zh-CN": "公式过长（最多 {max} 个字符）"},
    "expr_too_many_steps": {
        "en": "the expression needs too many steps (more than {max}); simplify it",
        "zh-CN": "表达式计算步骤过多（超过 {max} 步），请简化",
    },
    "expr_value_too_large": {"en": "a result is too large ({what})",
                             "zh-CN": "计算结果过大（{what}）"},
    "expr_nul": {"en": "text must not contain a NUL character (U+0000)",
                 "zh-CN": "文本不能包含 NUL 字符（U+0000）"},
    "expr_division_by_zero": {"en": "division by zero", "zh-CN": "除数为零"},
    "expr_not_a_number": {"en": "'{value}' is not a number", "zh-CN": "“{value}”不是数字"},
    "expr_not_a_date": {"en": "'{value}' is not a date", "zh-CN": "“{value}”不是日期"},
    "expr_bad_unit": {"en": "'{unit}' is not one of {units}",
                      "zh-CN": "“{unit}”不是以下之一：{units}"},
    "expr_start_after_end": {"en": "the start date is after the end date",
                             "zh-CN": "开始日期晚于结束日期"},
    "expr_runtime": {"en": "{detail} (at column {column})",
                     "zh-CN": "{detail}（第 {column} 列）"},
    "expr_unknown_field": {"en": "'{name}' is not a field of {entity}{hint}",
                           "zh-CN": "“{name}”不是{entity}的字段{hint}"},
    "expr_not_lookup": {"en": "'{name}' is not a lookup, so '{path}' cannot be followed",
                        "zh-CN": "“{name}”不是查找字段，无法引用“{path}”"},
    "expr_type_mismatch": {"en": "{operator} compares {left} with {right}",
                           "zh-CN": "{operator} 在比较{left}与{right}"},
    "expr_not_an_option": {"en": "'{value}' is not an option of {name}{hint}",
                           "zh-CN": "“{value}”不是{name}的可选项{hint}"},
    "expr_needs_type": {"en": "{name} needs {expected}, not {given}",
                        "zh-CN": "{name} 需要{expected}，而不是{given}"},
    "expr_related_unavailable": {
        "en": "related-record aggregates are computed by the database; this evaluation "
        "has no access to it",
        "zh-CN": "关联记录汇总需要由数据库计算，当前计算无法访问数据库",
    },
    "expr_unknown_entity": {"en": "there is no entity '{name}'",
                            "zh-CN": "没有实体“{name}”"},
    "expr_bad_via": {"en": "'{via}' on {entity} is not a lookup to {parent}",
                     "zh-CN": "{entity}上的“{via}”不是指向{parent}的查找字段"},
})

# Words used inside messages, by locale.
TYPE_WORDS: dict[str, dict[str, str]] = {
    "number": {"en": "a number", "zh-CN": "数字"},
    "integer": {"en": "a whole number", "zh-CN": "整数"},
    "text": {"en": "text", "zh-CN": "文本"},
    "boolean": {"en": "true/false", "zh-CN": "布尔值"},
    "date": {"en": "a date", "zh-CN": "日期"},
    "datetime": {"en": "a date and time", "zh-CN": "日期时间"},
    "list": {"en": "a list", "zh-CN": "列表"},
    "object": {"en": "an object", "zh-CN": "对象"},
    "null": {"en": "blank", "zh-CN": "空值"},
    "any": {"en": "a value", "zh-CN": "值"},
}


class ExpressionError(BadRequest):
    """A condition or formula that cannot be compiled or evaluated; ``position`` is the
    1-based column in formula text where there is one."""

    type_slug = "expression-error"
    title = "Expression error"

    def __init__(self, detail: Message | str, position: int | None = None,
                 problems: list[Problem] | None = None) -> None:
        if position is not None and isinstance(detail, Message) and detail.key != "expr_syntax":
            detail = message("expr_runtime", detail=detail, column=position)
        super().__init__(detail, problems)
        self.position = position


class NotTranslatable(BadRequest):
    """The expression, or a part of it, has no SQL form; ``str(error)`` says why."""

    type_slug = "not-translatable"
    title = "Not translatable to SQL"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BeyondColumn(NotTranslatable):
    """A number compared with a whole-number column (an id, a lookup, an integer) beyond
    what a 64-bit column holds: no database takes it as a parameter of such a column."""

    def __init__(self, path: str, value: Any) -> None:
        super().__init__(f"'{path}' cannot hold {value}")
        self.path = path
        self.value = value


def fail(key: str, position: int | None = None, **params: Any) -> ExpressionError:
    """An ExpressionError for catalog message ``key``."""
    return ExpressionError(message(key, **params), position)
