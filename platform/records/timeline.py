"""A record's activity timeline: one stream, newest first, merged from what happened to it —
activities recorded against it (follow-ups: records of entities marked ``activity`` that
point at it), its field history, the flows that ran on it, the emails sent and the
notifications sent about it.

Each source reads its own rows in its own order; the timeline takes the newest head among
them until the page is full. The cursor keeps, per source, where its last shown entry
was, so a page never repeats or skips an entry whatever was added meanwhile and however
many entries share a moment. What the reader may see is decided once: the record must be
within their reach (``get_record``), and each source reads through the same permission
check as the records API (hidden fields left out, other entities by their own reach).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import deque
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.field_values.coercion import to_json
from loom.metamodel.errors import BadRequest
from loom.metamodel.i18n import message, register_messages
from loom.platform.compiled.app import AppRuntime
from loom.platform.records.reads import get_record
from loom.platform.records.timeline_entries import Entry, Source
from loom.platform.records.timeline_sources import record_sources
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import authorize
from loom.platform.storage.system_tables import users

DEFAULT_LIMIT = 30
MAX_LIMIT = 100
BATCH = 50  # rows a source reads at a time

register_messages({
    "timeline_bad_limit": {"en": "limit must be between 1 and {max}",
                           "zh-CN": "limit 必须在 1 到 {max} 之间"},
    "timeline_bad_cursor": {"en": "The cursor is not valid for this timeline; start again "
                            "without it", "zh-CN": "游标对此时间线无效，请不带游标重新开始"},
})


class _Stream:
    """One source read ahead in batches: its next visible entry, and the position of the
    last entry taken from it (rows it hides are read again next page and hidden again)."""

    def __init__(self, source: Source, position: Any) -> None:
        self.source = source
        self.position = position
        self._read_to = position
        self._buffer: deque[tuple[Any, Entry]] = deque()
        self._done = False

    async def head(self) -> Entry | None:
        while not self._buffer and not self._done:
            rows, more = await self.source.read(self._read_to, BATCH)
            for position, entry in rows:
                self._read_to = position
                if entry is not None:
                    self._buffer.append((position, entry))
            self._done = not more
        return self._buffer[0][1] if self._buffer else None

    def take(self) -> Entry:
        self.position, entry = self._buffer.popleft()
        return entry


def _newest(pair: tuple[Entry, _Stream]) -> tuple[bool, float, int, int]:
    """The order heads are taken in: the latest moment first (entries without one come
    last, as blanks do in every list), then what a change set off before the change (as
    if later), then the latest row."""
    entry = pair[0]
    moment = entry.at.timestamp() if entry.at is not None else 0.0
    return (entry.at is not None, moment, entry.rank, entry.id)


async def record_timeline(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                          entity: str, record_id: int, now: datetime, *, locale: str,
                          limit: int = DEFAULT_LIMIT,
                          cursor: str | None = None) -> dict[str, Any]:
    """A page of the record's timeline as the reader may see it: ``{items, next_cursor}``."""
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(message("timeline_bad_limit", max=MAX_LIMIT))
    await get_record(conn, runtime, actor, entity, record_id, now)  # 404 beyond their reach
    access = await authorize(conn, actor, runtime, entity, "read")
    sources = await record_sources(conn, runtime, actor, access, entity, record_id, now,
                                   locale)
    positions = _decode(cursor, {source.name for source in sources})
    streams = [_Stream(source, positions.get(source.name)) for source in sources]
    taken: list[Entry] = []
    while len(taken) < limit:
        heads = [(entry, stream) for stream in streams
                 if (entry := await stream.head()) is not None]
        if not heads:
            break
        taken.append(max(heads, key=_newest)[1].take())
    more = False
    for stream in streams:
        if await stream.head() is not None:
            more = True
            break
    for source in sources:
        await source.finish([entry for entry in taken if entry.source == source.name])
    await _name_people(conn, taken)
    next_cursor = _encode({s.source.name: s.position for s in streams
                           if s.position is not None}) if more else None
    return {"items": [entry.as_json() for entry in taken], "next_cursor": next_cursor}


async def _name_people(conn: AsyncConnection, entries: list[Entry]) -> None:
    """Who did each thing, by name."""
    ids = sorted({e.by for e in entries if e.by is not None}
                 | {i for e in entries for i in e.people.values()})
    names = {}
    if ids:
        rows = await conn.execute(select(users.c.id, users.c.name).where(users.c.id.in_(ids)))
        names = {row.id: row.name for row in rows}
    for entry in entries:
        entry.names = names


def _encode(positions: dict[str, Any]) -> str:
    raw = json.dumps(positions, separators=(",", ":"), default=to_json, ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str | None, names: set[str]) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        positions = json.loads(raw)
        if not isinstance(positions, dict) or not set(positions) <= names:
            raise ValueError("positions of other sources")
        return positions
    except (ValueError, TypeError, RecursionError, binascii.Error, UnicodeDecodeError):
        raise BadRequest(message("timeline_bad_cursor")) from None
