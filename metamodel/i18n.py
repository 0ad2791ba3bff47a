"""Localized text: labels in metadata and messages the platform shows to people.

Labels are written as ``{"zh-CN": "线索", "en": "Lead"}`` (or a plain string, used for every
language). Messages are kept as a key plus parameters and rendered at the edge, in the
language of whoever reads them, so the engines never decide the language.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"


def pick_locale(accept_language: str | None, default: str = DEFAULT_LOCALE) -> str:
    """Choose zh-CN or en from an Accept-Language header (quality values honoured)."""
    if not accept_language:
        return default
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return default


def localize(text: Any, locale: str) -> str:
    """Render a label (plain string or {locale: text}) in ``locale`` with sensible fallbacks."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    if isinstance(text, Mapping):
        for candidate in (locale, locale.split("-")[0], "en", DEFAULT_LOCALE):
            if text.get(candidate):
                return str(text[candidate])
        for value in text.values():
            if value:
                return str(value)
        return ""
    if isinstance(text, Message):
        return text.render(locale)
    return str(text)


# Message catalog: one entry per thing the platform can say to a person.
CATALOG: dict[str, dict[str, str]] = {
    # record validation
    "required": {"en": "{label} is required", "zh-CN": "{label}为必填项"},
    "not_a_number": {
        "en": "{label}: '{value}' is not a number (write it like 1234.5 or 1,234.50)",
        "zh-CN": "{label}：“{value}”不是数字（请写成 1234.5 或 1,234.50 这样）",
    },
    "not_an_integer": {"en": "{label} must be a whole number", "zh-CN": "{label}必须是整数"},
    "not_text": {"en": "{label} must be text", "zh-CN": "{label}必须是文本"},
    "not_boolean": {"en": "{label} must be true or false", "zh-CN": "{label}必须是“是”或“否”"},
    "not_a_date": {
        "en": "{label}: '{value}' is not a date (write the year first: 2025-08-12, "
              "2025/8/12 or 2025年8月12日)",
        "zh-CN": "{label}：“{value}”不是日期（请年份在前，如 2025-08-12、2025/8/12 或 "
                 "2025年8月12日）",
    },
    "not_a_datetime": {
        "en": "{label}: '{value}' is not a date and time (write it like 2025-08-12 09:30, "
              "2025/8/12 9:30 or 2025-08-12T09:30:00+08:00)",
        "zh-CN": "{label}：“{value}”不是日期时间（请写成 2025-08-12 09:30、2025/8/12 9:30 或 "
                 "2025-08-12T09:30:00+08:00 这样）",
    },
    "moment_out_of_range": {
        "en": "{label} must lie between {first} and {last}",
        "zh-CN": "{label}必须在 {first} 至 {last} 之间",
    },
    "not_a_record_id": {
        "en": "{label}: '{value}' is not a record id (a whole number from 1 to {max})",
        "zh-CN": "{label}：“{value}”不是记录 ID（应为 1 到 {max} 之间的整数）",
    },
    "not_an_email": {
        "en": "{label} must be an email address",
        "zh-CN": "{label}必须是有效的邮箱地址",
    },
    "not_a_phone": {"en": "{label} must be a phone number", "zh-CN": "{label}必须是有效的电话号码"},
    "not_a_url": {
        "en": "{label} must be a web address starting with http:// or https://",
        "zh-CN": "{label}必须是以 http:// 或 https:// 开头的网址",
    },
    "not_an_option": {
        "en": "{label}: '{value}' is not one of the options ({options})",
        "zh-CN": "{label}：“{value}”不是可选项（{options}）",
    },
    "not_a_list": {"en": "{label} must be a list", "zh-CN": "{label}必须是列表"},
    "not_an_object": {"en": "{label} must be an object", "zh-CN": "{label}必须是对象"},
    "too_long": {
        "en": "{label} is too long (at most {max} characters)",
        "zh-CN": "{label}过长（最多 {max} 个字符）",
    },
    "too_small": {"en": "{label} must be at least {min}", "zh-CN": "{label}不能小于 {min}"},
    "too_large": {"en": "{label} must be at most {max}", "zh-CN": "{label}不能大于 {max}"},
    "too_many_digits": {
        "en": "{label} allows {digits} digits before and {scale} after the decimal point",
        "zh-CN": "{label}最多允许 {digits} 位整数和 {scale} 位小数",
    },
    "rating_range": {
        "en": "{label} must be a whole number from 0 to {max}",
        "zh-CN": "{label}必须是 0 到 {max} 之间的整数",
    },
    "not_unique": {
        "en": "{label} '{value}' is already used by another record",
        "zh-CN": "{label}“{value}”已被其他记录使用",
    },
    "missing_reference": {
        "en": "{label}: there is no {target} with id {value}",
        "zh-CN": "{label}：不存在 id 为 {value} 的{target}",
    },
    "missing_user": {
        "en": "{label}: there is no active user {value}",
        "zh-CN": "{label}：不存在有效用户 {value}",
    },
    "missing_department": {
        "en": "{label}: there is no department {value}",
        "zh-CN": "{label}：不存在部门 {value}",
    },
    "bad_location": {
        "en": "{label} must have a latitude between -90 and 90 and a longitude "
        "between -180 and 180",
        "zh-CN": "{label}必须包含 -90 到 90 之间的纬度和 -180 到 180 之间的经度",
    },
    "unknown_field": {
        "en": "'{name}' is not a field of {entity}",
        "zh-CN": "“{name}”不是{entity}的字段",
    },
    "read_only": {"en": "{label} is read-only", "zh-CN": "{label}为只读字段"},
    "referenced": {
        "en": "This record is still used by {count} {entity} record(s) ({label}); "
        "change or delete those first",
        "zh-CN": "该记录仍被 {count} 条{entity}记录引用（{label}），请先修改或删除这些记录",
    },
    # problems at the HTTP edge
    "validation_failed": {
        "en": "The record has {count} problem(s)",
        "zh-CN": "记录有 {count} 处问题",
    },
    "stale_version": {
        "en": "This record was changed by someone else (now at version {current}, "
        "you sent {sent}). Reload it and apply your change again.",
        "zh-CN": "该记录已被他人修改（当前版本 {current}，您提交的是版本 {sent}）。"
        "请刷新后重新修改。",
    },
    "not_found_record": {
        "en": "There is no {entity} with id {id}",
        "zh-CN": "不存在 id 为 {id} 的{entity}",
    },
    # values in sentences
    "value_yes": {"en": "Yes", "zh-CN": "是"},
    "value_no": {"en": "No", "zh-CN": "否"},
    "value_blank": {"en": "blank", "zh-CN": "空"},
}

LIST_SEPARATORS = {"zh-CN": "、", "en": ", "}


def list_text(items: Iterable[str], locale: str) -> str:
    """Items of a list in a sentence: "A、B" in Chinese, "A, B" in English."""
    return LIST_SEPARATORS.get(locale, ", ").join(items)


def register_messages(entries: Mapping[str, Mapping[str, str]]) -> None:
    """Add a module's messages to the catalog (done once, at import)."""
    for key, templates in entries.items():
        if key in CATALOG and CATALOG[key] != templates:
            raise ValueError(f"message key {key!r} registered twice with different text")
        CATALOG[key] = dict(templates)


@dataclass(frozen=True)
class Message:
    """A message key with parameters; rendered in a locale only when someone reads it."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, locale: str = DEFAULT_LOCALE) -> str:
        templates = CATALOG.get(self.key)
        if templates is None:
            return self.key
        template = templates.get(locale) or templates["en"]
        values = {name: localize(value, locale) if not isinstance(value, str | int | float)
                  else value for name, value in self.params.items()}
        try:
            return template.format(**values)
        except (KeyError, IndexError):
            return template


def message(key: str, **params: Any) -> Message:
    """Build a localizable message; ``key`` must be in the catalog."""
    if key not in CATALOG:
        raise KeyError(f"unknown message key {key!r}")
    return Message(key, params)


# --- texts kept for readers to come -----------------------------------------------------
# What a person receives later (a task, a notification) is stored as JSON that renders in
# any language: plain text (the same for everyone), a localized text {"zh-CN", "en"}, or
# a catalog message {"message": key, "params": {name: stored text or number}}. Each reader
# then reads it in their own language.

def stored_text(text: Any) -> Any:
    """``text`` (plain, localized, a Message, or already stored) as JSON to keep."""
    if text is None or isinstance(text, str):
        return text
    if isinstance(text, Message):
        return {"message": text.key,
                "params": {name: _stored_param(value) for name, value in text.params.items()}}
    if isinstance(text, Mapping):
        if "message" in text:
            return {"message": str(text["message"]),
                    "params": {str(k): _stored_param(v)
                               for k, v in (text.get("params") or {}).items()}}
        return {str(locale): str(value) for locale, value in text.items() if value is not None}
    return str(text)


def _stored_param(value: Any) -> Any:
    if value is None or isinstance(value, int | float):  # numbers render as they are
        return value
    return stored_text(value)


def render_text(stored: Any, locale: str) -> str:
    """A stored text in ``locale`` (a localized text falls back as labels do)."""
    if isinstance(stored, Mapping) and "message" in stored:
        params = {name: value if isinstance(value, int | float) else render_text(value, locale)
                  for name, value in (stored.get("params") or {}).items()}
        return Message(str(stored["message"]), params).render(locale)
    return localize(stored, locale)


def in_every_locale(render: Any) -> dict[str, str]:
    """A localized text made by calling ``render(locale)`` for each language."""
    return {locale: render(locale) for locale in LOCALES}


def closest_name(word: object, candidates: Iterable[object]) -> str | None:
    """The known name closest to a mistyped one, if any is close enough."""
    close = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=1,
                                      cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: object, candidates: Iterable[object]) -> tuple[str, str]:
    """The ``hint_en`` and ``hint_zh`` of a message about an unknown name."""
    close = closest_name(word, candidates)
    if close is None:
        return "", ""
    return f"; did you mean '{close}'?", f"；您是不是想用“{close}”？"
