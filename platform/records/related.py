"""A record's 360° view: the record, its actions (the buttons: whether each can run now,
and why not), whether the reader may change or delete it, and, in one answer, the first
records of every related list — the records of other entities that point at it, directly
(``ticket.customer``) or along a path of lookups (``payment.contract.customer``).

The lists come from a form's ``related`` section, or by default one per lookup of another
entity to this one. Each list is a ``list_records`` query, so the reader's reach, hidden
fields, sorting and capped counts are those of the records API; an entity the reader may
not read is simply absent.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.entity import EntitySpec
from loom.metamodel.errors import BadRequest, NotFound, PermissionDenied
from loom.metamodel.fields import FieldType
from loom.metamodel.forms import MAX_RELATED_LIMIT, RelatedListSpec
from loom.metamodel.i18n import localize, message, register_messages
from loom.platform.compiled.app import AppRuntime
from loom.platform.compiled.conditions import environment
from loom.platform.records.reads import ListQuery, get_record, list_records
from loom.platform.records.reference_titles import reference_titles
from loom.platform.records.stage_view import record_stage_paths
from loom.platform.rules.record_actions import action_states
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import Operation, authorize, within_reach
from loom.renderers.layouts import columns

DEFAULT_COLUMNS = 4
DEFAULT_SORT = "-created_at"
# Values a related list does not show by default: long text and structured values.
NOT_SHOWN_BY_DEFAULT = frozenset({
    FieldType.TEXTAREA, FieldType.RICH_TEXT, FieldType.JSON, FieldType.ADDRESS,
    FieldType.LOCATION, FieldType.FILE, FieldType.IMAGE, FieldType.SIGNATURE,
    FieldType.MULTISELECT})

register_messages({
    "form_not_found": {"en": "The app {app} has no form '{name}'",
                       "zh-CN": "应用 {app} 中没有表单“{name}”"},
    "form_other_entity": {"en": "The form '{name}' is a form of {entity}",
                          "zh-CN": "表单“{name}”属于{entity}"},
    "related_bad_limit": {"en": "limit must be between 1 and {max}",
                          "zh-CN": "limit 必须在 1 到 {max} 之间"},
})


def related_lists(runtime: AppRuntime, entity: str, form: str | None) -> list[RelatedListSpec]:
    """The related lists of ``entity``: a form's, or one per lookup pointing at it."""
    if form is not None:
        spec = runtime.doc.forms.get(form)
        if spec is None:
            raise NotFound(message("form_not_found", app=runtime.slug, name=form))
        if spec.entity != entity:
            raise BadRequest(message("form_other_entity", name=form,
                                     entity=runtime.entity(spec.entity).label))
        return list(spec.related)
    found = []
    for child, child_spec in sorted(runtime.doc.entities.items()):
        links = [name for name, f in child_spec.fields.items()
                 if f.type is FieldType.LOOKUP and f.ref == entity]
        for link in links:
            found.append(RelatedListSpec(entity=child, via=link,
                                         name=child if len(links) == 1 else f"{child}_{link}"))
    return found


def default_columns(spec: EntitySpec, via: str) -> list[str]:
    """The title field and the first few other short fields."""
    head = via.split(".")[0]
    names = [spec.title()] if spec.title() else []
    for name, field in spec.stored_fields().items():
        if len(names) > DEFAULT_COLUMNS:
            break
        if name not in names and name != head and field.type not in NOT_SHOWN_BY_DEFAULT:
            names.append(name)
    return [*names, "created_at"]


async def record_with_related(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                              entity: str, record_id: int, now: datetime, *, locale: str,
                              form: str | None = None,
                              limit: int | None = None) -> dict[str, Any]:
    """The record (404 outside the reader's reach), its actions (buttons) with whether
    each can run now and why not, and its related lists."""
    if limit is not None and not 1 <= limit <= MAX_RELATED_LIMIT:
        raise BadRequest(message("related_bad_limit", max=MAX_RELATED_LIMIT))
    lists = related_lists(runtime, entity, form)
    record = await get_record(conn, runtime, actor, entity, record_id, now)
    found = []
    for spec in lists:
        shown = await _related_list(conn, runtime, actor, record_id, spec, now, locale, limit)
        if shown is not None:
            found.append(shown)
    actions = await action_states(conn, runtime, actor, entity, record_id, now, locale)
    access = await authorize(conn, actor, runtime, entity, "read")
    stages = await record_stage_paths(conn, runtime, actor, access, entity, record_id, now,
                                      locale)
    return {"entity": entity, "record": record, "actions": actions, "related": found,
            "stages": stages,
            "may": {operation: await _may(conn, runtime, actor, entity, record_id, operation,
                                          now) for operation in ("update", "delete")}}


async def _may(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, entity: str,
               record_id: int, operation: Operation, now: datetime) -> bool:
    """Whether the reader may change (and so share) or delete this record."""
    try:
        access = await authorize(conn, actor, runtime, entity, operation)
    except PermissionDenied:
        return False
    return await within_reach(conn, runtime, access, entity, record_id,
                              environment(runtime, actor, now))


async def _related_list(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                        record_id: int, spec: RelatedListSpec, now: datetime, locale: str,
                        limit: int | None) -> dict[str, Any] | None:
    try:
        access = await authorize(conn, actor, runtime, spec.entity, "read")
    except PermissionDenied:
        return None  # an entity the reader may not read is absent, not an error
    if not access.can_read(spec.via.split(".")[0]):
        return None  # the link itself is hidden from them: the list would reveal it
    child = runtime.entity(spec.entity)
    shown = columns(child, spec.columns or default_columns(child, spec.via), access.can_read,
                    locale)
    link = {"==": [{"var": spec.via}, record_id]}
    rule = link if spec.filter is None else {"and": [link, spec.filter]}
    sort = spec.sort or DEFAULT_SORT
    page = await list_records(conn, runtime, actor, spec.entity, ListQuery(
        preset=rule, sort=sort, limit=limit or spec.limit, fields=[c["name"] for c in shown],
        count=True), now)
    query = urlencode({"filter": json.dumps(rule, ensure_ascii=False, separators=(",", ":")),
                       "sort": sort})
    titles = await reference_titles(conn, runtime, actor, spec.entity, page.items, now)
    return {"name": spec.key, "entity": spec.entity, "via": spec.via,
            "label": localize(spec.label or child.plural_label or child.label, locale),
            "columns": shown, "items": page.items, "titles": titles, "count": page.count,
            "count_capped": page.count_capped,
            "more": f"/api/apps/{runtime.slug}/records/{spec.entity}?{query}"}
