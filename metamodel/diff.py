"""A readable diff between two versions of an app's metadata.

Not a JSON dump: per item (entity, rule, flow, …) what was added, removed or changed, in
the words an administrator uses — "field 'stage' added (select)", "option 'demo' relabelled
方案演示 → 产品演示", "condition changed", "node 'director' added".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from loom.metamodel.app import ITEM_SECTIONS
from loom.metamodel.i18n import DEFAULT_LOCALE, Message, localize, message, register_messages

register_messages({
    "diff_item_added": {"en": "{kind} '{name}' added", "zh-CN": "新增{kind_zh}“{name}”"},
    "diff_item_removed": {"en": "{kind} '{name}' removed", "zh-CN": "删除{kind_zh}“{name}”"},
    "diff_field_added": {"en": "field '{name}' added ({type})",
                         "zh-CN": "新增字段“{name}”（{type}）"},
    "diff_field_removed": {"en": "field '{name}' removed (its data is kept)",
                           "zh-CN": "删除字段“{name}”（数据保留）"},
    "diff_field_changed": {"en": "field '{name}': {attribute} {before} → {after}",
                           "zh-CN": "字段“{name}”：{attribute} {before} → {after}"},
    "diff_option_added": {"en": "field '{name}': option '{value}' added",
                          "zh-CN": "字段“{name}”：新增选项“{value}”"},
    "diff_option_removed": {"en": "field '{name}': option '{value}' removed",
                            "zh-CN": "字段“{name}”：删除选项“{value}”"},
    "diff_option_changed": {"en": "field '{name}': option '{value}' {attribute} {before} → "
                            "{after}",
                            "zh-CN": "字段“{name}”：选项“{value}”的{attribute} {before} → "
                            "{after}"},
    "diff_node_added": {"en": "node '{name}' added ({type})",
                        "zh-CN": "新增节点“{name}”（{type}）"},
    "diff_node_removed": {"en": "node '{name}' removed", "zh-CN": "删除节点“{name}”"},
    "diff_node_changed": {"en": "node '{name}': {attribute} changed",
                          "zh-CN": "节点“{name}”：{attribute}已修改"},
    "diff_edge_added": {"en": "edge {source} → {target} added",
                        "zh-CN": "新增连线 {source} → {target}"},
    "diff_edge_removed": {"en": "edge {source} → {target} removed",
                          "zh-CN": "删除连线 {source} → {target}"},
    "diff_value_changed": {"en": "{attribute}: {before} → {after}",
                           "zh-CN": "{attribute}：{before} → {after}"},
    "diff_attribute_changed": {"en": "{attribute} changed", "zh-CN": "{attribute}已修改"},
})

SECTION_NOUNS = {
    "entities": ("entity", "实体"), "forms": ("form", "表单"), "views": ("view", "视图"),
    "rules": ("rule", "规则"), "flows": ("flow", "流程"), "dashboards": ("dashboard", "看板"),
    "roles": ("role", "角色"), "jobs": ("job", "任务"),
}
# Values longer than this are summarised as "changed" rather than printed.
SHORT = 60
# Field attributes that exported documents leave out when they have their default value.
FIELD_DEFAULTS = {"required": False, "unique": False, "index": False, "readonly": False}


@dataclass(frozen=True)
class Change:
    section: str
    item: str
    kind: str  # added | removed | changed
    path: str
    message: Message
    before: Any = None
    after: Any = None

    def render(self, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
        out = {"section": self.section, "item": self.item, "kind": self.kind,
               "path": self.path, "summary": self.message.render(locale)}
        if self.kind == "changed":
            out["before"], out["after"] = self.before, self.after
        return out


def _short(value: Any) -> str | None:
    if isinstance(value, dict) and set(value) <= {"zh-CN", "en"}:
        text = " / ".join(str(v) for v in value.values())
    elif isinstance(value, str | int | float | bool) or value is None:
        text = "∅" if value is None else str(value).lower() if isinstance(value, bool) \
            else str(value)
    else:
        return None
    return text if len(text) <= SHORT else None


def _value_change(section: str, item: str, path: str, attribute: str, before: Any,
                  after: Any) -> Change:
    shown_before, shown_after = _short(before), _short(after)
    if shown_before is not None and shown_after is not None:
        text = message("diff_value_changed", attribute=attribute, before=shown_before,
                       after=shown_after)
    else:
        text = message("diff_attribute_changed", attribute=attribute)
    return Change(section, item, "changed", path, text, before, after)


def _same_numbers(value: Any) -> Any:
    """The document with every fraction as an exact decimal: a document read from a file has
    0.3 as a float, one read exactly (an API body) as Decimal('0.3') — the same number."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {key: _same_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_same_numbers(item) for item in value]
    return value


def diff_documents(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every difference between two app documents, item by item."""
    old, new = _same_numbers(old), _same_numbers(new)
    changes: list[Change] = []
    for attribute in sorted(set(old.get("app", {})) | set(new.get("app", {}))):
        before, after = old.get("app", {}).get(attribute), new.get("app", {}).get(attribute)
        if before != after:
            changes.append(_value_change("app", "app", f"app.{attribute}", attribute, before,
                                         after))
    for section in ITEM_SECTIONS:
        before_items, after_items = old.get(section) or {}, new.get(section) or {}
        noun, noun_zh = SECTION_NOUNS[section]
        for name in sorted(set(before_items) | set(after_items)):
            path = f"{section}.{name}"
            if name not in before_items:
                changes.append(Change(section, name, "added", path, message(
                    "diff_item_added", kind=noun, kind_zh=noun_zh, name=name)))
            elif name not in after_items:
                changes.append(Change(section, name, "removed", path, message(
                    "diff_item_removed", kind=noun, kind_zh=noun_zh, name=name)))
            elif before_items[name] != after_items[name]:
                differ = _ITEM_DIFFERS.get(section, _diff_generic)
                changes.extend(differ(section, name, before_items[name], after_items[name]))
    return changes


def _diff_generic(section: str, item: str, before: dict[str, Any],
                  after: dict[str, Any]) -> list[Change]:
    changes = []
    for key in sorted(set(before) | set(after), key=str):
        if before.get(key) != after.get(key):
            changes.append(_value_change(section, item, f"{section}.{item}.{key}", key,
                                         before.get(key), after.get(key)))
    return changes


def _diff_entity(section: str, item: str, before: dict[str, Any],
                 after: dict[str, Any]) -> list[Change]:
    changes = []
    old_fields, new_fields = before.get("fields") or {}, after.get("fields") or {}
    base = f"{section}.{item}.fields"
    for name in list(new_fields) + [n for n in old_fields if n not in new_fields]:
        path = f"{base}.{name}"
        if name not in old_fields:
            changes.append(Change(section, item, "added", path, message(
                "diff_field_added", name=name, type=new_fields[name].get("type")),
                after=new_fields[name]))
        elif name not in new_fields:
            changes.append(Change(section, item, "removed", path, message(
                "diff_field_removed", name=name), before=old_fields[name]))
        elif old_fields[name] != new_fields[name]:
            changes.extend(_diff_field(section, item, name, path, old_fields[name],
                                       new_fields[name]))
    rest_before = {k: v for k, v in before.items() if k != "fields"}
    rest_after = {k: v for k, v in after.items() if k != "fields"}
    changes.extend(_diff_generic(section, item, rest_before, rest_after))
    return changes


def _diff_field(section: str, item: str, name: str, path: str, before: dict[str, Any],
                after: dict[str, Any]) -> list[Change]:
    changes = []
    for attribute in sorted(set(before) | set(after)):
        default = FIELD_DEFAULTS.get(attribute)
        old, new = before.get(attribute, default), after.get(attribute, default)
        if old == new:
            continue
        if attribute == "options":
            changes.extend(_diff_options(section, item, name, f"{path}.options", old or [],
                                         new or []))
            continue
        shown_old, shown_new = _short(old), _short(new)
        if shown_old is not None and shown_new is not None:
            text = message("diff_field_changed", name=name, attribute=attribute,
                           before=shown_old, after=shown_new)
        else:
            text = message("diff_node_changed", name=name, attribute=attribute)
        changes.append(Change(section, item, "changed", f"{path}.{attribute}", text, old, new))
    return changes


def _diff_options(section: str, item: str, name: str, path: str, before: list[Any],
                  after: list[Any]) -> list[Change]:
    old = {o.get("value"): o for o in before if isinstance(o, dict)}
    new = {o.get("value"): o for o in after if isinstance(o, dict)}
    changes = []
    for value in list(new) + [v for v in old if v not in new]:
        if value not in old:
            changes.append(Change(section, item, "added", f"{path}.{value}", message(
                "diff_option_added", name=name, value=value), after=new[value]))
        elif value not in new:
            changes.append(Change(section, item, "removed", f"{path}.{value}", message(
                "diff_option_removed", name=name, value=value), before=old[value]))
        else:
            for attribute in sorted(set(old[value]) | set(new[value])):
                a, b = old[value].get(attribute), new[value].get(attribute)
                if a != b:
                    changes.append(Change(section, item, "changed",
                                          f"{path}.{value}.{attribute}", message(
                                              "diff_option_changed", name=name, value=value,
                                              attribute=attribute, before=_short(a) or "…",
                                              after=_short(b) or "…"), a, b))
    return changes


def _diff_flow(section: str, item: str, before: dict[str, Any],
               after: dict[str, Any]) -> list[Change]:
    changes = []
    old_nodes, new_nodes = before.get("nodes") or {}, after.get("nodes") or {}
    base = f"{section}.{item}.nodes"
    for name in list(new_nodes) + [n for n in old_nodes if n not in new_nodes]:
        if name not in old_nodes:
            changes.append(Change(section, item, "added", f"{base}.{name}", message(
                "diff_node_added", name=name, type=new_nodes[name].get("type")),
                after=new_nodes[name]))
        elif name not in new_nodes:
            changes.append(Change(section, item, "removed", f"{base}.{name}", message(
                "diff_node_removed", name=name), before=old_nodes[name]))
        else:
            for attribute in sorted(set(old_nodes[name]) | set(new_nodes[name])):
                a, b = old_nodes[name].get(attribute), new_nodes[name].get(attribute)
                if a != b:
                    changes.append(Change(section, item, "changed",
                                          f"{base}.{name}.{attribute}", message(
                                              "diff_node_changed", name=name,
                                              attribute=attribute), a, b))

    def edge_key(edge: Any) -> str:
        return repr(sorted(edge.items())) if isinstance(edge, dict) else repr(edge)

    old_edges = {edge_key(e): e for e in before.get("edges") or []}
    new_edges = {edge_key(e): e for e in after.get("edges") or []}
    for key, edge in new_edges.items():
        if key not in old_edges:
            changes.append(Change(section, item, "added", f"{section}.{item}.edges", message(
                "diff_edge_added", source=edge.get("from"), target=edge.get("to")),
                after=edge))
    for key, edge in old_edges.items():
        if key not in new_edges:
            changes.append(Change(section, item, "removed", f"{section}.{item}.edges",
                                  message("diff_edge_removed", source=edge.get("from"),
                                          target=edge.get("to")), before=edge))
    rest = ("nodes", "edges")
    changes.extend(_diff_generic(section, item,
                                 {k: v for k, v in before.items() if k not in rest},
                                 {k: v for k, v in after.items() if k not in rest}))
    return changes


_ITEM_DIFFERS = {"entities": _diff_entity, "flows": _diff_flow}


def summarize(changes: list[Change], locale: str = DEFAULT_LOCALE) -> list[str]:
    return [f"{c.section}.{c.item}: {localize(c.message, locale)}" for c in changes]
