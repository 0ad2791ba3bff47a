"""The groups of a breakdown, in the reader's language: a select's options (in their order,
with their categories), users by name, lookups by the target record's title — only for
target records the reader may read, others show as ``#id`` —, dates by bucket."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.sql import ColumnElement

from loom.metamodel.fields import FieldSpec, FieldType
from loom.metamodel.i18n import localize, message, register_messages
from loom.platform.dashboards.measures import Measuring, WidgetUnavailable
from loom.platform.storage.system_tables import users

register_messages({
    "dash_blank_group": {"en": "(blank)", "zh-CN": "（空）"},
    "dash_yes": {"en": "Yes", "zh-CN": "是"},
    "dash_no": {"en": "No", "zh-CN": "否"},
})


@dataclass
class Group:
    key: Any
    label: str
    category: str | None = None

    def as_json(self) -> dict[str, Any]:
        item: dict[str, Any] = {"key": self.key, "label": self.label}
        if self.category:
            item["category"] = self.category
        return item


def bin_labels(edges: list[float]) -> list[str]:
    """"< 100", "100–500", …, "≥ 5000": the groups of a number field cut at ``edges``."""
    shown = [_number(edge) for edge in edges]
    return [f"< {shown[0]}", *(f"{low}–{high}" for low, high in pairwise(shown)),
            f"≥ {shown[-1]}"]


def bin_index(value: ColumnElement[Any], edges: list[float]) -> ColumnElement[Any]:
    """The position of ``value`` among the bins (blank stays blank)."""
    return case(*((value < edge, index) for index, edge in enumerate(edges)),
                (value.is_(None), None), else_=len(edges))


def _number(edge: float) -> str:
    return str(int(edge)) if float(edge).is_integer() else str(edge)


def blank(locale: str) -> Group:
    return Group(None, message("dash_blank_group").render(locale))


def option_groups(spec: FieldSpec, locale: str) -> list[Group]:
    return [Group(o.value, localize(o.label, locale) or o.value, o.category)
            for o in spec.options or []]


async def user_names(m: Measuring, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await m.conn.execute(select(users.c.id, users.c.name).where(
        users.c.id.in_(sorted(ids)), users.c.workspace_id == m.runtime.workspace_id))
    return {row.id: row.name for row in rows}


async def record_titles(m: Measuring, entity: str, ids: list[int]) -> dict[int, str]:
    """Titles of the target records the reader may read (with their title readable)."""
    spec = m.runtime.entity(entity)
    title = spec.title()
    if not ids or title is None:
        return {}
    try:
        access = await m.access(entity)
    except WidgetUnavailable:
        return {}
    if not access.can_read(title):
        return {}
    table = m.runtime.tables[entity]
    query = select(table.c.id, table.c[title]).where(table.c.id.in_(sorted(ids)))
    if access.rows is not None:
        query = query.where(access.rows.where(m.runtime, m.env, m.dialect))
    rows = await m.conn.execute(query)
    return {row[0]: str(row[1]) for row in rows if row[1] is not None}


async def labelled(m: Measuring, spec: FieldSpec | None, keys: list[Any],
                   locale: str) -> list[Group]:
    """Groups for the keys found, labelled by what the field is."""
    kind = spec.storage_type() if spec is not None else FieldType.INTEGER
    present = [k for k in keys if k is not None]
    if spec is not None and kind is FieldType.USER:
        names = await user_names(m, present)
        return [Group(k, names.get(k, f"#{k}")) for k in present]
    if spec is not None and kind is FieldType.LOOKUP and spec.ref:
        titles = await record_titles(m, spec.ref, present)
        return [Group(k, titles.get(k, f"#{k}")) for k in present]
    if kind is FieldType.BOOLEAN:
        return [Group(k, message("dash_yes" if k else "dash_no").render(locale))
                for k in present]
    return [Group(k, str(k)) for k in present]
