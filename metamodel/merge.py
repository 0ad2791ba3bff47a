"""Three-way merge of app documents: a template's new version into an app that was created
from an older version of it and then changed by its own administrators (the layering of
EspoCRM: base, then the app's overlay).

Where only one side changed something, that change is taken. Where both changed the same
thing differently, the app's value is kept and a conflict is listed for an administrator,
who resolves it by choosing ``app`` or ``template`` for its path — an upgrade never
overwrites the app's own edits silently.

Objects merge key by key. Lists whose items have an identity merge item by item too:
select options by ``value``, flow edges by ``from``/``to``/``outcome``; any other list
(rule actions, index columns) is one value, because its order is its meaning.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Literal

Side = Literal["app", "template"]
SIDES: tuple[Side, ...] = ("app", "template")


class _Absent:
    """A key that one side does not have (removed, or never there)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class MergeConflict:
    """The same thing changed on both sides, differently."""

    path: str
    base: Any
    app: Any
    template: Any
    resolution: Side | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path}
        for side in ("base", "app", "template"):
            value = getattr(self, side)
            out[side] = None if value is ABSENT else value
            out[f"{side}_present"] = value is not ABSENT
        out["resolution"] = self.resolution
        return out


@dataclass
class MergeResult:
    document: dict[str, Any]
    conflicts: list[MergeConflict] = field(default_factory=list)

    @property
    def unresolved(self) -> list[MergeConflict]:
        return [c for c in self.conflicts if c.resolution is None]


def merge_documents(base: dict[str, Any], app: dict[str, Any], template: dict[str, Any],
                    resolutions: dict[str, Side] | None = None) -> MergeResult:
    """Merge ``template`` (the new base) into ``app`` (the old ``base`` plus its edits)."""
    merger = _Merger(resolutions or {})
    merged = merger.merge([], base, app, template)
    return MergeResult({} if merged is ABSENT else merged, merger.conflicts)


def _list_identity(items: Any) -> Callable[[dict[str, Any]], Hashable] | None:
    """How the items of a list are told apart, when they can be."""
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        return None
    if all("value" in i for i in items):
        return lambda item: _key_text(item["value"])
    if all("from" in i and "to" in i for i in items):
        return lambda item: f"{item['from']}->{item['to']}" + (
            f":{item['outcome']}" if item.get("outcome") else "")
    return None


def _key_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


class _Merger:
    def __init__(self, resolutions: dict[str, Side]) -> None:
        self.resolutions = resolutions
        self.conflicts: list[MergeConflict] = []

    def merge(self, path: list[str], base: Any, app: Any, template: Any) -> Any:
        if app == template:
            return app
        if app == base:
            return template
        if template == base:
            return app
        if isinstance(app, dict) and isinstance(template, dict):
            return self._merge_objects(path, base if isinstance(base, dict) else {}, app,
                                       template)
        identity = _list_identity(app) if _list_identity(template) else None
        if identity is not None and (base is ABSENT or base == [] or _list_identity(base)):
            return self._merge_keyed_lists(path, base if isinstance(base, list) else [], app,
                                           template, identity)
        return self._conflict(path, base, app, template)

    def _conflict(self, path: list[str], base: Any, app: Any, template: Any) -> Any:
        where = ".".join(path)
        resolution = self.resolutions.get(where)
        self.conflicts.append(MergeConflict(where, base, app, template, resolution))
        return template if resolution == "template" else app

    def _merge_objects(self, path: list[str], base: dict[str, Any], app: dict[str, Any],
                       template: dict[str, Any]) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for key in _ordered_keys(list(app), list(template)):
            value = self.merge([*path, str(key)], base.get(key, ABSENT), app.get(key, ABSENT),
                               template.get(key, ABSENT))
            if value is not ABSENT:
                merged[key] = value
        return merged

    def _merge_keyed_lists(self, path: list[str], base: list[Any], app: list[Any],
                           template: list[Any],
                           identity: Callable[[dict[str, Any]], Hashable]) -> list[Any]:
        by_key = [{identity(item): item for item in items} for items in (base, app, template)]
        merged = self._merge_objects(path, *by_key)
        return list(merged.values())


def _ordered_keys(app: list[Any], template: list[Any]) -> list[Any]:
    """The app's order, with the template's new keys placed after the key they follow in
    the template (a stage added mid-pipeline lands mid-pipeline)."""
    order = list(app)
    present = set(order)
    for index, key in enumerate(template):
        if key in present:
            continue
        after = next((template[j] for j in range(index - 1, -1, -1) if template[j] in present),
                     None)
        order.insert(order.index(after) + 1 if after is not None else 0, key)
        present.add(key)
    return order
