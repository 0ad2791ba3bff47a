"""Validation of user-written metadata with messages a business user can act on.

Every problem at once: JSON Schema (generated from the Pydantic models) for the shape of
the whole document; then each item is read on its own as far as it goes (``salvage.py``)
and the static checks of ``document_checks.py`` look at the references between the sound parts.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from pydantic import ValidationError as PydanticError

from loom.metamodel.app import AppDocument
from loom.metamodel.document_checks import check_document
from loom.metamodel.errors import MetadataInvalid, Problem
from loom.metamodel.i18n import did_you_mean, localize, message, register_messages
from loom.metamodel.paths import format_path
from loom.metamodel.salvage import Salvaged, salvage

# What an enum-valued property is called in a message ("… is not a field type").
ENUM_NOUNS = {
    "type": ("field type", "字段类型"),
    "returns": ("field type", "字段类型"),
    "on_delete": ("on-delete behaviour", "删除行为"),
    "function": ("aggregate function", "汇总函数"),
    "category": ("option category", "选项类别"),
}

JSON_TYPE_NAMES = {
    "string": ("text", "文本"),
    "integer": ("a whole number", "整数"),
    "number": ("a number", "数字"),
    "boolean": ("true or false", "布尔值"),
    "object": ("an object", "对象"),
    "array": ("a list", "列表"),
    "null": ("empty", "空"),
}

register_messages({
    "meta_not_one_of": {
        "en": "'{value}' is not a {noun_en}{hint_en}",
        "zh-CN": "“{value}”不是有效的{noun_zh}{hint_zh}",
    },
    "meta_unknown_property": {
        "en": "'{name}' is not a known property here{hint_en}",
        "zh-CN": "此处没有“{name}”这个属性{hint_zh}",
    },
    "meta_required": {"en": "'{name}' is required", "zh-CN": "缺少必填项“{name}”"},
    "meta_wrong_type": {
        "en": "must be {expected_en}, not {actual_en}",
        "zh-CN": "应为{expected_zh}，而不是{actual_zh}",
    },
    "meta_bad_name": {
        "en": "'{name}' is not a valid API name: use lowercase letters, digits and _, "
        "starting with a letter (at most {max} characters)",
        "zh-CN": "“{name}”不是有效的 API 名称：只能使用小写字母、数字和下划线，"
        "以字母开头（最多 {max} 个字符）",
    },
    "meta_pattern": {
        "en": "'{value}' does not have the expected form",
        "zh-CN": "“{value}”的格式不正确",
    },
    "meta_too_long": {"en": "is too long (at most {max})", "zh-CN": "过长（最多 {max}）"},
    "meta_too_short": {"en": "is too short (at least {min})", "zh-CN": "过短（至少 {min}）"},
    "meta_too_small": {"en": "must be at least {min}", "zh-CN": "不能小于 {min}"},
    "meta_too_large": {"en": "must be at most {max}", "zh-CN": "不能大于 {max}"},
    "meta_invalid": {"en": "{detail}", "zh-CN": "{detail}"},
    "meta_nul": {"en": "must not contain a NUL character (U+0000)",
                 "zh-CN": "不能包含 NUL 字符（U+0000）"},
    "metadata_invalid": {"en": "The metadata has problems", "zh-CN": "元数据有误"},
    "meta_not_object": {
        "en": "the metadata must be a JSON object with an 'app' section",
        "zh-CN": "元数据必须是包含 app 部分的 JSON 对象",
    },
})


@lru_cache(maxsize=1)
def app_json_schema() -> dict[str, Any]:
    """The JSON Schema of an app document, generated from the Pydantic models."""
    schema = _names_as_property_names(AppDocument.model_json_schema())
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Loom app metadata"
    return schema


def _names_as_property_names(node: Any) -> Any:
    """Pydantic writes constrained dict keys as patternProperties, which lets other keys
    through; restate the key pattern as propertyNames so a bad API name is reported."""
    if isinstance(node, dict):
        patterns = node.get("patternProperties")
        if isinstance(patterns, dict) and len(patterns) == 1:
            (pattern, value_schema), = patterns.items()
            names = dict(node.get("propertyNames") or {})
            names["pattern"] = pattern
            node = {key: val for key, val in node.items() if key != "patternProperties"}
            node["propertyNames"] = names
            node["additionalProperties"] = value_schema
        return {key: _names_as_property_names(val) for key, val in node.items()}
    if isinstance(node, list):
        return [_names_as_property_names(item) for item in node]
    return node


@lru_cache(maxsize=1)
def _validators() -> tuple[Draft202012Validator, dict[str, Draft202012Validator]]:
    """The document's frame (its sections and their keys), and a validator per section for
    its items: items are validated one by one, so that an unchanged one is not again."""
    schema = app_json_schema()
    frame = copy.deepcopy(schema)
    items: dict[str, Draft202012Validator] = {}
    for section, sub in schema["properties"].items():
        item = sub if section == "app" else sub["additionalProperties"]
        items[section] = Draft202012Validator({**item, "$defs": schema["$defs"]})
        frame["properties"][section] = {} if section == "app" else {
            key: value for key, value in sub.items() if key != "additionalProperties"}
    return Draft202012Validator(frame), items


class _KnownItems:
    """The schema problems of items already validated, by a digest of their text (a
    draft save changes an item or two of a large document)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.known: OrderedDict[tuple[str, str], list[Problem]] = OrderedDict()

    def problems(self, section: str, item: Any,
                 validator: Draft202012Validator) -> list[Problem]:
        text = json.dumps(item, ensure_ascii=False, default=repr)
        key = (section, hashlib.sha256(text.encode()).hexdigest())
        if key in self.known:
            self.known.move_to_end(key)
            return self.known[key]
        found = [_schema_problem(error) for error in
                 sorted(validator.iter_errors(item), key=lambda e: list(e.absolute_path))]
        self.known[key] = found
        if len(self.known) > self.size:
            self.known.popitem(last=False)
        return found


@lru_cache(maxsize=1)
def _known_items() -> _KnownItems:
    return _KnownItems(size=2048)


def _branch(error: ValidationError) -> list[ValidationError] | None:
    """For a union with a discriminator (rule actions by ``type``): the errors of the
    branch the instance names, or None when it names none."""
    discriminator = error.schema.get("discriminator") if isinstance(error.schema, dict) \
        else None
    if not discriminator or not isinstance(error.instance, dict):
        return None
    named = error.instance.get(discriminator.get("propertyName"))
    # a kind that is not text (a list, an object) names no branch, and cannot be looked up
    target = discriminator.get("mapping", {}).get(named) if isinstance(named, str) else None
    if target is None:
        return None
    branches = error.schema.get(error.validator, [])
    for index, branch in enumerate(branches):
        if branch.get("$ref") == target:
            return [e for e in error.context if e.relative_schema_path
                    and e.relative_schema_path[0] == index]
    return None


def _deepest(error: ValidationError) -> ValidationError:
    """For anyOf/oneOf, pick the branch error that got furthest (not the `null` branch)."""
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        return error
    candidates = _branch(error) or [e for e in error.context
                                    if not (e.validator == "type"
                                            and e.validator_value == "null")]
    if not candidates:
        return error
    best = max(candidates, key=lambda e: (len(e.absolute_path), e.validator != "type"))
    return _deepest(best)


def _unknown_kind(error: ValidationError) -> Problem | None:
    """A union member chosen by a property (``"type": "set_fild"``) that names none."""
    discriminator = error.schema.get("discriminator") if isinstance(error.schema, dict) \
        else None
    if not discriminator or not isinstance(error.instance, dict):
        return None
    name = discriminator.get("propertyName")
    choices = sorted(discriminator.get("mapping", {}))
    value = error.instance.get(name)
    if value in choices:
        return None
    if not isinstance(value, str):  # say what was given, not what the message makes of it
        value = json.dumps(value, ensure_ascii=False, default=str)
    hint_en, hint_zh = did_you_mean(value, choices)
    if not hint_en:
        hint_en, hint_zh = f" (choose one of: {', '.join(choices)})", \
            f"（可选：{'、'.join(choices)}）"
    return Problem(format_path([*error.absolute_path, name]), message(
        "meta_not_one_of", value=value, noun_en=f"valid {name}", noun_zh="有效类型",
        hint_en=hint_en, hint_zh=hint_zh))


def _schema_problem(error: ValidationError) -> Problem:
    unknown = _unknown_kind(error)
    if unknown is not None:
        return unknown
    error = _deepest(error)
    path = list(error.absolute_path)
    kind = error.validator
    where = format_path(path)
    if kind == "enum":
        noun_en, noun_zh = ENUM_NOUNS.get(str(path[-1]) if path else "", ("valid choice", "选项"))
        hint_en, hint_zh = did_you_mean(error.instance, error.validator_value)
        if not hint_en:
            choices = ", ".join(str(v) for v in error.validator_value)
            hint_en, hint_zh = f" (choose one of: {choices})", f"（可选：{choices}）"
        return Problem(where, message("meta_not_one_of", value=error.instance, noun_en=noun_en,
                                      noun_zh=noun_zh, hint_en=hint_en, hint_zh=hint_zh))
    if kind == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        extras = [name for name in error.instance if name not in known]
        name = extras[0] if extras else "?"
        hint_en, hint_zh = did_you_mean(name, known)
        return Problem(format_path([*path, name]),
                       message("meta_unknown_property", name=name, hint_en=hint_en,
                               hint_zh=hint_zh))
    if kind == "required":
        missing = [n for n in error.validator_value if n not in (error.instance or {})]
        name = missing[0] if missing else "?"
        return Problem(format_path([*path, name]), message("meta_required", name=name))
    if kind == "type":
        expected = error.validator_value
        expected = expected[0] if isinstance(expected, list) else expected
        actual = _json_type(error.instance)
        exp_en, exp_zh = JSON_TYPE_NAMES.get(expected, (expected, expected))
        act_en, act_zh = JSON_TYPE_NAMES.get(actual, (actual, actual))
        return Problem(where, message("meta_wrong_type", expected_en=exp_en, expected_zh=exp_zh,
                                      actual_en=act_en, actual_zh=act_zh))
    if "propertyNames" in error.relative_schema_path:
        # a bad key: jsonschema reports the parent's path; name the key itself
        return Problem(format_path([*path, error.instance]),
                       message("meta_bad_name", name=error.instance, max=40))
    if kind == "pattern":
        return Problem(where, message("meta_pattern", value=error.instance))
    if kind in ("maxLength", "maxItems"):
        return Problem(where, message("meta_too_long", max=error.validator_value))
    if kind in ("minLength", "minItems"):
        return Problem(where, message("meta_too_short", min=error.validator_value))
    if kind in ("minimum", "exclusiveMinimum"):
        return Problem(where, message("meta_too_small", min=error.validator_value))
    if kind in ("maximum", "exclusiveMaximum"):
        return Problem(where, message("meta_too_large", max=error.validator_value))
    return Problem(where, message("meta_invalid", detail=error.message))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def nul_problems(document: Any) -> list[Problem]:
    """Every text or name holding U+0000: no label, name or expression needs one, and
    PostgreSQL cannot store one (walked without recursion: documents may nest deeply)."""
    problems: list[Problem] = []
    stack: list[tuple[list[Any], Any]] = [([], document)]
    while stack:
        path, node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) \
            if isinstance(node, list) else ()
        for key, value in items:
            if isinstance(key, str) and "\x00" in key:
                problems.append(Problem(format_path([*path, key]), message("meta_nul")))
                continue
            if isinstance(value, str) and "\x00" in value:
                problems.append(Problem(format_path([*path, key]), message("meta_nul")))
            elif isinstance(value, dict | list):
                stack.append(([*path, key], value))
    return sorted(problems, key=lambda problem: problem.field or "")


def schema_problems(document: Any) -> list[Problem]:
    """Every structural problem of ``document`` against the app JSON Schema."""
    if not isinstance(document, dict):
        return [Problem(None, message("meta_not_object"))]
    frame, validators = _validators()
    problems: list[Problem] = nul_problems(document)
    for error in sorted(frame.iter_errors(document), key=lambda e: list(e.absolute_path)):
        problems.append(_schema_problem(error))
    for section, validator in validators.items():
        items = {None: document[section]} if section == "app" and section in document \
            else document.get(section)
        if not isinstance(items, dict):
            continue  # the frame said so
        for name, item in items.items():
            prefix = format_path([section] if name is None else [section, name])
            problems += [_placed(prefix, problem) for problem
                         in _known_items().problems(section, item, validator)]
    return _dedupe(problems)


def _placed(prefix: str, problem: Problem) -> Problem:
    """A problem of an item, at its place in the document."""
    where = problem.field
    field = prefix if not where else f"{prefix}{where}" if where.startswith("[") \
        else f"{prefix}.{where}"
    return Problem(field, problem.message, problem.code)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str | None, str]] = set()
    unique = []
    for problem in problems:
        key = (problem.field, localize(problem.message, "en"))
        if key not in seen:
            seen.add(key)
            unique.append(problem)
    return unique


def in_order(problems: list[Problem]) -> list[Problem]:
    """Problems without repeats, sorted by path (those of the whole document first)."""
    return sorted(_dedupe(problems), key=lambda problem: problem.field or "")


@dataclass(frozen=True)
class DocumentReading:
    """A document read as far as it goes: its problems of shape and of references, and its
    sound parts (``salvaged``) for the checks that need typed items."""

    problems: list[Problem]
    salvaged: Salvaged | None  # None: not an app document at all

    def after_repairs(self, problems: list[Problem]) -> list[Problem]:
        """Problems found on the salvaged document, less those at places the shape
        problems already speak for."""
        if self.salvaged is None:
            return []
        return [p for p in problems if not self.salvaged.covers(p.field)]


def read_document(document: Any) -> DocumentReading:
    """Every problem of shape and of references in ``document`` at once: the schema
    checks the whole document, and each item is read on its own, so one broken field or
    rule hides nothing else."""
    problems = schema_problems(document)
    if not isinstance(document, dict):
        return DocumentReading(problems, None)
    salvaged = salvage(document)
    found = [p for p in check_document(salvaged.document) if not salvaged.covers(p.field)]
    return DocumentReading(in_order(problems + found), salvaged)


def strict_document(document: Any) -> AppDocument:
    """A document without problems as its typed model (the schema should have caught
    anything the models refuse; should it not, that is reported, never a crash)."""
    try:
        return AppDocument.model_validate(document)
    except PydanticError as exc:
        raise MetadataInvalid(message("metadata_invalid"), [
            Problem(format_path(err["loc"]), message("meta_invalid", detail=err["msg"]))
            for err in exc.errors()]) from None


def parse_document(document: Any) -> AppDocument:
    """Validate a user-supplied app document; raise MetadataInvalid listing every problem
    of shape and references (the engines' checks come on top: ``engines.checks``)."""
    reading = read_document(document)
    if reading.problems:
        raise MetadataInvalid(message("metadata_invalid"), reading.problems)
    return strict_document(document)
