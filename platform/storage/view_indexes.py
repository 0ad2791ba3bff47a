"""The indexes a list view implies: the fields its filter fixes by equality, then its sort
keys in their directions, then ``id`` — so a page of the view is one index range read in
order, at any depth of the list (keyset pages), instead of a scan and a sort of every
matching row.

``{"filter": {"and": [{"==": [{"var": "stage"}, "proposal"]}, {"==": [{"var": "owner"},
{"current_user": "id"}]}]}, "sort": "-amount"}`` implies ``(stage, owner, amount DESC
NULLS LAST, id)``. Views of the same shape share one index; a view that fixes nothing and
sorts by ``id`` alone needs none (the primary key serves it).

Blanks sort last in both directions (engines/query/keyset.py): on PostgreSQL a descending
key is indexed ``DESC NULLS LAST`` to match; SQLite orders blanks first, so its
descending index already ends with them (an ascending sort on SQLite cannot read them in
order from any index and sorts, as before).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Index

from loom.engines.query.keyset import UNSORTABLE
from loom.metamodel.entity import SYSTEM_FIELDS, EntitySpec
from loom.metamodel.views import ViewSpec

MAX_INDEX_COLUMNS = 6


def equality_fields(condition: Any) -> list[str]:
    """Fields a JSON Logic condition fixes to one value (``==`` of a field and anything
    that is not a field), through the top-level ``and``."""
    if not isinstance(condition, dict) or len(condition) != 1:
        return []
    (operator, args), = condition.items()
    if operator == "and" and isinstance(args, list):
        return [name for part in args for name in equality_fields(part)]
    if operator in ("==", "===") and isinstance(args, list) and len(args) == 2:
        fields = [a["var"] for a in args if isinstance(a, dict) and set(a) == {"var"}
                  and isinstance(a["var"], str)]
        if len(fields) == 1:
            return fields
    return []


def _indexable(entity: EntitySpec, name: str) -> bool:
    if name in SYSTEM_FIELDS:
        return True
    field = entity.fields.get(name)
    return field is not None and field.has_column and field.type not in UNSORTABLE


def view_keys(entity: EntitySpec, view: ViewSpec) -> list[tuple[str, bool]]:
    """(column, descending) of the index ``view`` implies; empty when it needs none."""
    keys: list[tuple[str, bool]] = []
    for name in equality_fields(view.filter):
        if _indexable(entity, name) and name not in [k for k, _ in keys]:
            keys.append((name, False))
    fixed = len(keys)
    for part in (view.sort or "").split(","):
        part = part.strip()
        name = part.lstrip("+-").strip()
        if not name or not _indexable(entity, name):
            return [*keys[:fixed], ("id", False)] if fixed else []  # sorts as it can
        if name in [k for k, _ in keys]:
            continue
        keys.append((name, part.startswith("-")))
        if name == "id":
            break
    if not keys or keys[-1][0] != "id":
        keys.append(("id", False))
    if keys == [("id", False)] or len(keys) > MAX_INDEX_COLUMNS:
        return []
    return keys


def view_indexes(entity_name: str, entity: EntitySpec, views: dict[str, ViewSpec],
                 columns: dict[str, Column], name_of: Any, postgres: bool) -> list[Index]:
    """The indexes the list views of ``entity_name`` imply, one per distinct shape.
    ``name_of(parts)`` names an index."""
    found: dict[tuple[tuple[str, bool], ...], Index] = {}
    for view in views.values():
        if view.entity != entity_name or view.kind != "list":
            continue
        keys = tuple(view_keys(entity, view))
        if not keys or keys in found:
            continue
        elements: list[Any] = []
        for name, descending in keys:
            column = columns[name]
            if descending:
                elements.append(column.desc().nulls_last() if postgres else column.desc())
            else:
                elements.append(column)
        found[keys] = Index(name_of([f"{k}_desc" if d else k for k, d in keys]), *elements)
    return list(found.values())
