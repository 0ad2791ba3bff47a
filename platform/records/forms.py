"""Forms as a reader gets them: the form's metadata, localized, with the fields their roles
hide left out and the fields they may not change marked read-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.forms.layout import FormConditions
from loom.metamodel.app import AppDocument
from loom.metamodel.errors import NotFound, PermissionDenied
from loom.metamodel.fields import FieldType
from loom.metamodel.forms import FieldPlacement, FormSpec, SectionSpec, SubtablePlacement
from loom.metamodel.i18n import localize, message
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import environment
from loom.platform.records import related  # noqa: F401  (registers the form messages)
from loom.platform.records.change_request import read_changes
from loom.platform.records.evaluation import prepare
from loom.platform.records.file_kinds import (
    ACCEPTED,
    ACCEPTED_IMAGES,
    PICKER_FILES,
    PICKER_IMAGES,
)
from loom.platform.records.subtable_rows import RowsGiven, check_rows, take_rows
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import FULL_ACCESS, Access, authorize
from loom.renderers.layouts import FieldTest, form_json
from loom.renderers.stage_paths import stage_paths


async def list_forms(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                     locale: str) -> list[dict[str, Any]]:
    """The forms of the entities this reader may read."""
    found = []
    for name, form in sorted(runtime.doc.forms.items()):
        try:
            await authorize(conn, actor, runtime, form.entity, "read")
        except PermissionDenied:
            continue
        found.append({"name": name, "entity": form.entity,
                      "label": localize(form.label, locale)})
    return found


def _form(runtime: AppRuntime, name: str) -> FormSpec:
    """The form ``name``; for an entity without forms of its own, its name gives a plain
    one (so every record can be created and edited in a form)."""
    form = runtime.doc.forms.get(name)
    if form is None and name in runtime.doc.entities:
        return plain_form(runtime.doc, name)
    if form is None:
        raise NotFound(message("form_not_found", app=runtime.slug, name=name))
    return form


# fields that read best across the whole width of a form
WIDE = frozenset({FieldType.TEXTAREA, FieldType.RICH_TEXT, FieldType.ADDRESS, FieldType.FILE,
                  FieldType.IMAGE, FieldType.SIGNATURE, FieldType.JSON, FieldType.LOCATION})
PLAIN_SUBTABLE_COLUMNS = 6


def plain_form(doc: AppDocument, entity: str) -> FormSpec:
    """A form of every field of ``entity`` in two columns, its sub-tables below."""
    spec = doc.entities[entity]
    fields = [FieldPlacement(field=name, span=2 if field.type in WIDE else 1)
              for name, field in spec.fields.items() if field.type is not FieldType.SUBTABLE]
    subtables = []
    for name, field in spec.fields.items():
        child = doc.entities.get(field.entity or "") if field.type is FieldType.SUBTABLE \
            else None
        if child is not None:
            columns = [n for n, f in child.fields.items()
                       if n != field.link_field and f.type is not FieldType.SUBTABLE]
            subtables.append(SubtablePlacement(field=name,
                                               columns=columns[:PLAIN_SUBTABLE_COLUMNS]))
    return FormSpec(entity=entity, label=spec.label, sections=[
        SectionSpec(name="main", columns=2, fields=fields, subtables=subtables)])


async def form_for(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, name: str,
                   locale: str, max_file_bytes: int) -> dict[str, Any]:
    form = _form(runtime, name)
    reading = await authorize(conn, actor, runtime, form.entity, "read")
    writing = await _writing(conn, runtime, actor, form.entity)
    body = form_json(name, form, runtime.doc, reading.can_read,
                     writing.can_write if writing is not None else (lambda _field: False),
                     locale, await _children(conn, runtime, actor, form))
    body["stages"] = stage_paths(runtime.entity(form.entity), reading.can_read, locale)
    body["timezone"] = runtime.doc.app.timezone
    body["files"] = {"max_bytes": max_file_bytes, "accept": PICKER_FILES,
                     "accept_images": PICKER_IMAGES, "kinds": ACCEPTED,
                     "image_kinds": ACCEPTED_IMAGES}
    return body


async def _children(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                    form: FormSpec) -> dict[str, FieldTest | None]:
    """What the reader may see of each sub-table's entity (None: nothing)."""
    spec = runtime.entity(form.entity)
    found: dict[str, FieldTest | None] = {}
    for _path, section in form.all_sections():
        for sub in section.subtables:
            child = spec.fields[sub.field].entity or ""
            if child in found:
                continue
            try:
                found[child] = (await authorize(conn, actor, runtime, child, "read")).can_read
            except PermissionDenied:
                found[child] = None
    return found


async def _writing(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                   entity: str) -> Access | None:
    """What the reader may write on a record of ``entity``: as an editor, else as a
    creator, else nothing."""
    for operation in ("update", "create"):
        try:
            return await authorize(conn, actor, runtime, entity, operation)  # type: ignore[arg-type]
        except PermissionDenied:
            continue
    return None


async def check_form(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, name: str,
                     data: Any, now: datetime, locale: str) -> dict[str, Any]:
    """What the form says about values being filled in: each placed field's visibility,
    requirement and read-only state, every problem — the values' own (types, options)
    and the required fields left blank, the sub-tables' rows' too (``items[1].quantity``)
    — decided as the write pipeline decides them, and the formulas' values (the record's
    in ``values``, each row's in ``rows``) as a save would compute them."""
    form = _form(runtime, name)
    access = await authorize(conn, actor, runtime, form.entity, "read")
    spec = runtime.entity(form.entity)
    zone = ZoneInfo(runtime.doc.app.timezone)
    # only typing the values: nothing is written, so what the reader may change is moot
    data, rows, problems = take_rows(spec, data, FULL_ACCESS)
    values, found = read_changes(spec, data, FULL_ACCESS, tz=zone, trusted=True)
    problems += found + check_rows(runtime, rows, tz=zone)
    conditions = FormConditions.compile(runtime.doc, form)
    states, missing = conditions.missing(spec, runtime.expressions[form.entity], values,
                                         environment(runtime, actor, now))
    errors = [p.render(locale) for p in problems + missing]
    computed, row_values = await _formula_values(conn, runtime, actor, form.entity, values,
                                                 rows, now)
    return {"form": name, "valid": not errors,
            "fields": {field: state.as_json() for field, state in states.items()
                       if access.can_read(field)},
            "errors": errors,
            "values": {field: value for field, value in computed.items()
                       if access.can_read(field)},
            "rows": row_values}


async def _formula_values(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                          entity: str, values: dict[str, Any], given: list[RowsGiven],
                          now: datetime) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """The formulas of a record being filled in and of its rows as given: computed as the
    pipeline computes them (lookup paths and related aggregates read from the database;
    the sub-tables' rows are the ones given, not the stored ones). Nothing is written."""
    zone = ZoneInfo(runtime.doc.app.timezone)
    env = environment(runtime, actor, now)
    row_values: dict[str, list[Any]] = {}
    inline: dict[str, list[dict[str, Any]]] = {}
    for rows in given:
        child = runtime.entity(rows.field.entity or "")
        exprs = runtime.expressions[rows.field.entity or ""]
        computed_rows = []
        for _pos, row in rows.rows:
            typed, _problems = read_changes(child, row, FULL_ACCESS, tz=zone, trusted=True)
            found, _failures = exprs.compute(typed, env, tz=zone)
            inline.setdefault(rows.name, []).append(typed | found)
            computed_rows.append(found)
        row_values[rows.name] = computed_rows
    exprs = runtime.expressions[entity]
    if not exprs.formulas:
        return {}, row_values
    data, env = await prepare(conn, runtime, entity, values,
                              [f.compiled for f in exprs.formulas], actor, now)
    data.update(inline)
    found, _failures = exprs.compute(data, env, tz=zone)
    return found, row_values
