"""Searching a whole app at once (the search box of the web app): the quick search of each
entity the reader may read (``search.py``), a few records each, titled by the entity's
title field. Every entity is read through ``list_records``, so reach and hidden fields
apply exactly as in its list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.errors import PermissionDenied
from loom.platform.compiled.app import AppRuntime
from loom.platform.records.reads import ListQuery, list_records
from loom.platform.records.search import searched_fields
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import authorize

PER_ENTITY = 5


async def search_app(conn: AsyncConnection, runtime: AppRuntime, actor: Actor, text: str,
                     now: datetime, locale: str,
                     limit: int = PER_ENTITY) -> list[dict[str, Any]]:
    """``[{entity, label, items: [{id, title, subtitle}]}]`` for entities with matches."""
    groups = []
    for name, spec in runtime.doc.entities.items():
        try:
            access = await authorize(conn, actor, runtime, name, "read")
        except PermissionDenied:
            continue
        fields = searched_fields(spec, access)
        title = spec.title()
        if not fields or title is None or not access.can_read(title):
            continue
        subtitle = next((field for field in fields if field != title), None)
        shown = [title] + ([subtitle] if subtitle else [])
        page = await list_records(conn, runtime, actor, name, ListQuery(
            search=text, limit=limit, fields=shown), now)
        if page.items:
            groups.append({"entity": name, "label": spec.display_label(locale),
                           "items": [{"id": item["id"], "title": _text(item.get(title)),
                                      "subtitle": _text(item.get(subtitle)) if subtitle
                                      else None} for item in page.items]})
    return groups


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
