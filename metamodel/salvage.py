"""Reading a broken document as far as it goes, so that every check runs on what is sound.

The JSON Schema reports what is wrong with the shape of a document; the checks behind it
(references, expressions, flows) need typed items. Rather than stopping at the first
broken shape, each item is read on its own, and what cannot be read is left out at the
smallest place that makes the rest readable: an unknown option category, an action of an
unknown kind, a broken label. A field whose type is unknown stays (typed by a stand-in) so
that its other attributes and everything that names it are still checked; an item missing
what it cannot do without (a rule without an entity) is left out whole. The places left out
or stood in for are ``damaged``: the shape problems already speak for them, and the checks
say nothing more there.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import cache
from typing import Any, get_args

from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticError

from loom.metamodel.app import ITEM_SECTIONS, AppDocument, AppInfo
from loom.metamodel.fields import API_NAME_PATTERN, FieldSpec, FieldType
from loom.metamodel.i18n import closest_name
from loom.metamodel.paths import format_path

# Repairs tried on one item before giving up on it: each removes at least one value.
MAX_REPAIRS = 50
# Attributes that say which type a field whose type is unknown was most likely meant to be.
TYPE_HINTS = (("ref", FieldType.LOOKUP), ("options", FieldType.SELECT),
              ("formula", FieldType.FORMULA), ("rollup", FieldType.ROLLUP),
              ("link_field", FieldType.SUBTABLE), ("format", FieldType.SERIAL))
_API_NAME = re.compile(API_NAME_PATTERN)
NAMED_BY_KEY = ("entities", "rules", "flows")  # their name is their key (``to_json``)


class UnknownTypeField(FieldSpec):
    """A field whose ``type`` is not one Loom knows. ``type`` holds a stand-in (the type its
    name or attributes suggest) so the document reads; nothing that depends on the type is
    checked, and expressions treat its value as of any type."""


@dataclass(frozen=True)
class Salvaged:
    document: AppDocument
    damaged: frozenset[str]  # paths (``entities.lead.fields.x.type``) left out or stood in

    def covers(self, path: str | None) -> bool:
        """Whether ``path`` is at or under a damaged place."""
        if not path:
            return False
        return any(path == place or path.startswith((f"{place}.", f"{place}[", f"{place} ("))
                   for place in self.damaged)


def salvage(document: dict[str, Any]) -> Salvaged:
    """The sound parts of ``document`` as an AppDocument, and where parts were left out."""
    damaged: set[str] = set()
    app = _read(AppInfo, document.get("app"), ["app"], damaged) or AppInfo(label="")
    sections: dict[str, dict[str, Any]] = {}
    for section in ITEM_SECTIONS:
        items = document.get(section)
        if items is None:
            continue
        if not isinstance(items, dict):
            damaged.add(section)
            continue
        kept: dict[str, Any] = {}
        for name, raw in items.items():
            path: list[Any] = [section, name]
            model = _item_model_for(section, raw)
            if not _is_api_name(name) or model is None:
                damaged.add(format_path(path))
                continue
            adjust = _stand_in_types if section == "entities" else None
            item = _read(model, raw, path, damaged, adjust)
            if item is not None:
                kept[name] = item
        sections[section] = kept
    return Salvaged(AppDocument(app=app, **sections), frozenset(damaged))


def as_stored(document: Any) -> Any:
    """The document as a publish would store it (defaults nobody wrote left out, the app
    section filled in), item by item: an item that does not read stays as written. Diffs
    of drafts compare like with like this way."""
    try:
        return AppDocument.model_validate(document).to_json()
    except PydanticError:
        pass
    if not isinstance(document, dict):
        return document
    stored = dict(document)
    with suppress(PydanticError):
        stored["app"] = AppInfo.model_validate(document.get("app")).model_dump(
            mode="json", exclude_none=True)
    for section in ITEM_SECTIONS:
        items = document.get(section)
        if items == {}:
            del stored[section]
        elif isinstance(items, dict):
            stored[section] = {name: _stored_item(section, item) for name, item in items.items()}
    return stored


def _stored_item(section: str, item: Any) -> Any:
    try:
        model = _item_model_for(section, item)
        if model is None:
            return item
        data = model.model_validate(item).model_dump(
            mode="json", exclude_none=True, exclude_defaults=True, by_alias=True)
    except PydanticError:
        return item
    if section in NAMED_BY_KEY:
        data.pop("name", None)
    return data


def _is_api_name(name: Any) -> bool:
    return isinstance(name, str) and len(name) <= 40 and _API_NAME.match(name) is not None


@cache
def _item_models(section: str) -> dict[Any, type[BaseModel]]:
    """The models of one item of ``section`` (``dict[ApiName, EntitySpec]`` → EntitySpec):
    one under the key None, or one per ``kind`` when the section is a union of kinds
    (``jobs``)."""
    model = get_args(AppDocument.model_fields[section].annotation)[1]
    if isinstance(model, type) and issubclass(model, BaseModel):
        return {None: model}
    branches = get_args(get_args(model)[0])  # Annotated[A | B, discriminator] → (A, B)
    return {get_args(branch.model_fields["kind"].annotation)[0]: branch for branch in branches}


def _item_model_for(section: str, raw: Any) -> type[BaseModel] | None:
    """The model ``raw`` is read with (None: a kind the section does not have)."""
    models = _item_models(section)
    if None in models:
        return models[None]
    return models.get(raw.get("kind")) if isinstance(raw, dict) else None


def _read(model: type[BaseModel], raw: Any, path: list[Any], damaged: set[str],
          adjust: Callable[[dict[str, Any], list[Any], set[str]], list[str]] | None = None,
          ) -> Any:
    """One item: validated, with broken values removed until it validates; else built
    member by member; else None (left out)."""
    if not isinstance(raw, dict):
        damaged.add(format_path(path))
        return None
    with suppress(PydanticError):
        return model.model_validate(raw)  # a sound item, as most are: nothing to repair
    data = copy.deepcopy(raw)
    untyped = adjust(data, path, damaged) if adjust is not None else []
    item = None
    for _ in range(MAX_REPAIRS):
        try:
            item = model.model_validate(data)
            break
        except PydanticError as exc:
            if not _remove_broken(model, data, exc, path, damaged):
                break
    if item is None:
        item = _member_by_member(model, data, path, damaged)
    if item is not None and untyped:
        for name in untyped:
            spec = item.fields.get(name)
            if spec is not None:
                item.fields[name] = UnknownTypeField.model_construct(
                    _fields_set=spec.model_fields_set, **dict(spec))
    return item


def _stand_in_types(entity: dict[str, Any], path: list[Any], damaged: set[str]) -> list[str]:
    """Give every field whose type is unknown a stand-in type; answer their names."""
    fields = entity.get("fields")
    if not isinstance(fields, dict):
        return []
    known = [kind.value for kind in FieldType]
    untyped = []
    for name, spec in fields.items():
        if not isinstance(spec, dict) or spec.get("type") in known:
            continue
        given = spec.get("type")
        guess = closest_name(given, known) if isinstance(given, str) else None
        if guess is None:
            guess = next((kind.value for key, kind in TYPE_HINTS if spec.get(key) is not None),
                         FieldType.JSON.value)
        spec["type"] = guess
        untyped.append(name)
        damaged.add(format_path([*path, "fields", name, "type"]))
    return untyped


def _remove_broken(model: type[BaseModel], data: dict[str, Any], exc: PydanticError,
                   path: list[Any], damaged: set[str]) -> bool:
    """Remove the values the errors point at (an object missing a required member goes
    whole); answer whether anything was removed. A required member of the item itself is
    left for ``_member_by_member``."""
    targets = []
    for error in exc.errors():
        missing = error["type"] == "missing"
        target = _raw_path(data, error["loc"], missing)
        if missing:
            target = target[:-1]
        if not target:
            continue
        if len(target) == 1 and _required(model, target[0]):
            continue
        targets.append(target)
    removed = False
    # later list positions first, so that earlier positions still point where they did
    for target in sorted(targets, key=_removal_order):
        if _remove(data, target):
            damaged.add(format_path([*path, *target]))
            removed = True
    return removed


def _removal_order(target: list[Any]) -> list[tuple[int, Any]]:
    return [(1, -part) if isinstance(part, int) else (0, str(part)) for part in target]


def _raw_path(data: Any, loc: tuple[Any, ...], missing: bool) -> list[Any]:
    """Where in the raw data an error's location is. Pydantic's locations also name union
    branches (``set_field``, ``str``) that are not in the data: those are skipped. A bad
    key (``[key]``) means the entry under that key; a missing member ends the path."""
    node, found = data, []
    for position, part in enumerate(loc):
        if part == "[key]":
            break
        if _has(node, part):
            node = node[part]
        elif not (missing and position == len(loc) - 1):
            continue
        found.append(part)
    return found


def _has(node: Any, part: Any) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _remove(data: Any, target: list[Any]) -> bool:
    node = data
    for part in target[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return False
    if not _has(node, target[-1]):
        return False
    del node[target[-1]]
    return True


def _required(model: type[BaseModel], key: Any) -> bool:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.is_required()
    return False


def _member_by_member(model: type[BaseModel], data: dict[str, Any], path: list[Any],
                      damaged: set[str]) -> Any:
    """The item built from the members that read on their own (a list emptied by the
    repairs is kept empty); a required member that does not read takes a blank stand-in
    when its type has one (a label), else the item is left out."""
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in data:
            try:
                values[name] = _adapter(model, name).validate_python(data[key])
                continue
            except PydanticError:
                damaged.add(format_path([*path, key]))
        if not info.is_required():
            continue
        try:
            values[name] = _adapter(model, name).validate_python("")
        except PydanticError:
            damaged.add(format_path(path))
            return None
        damaged.add(format_path([*path, key]))
    return model.model_construct(**values)


@cache
def _adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    """The member's type without the constraints on the member itself (a minimum length)."""
    return TypeAdapter(model.model_fields[name].annotation)
