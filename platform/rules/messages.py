"""What rule and flow messages say: their templates (notification titles, task titles,
email subjects and bodies) filled in from the record, in every language Loom speaks, so
each recipient reads their own. The record's values read as people read them in that
language — an option by its label (来源：官网 / Source: Website), a user by name, a lookup
by its record's title, money with its currency, times in the app's zone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.field_values.coercion import to_json
from loom.engines.rules.templates import LinkedRecord, render, shown, template_names
from loom.metamodel.entity import EntitySpec
from loom.metamodel.fields import FieldType
from loom.metamodel.i18n import LOCALES
from loom.platform.compiled.app import AppRuntime
from loom.platform.security.actors import Actor
from loom.platform.storage.system_tables import departments, users
from loom.platform.transfer.columns import field_spec
from loom.renderers.values import value_text

LocalizedText = dict[str, str]


async def fill_in(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, entity: str,
                  data: Mapping[str, Any], *templates: Any) -> list[LocalizedText | None]:
    """Each template filled in from ``data`` (the record and what it reads), in every
    language; a missing template stays None."""
    names = template_names(*templates)
    spec = runtime.entity(entity)
    linked = await _linked_rows(conn, runtime, spec, data, names)
    people = await _people_names(conn, runtime, spec, data, names)
    out: list[LocalizedText | None] = [None if t is None else {} for t in templates]
    for locale in LOCALES:
        context = _context(runtime, actor, spec, data, locale, linked, people)
        for index, template in enumerate(templates):
            if template is not None:
                out[index][locale] = render(template, context, locale)  # type: ignore[index]
    return out


def _context(runtime: AppRuntime, actor: Actor, spec: EntitySpec, data: Mapping[str, Any],
             locale: str, linked: dict[str, tuple[str, dict[str, Any]]],
             people: dict[str, str]) -> dict[str, Any]:
    zone = ZoneInfo(runtime.doc.app.timezone)
    context = {name: _shown(spec, name, value, locale, zone) for name, value in data.items()}
    for name, text in people.items():
        context[name] = shown(to_json(data[name]), text)
    for name, (target, row) in linked.items():
        target_spec = runtime.entity(target)
        values = {k: _shown(target_spec, k, v, locale, zone) for k, v in row.items()}
        title = target_spec.title()
        context[name] = LinkedRecord(values, values.get(title) if title else None)
    context["user"] = {"name": actor.name, "email": actor.email}
    return context


def _shown(spec: EntitySpec, name: str, value: Any, locale: str, zone: ZoneInfo) -> Any:
    field = field_spec(spec, name)
    if field is None or value is None:
        return to_json(value)
    return shown(value, value_text(field, value, locale, zone))


async def _linked_rows(conn: AsyncConnection, runtime: AppRuntime, spec: EntitySpec,
                       data: Mapping[str, Any], names: set[str]
                       ) -> dict[str, tuple[str, dict[str, Any]]]:
    """The records the lookups the templates name point at (``{{ customer.phone }}``)."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for name in sorted(names):
        field = spec.fields.get(name)
        if field is None or not field.ref or data.get(name) is None:
            continue
        table = runtime.tables[field.ref]
        row = (await conn.execute(select(table).where(table.c.id == data[name]))
               ).mappings().first()
        if row is not None:
            found[name] = (field.ref, dict(row))
    return found


async def _people_names(conn: AsyncConnection, runtime: AppRuntime, spec: EntitySpec,
                        data: Mapping[str, Any], names: set[str]) -> dict[str, str]:
    """Users and departments the templates name, by their names."""
    found: dict[str, str] = {}
    for name in sorted(names):
        field = field_spec(spec, name)
        value = data.get(name)
        if field is None or not isinstance(value, int) or isinstance(value, bool):
            continue
        if field.type is FieldType.USER:
            table, column = users, users.c.name
        elif field.type is FieldType.DEPARTMENT:
            table, column = departments, departments.c.name
        else:
            continue
        text = await conn.scalar(select(column).where(
            table.c.id == value, table.c.workspace_id == runtime.workspace_id))
        if text is not None:
            found[name] = text
    return found
