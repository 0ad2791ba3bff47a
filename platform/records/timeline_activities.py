"""Activities in a record's timeline: records of an entity marked ``activity`` (the CRM's
follow-ups) whose lookup points at the record, read as the records API lists them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.query.keyset import encode_cursor, parse_sort
from loom.metamodel.errors import BadRequest
from loom.metamodel.i18n import localize, message, register_messages
from loom.platform.compiled.app import AppRuntime
from loom.platform.records.reads import ListQuery, list_records
from loom.platform.records.timeline_entries import Entry, Rows
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import Access

register_messages({
    "timeline_activity": {"en": "{entity}: {title}", "zh-CN": "{entity}：{title}"},
})


@dataclass
class ActivitySource:
    """Activity records (follow-ups, …) whose ``link`` points at the record, read as the
    records API lists them: the reader's reach over that entity, its hidden fields."""

    conn: AsyncConnection
    name: str
    runtime: AppRuntime
    actor: Actor
    access: Access
    child: str
    link: str
    record_id: int
    now: datetime
    locale: str

    def _parts(self) -> tuple[str | None, str | None, str | None, list[str]]:
        spec = self.runtime.entity(self.child)
        activity = spec.activity
        assert activity is not None
        readable = self.access.can_read
        at = activity.at if activity.at and readable(activity.at) else None
        by = activity.by or spec.owner()
        kind = activity.kind if activity.kind and readable(activity.kind) else None
        text = [name for name in activity.text if readable(name)]
        return at, by if by and readable(by) else None, kind, text

    async def read(self, position: Any, limit: int) -> Rows:
        spec = self.runtime.entity(self.child)
        at, by, kind, text = self._parts()
        sort = f"-{at or 'created_at'}"
        title = spec.title()
        fields = [name for name in (title, at, by, kind, *text, "created_at", "created_by")
                  if name and (name not in spec.fields or self.access.can_read(name))]
        if position is not None and not isinstance(position, str):
            raise BadRequest(message("timeline_bad_cursor"))
        page = await list_records(self.conn, self.runtime, self.actor, self.child, ListQuery(
            preset={"==": [{"var": self.link}, self.record_id]}, sort=sort, limit=limit,
            cursor=position, fields=list(dict.fromkeys(fields))), self.now)
        keys = parse_sort(sort, spec)
        return [(encode_cursor(keys, item), self._entry(item, at, by, kind, text))
                for item in page.items], page.next_cursor is not None

    def _entry(self, item: dict[str, Any], at: str | None, by: str | None,
               kind: str | None, text: list[str]) -> Entry:
        spec = self.runtime.entity(self.child)
        moment = item.get(at or "created_at")
        if isinstance(moment, date) and not isinstance(moment, datetime):
            zone = ZoneInfo(self.runtime.doc.app.timezone)
            moment = datetime.combine(moment, time(), zone)
        title_field = spec.title()
        title = str(item.get(title_field) or "") if title_field else ""
        label = spec.display_label(self.locale)
        details: dict[str, Any] = {
            "entity": self.child, "entity_label": label, "record_id": item["id"],
            "via": self.link, "subject": title, "kind": None,
            "text": [{"field": name, "label": localize(spec.field_label(name), self.locale),
                      "text": str(item[name])} for name in text if item.get(name)]}
        if kind and item.get(kind) is not None:
            details["kind"] = {"value": item[kind], "label": localize(
                spec.fields[kind].option_label(item[kind]), self.locale)}
        who = item.get(by) if by else item.get("created_by")
        return Entry(self.name, item["id"], moment, "activity",
                     localize(message("timeline_activity", entity=label,
                                      title=title or f"#{item['id']}"), self.locale),
                     by=who if isinstance(who, int) else None, details=details)

    async def finish(self, entries: list[Entry]) -> None:
        return None
