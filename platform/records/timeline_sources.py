"""Where a record's timeline comes from (``timeline.py`` merges them): its field history,
the flows that ran on it, the emails and notifications sent about it, and the activity
records pointing at it. Each source reads its rows newest first after a position of its
own and turns each into an entry the reader may see, or ``None`` when they may not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import ColumnElement

from loom.engines.field_values.coercion import BadValue, coerce, is_record_id, to_json
from loom.metamodel.errors import BadRequest, PermissionDenied
from loom.metamodel.fields import FieldType
from loom.metamodel.i18n import list_text, localize, message, register_messages
from loom.platform.compiled.app import AppRuntime
from loom.platform.outbox.notifications import shown_texts
from loom.platform.records.audit import SHARE_KEY
from loom.platform.records.reference_titles import reference_titles
from loom.platform.records.timeline_activities import ActivitySource
from loom.platform.records.timeline_entries import Entry, Rows, Source
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import Access, authorize
from loom.platform.storage.system_tables import (
    flow_activations,
    flow_history,
    flow_instances,
    notifications,
    outbox,
    record_audit,
    tasks,
)
from loom.renderers.values import value_text

register_messages({
    "timeline_created": {"en": "Created the record", "zh-CN": "创建了记录"},
    "timeline_changed": {"en": "Changed {fields}", "zh-CN": "修改了{fields}"},
    "timeline_deleted": {"en": "Deleted the record", "zh-CN": "删除了记录"},
    "timeline_restored": {"en": "Restored the record", "zh-CN": "恢复了记录"},
    "timeline_shared": {"en": "Changed who the record is shared with",
                        "zh-CN": "修改了记录的共享"},
    "timeline_shared_with": {"en": "Shared with", "zh-CN": "共享给"},
    "timeline_email": {"en": "Email: {subject}", "zh-CN": "邮件：{subject}"},
    "timeline_notification": {"en": "Notified: {title}", "zh-CN": "通知：{title}"},
    "timeline_flow": {"en": "{flow}: {event}", "zh-CN": "{flow}：{event}"},
    "timeline_flow_at": {"en": "{flow}: {event} ({node})", "zh-CN": "{flow}：{event}（{node}）"},
})

# What a flow's history says, in words; steps of its own machinery stay out of the timeline.
FLOW_EVENTS: dict[str, dict[str, str]] = {
    "started": {"en": "started", "zh-CN": "已发起"},
    "task": {"en": "waiting for a decision", "zh-CN": "等待处理"},
    "approve": {"en": "approved", "zh-CN": "已同意"},
    "reject": {"en": "rejected", "zh-CN": "已驳回"},
    "send_back": {"en": "sent back", "zh-CN": "已退回"},
    "transfer": {"en": "transferred", "zh-CN": "已转交"},
    "add_approver": {"en": "approver added", "zh-CN": "已加签"},
    "complete": {"en": "completed a task", "zh-CN": "已办理"},
    "claim": {"en": "task claimed", "zh-CN": "已认领"},
    "cc": {"en": "copied", "zh-CN": "已抄送"},
    "withdraw": {"en": "withdrawn", "zh-CN": "已撤回"},
    "auto_approved": {"en": "approved automatically", "zh-CN": "已自动通过"},
    "timer": {"en": "time limit reached", "zh-CN": "已超时"},
    "incident": {"en": "failed, waiting for an administrator", "zh-CN": "出错，等待管理员处理"},
    "completed": {"en": "finished", "zh-CN": "已结束"},
    "failed": {"en": "failed", "zh-CN": "已失败"},
    "cancelled": {"en": "cancelled", "zh-CN": "已取消"},
    "withdrawn": {"en": "withdrawn", "zh-CN": "已撤回"},
}

def _before(at: ColumnElement[Any], ident: ColumnElement[Any],
            position: Any) -> ColumnElement[bool]:
    """Rows older than ``position`` ([moment, id]) in (moment, id) descending order."""
    try:
        moment, row_id = datetime.fromisoformat(str(position[0])), position[1]
        if not is_record_id(row_id):  # cursors come back from clients: within the column
            raise ValueError("not a row id")
    except (ValueError, TypeError, IndexError, KeyError):
        raise BadRequest(message("timeline_bad_cursor")) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return or_(at < moment, and_(at == moment, ident < row_id))


@dataclass
class _Rows:
    """A system table's rows about one record, newest first."""

    conn: AsyncConnection
    name: str

    async def rows(self, query: Any, at: Any, ident: Any, position: Any,
                   limit: int) -> list[Any]:
        if position is not None:
            query = query.where(_before(at, ident, position))
        return list((await self.conn.execute(query.order_by(at.desc(), ident.desc())
                                             .limit(limit))).mappings())

    async def finish(self, entries: list[Entry]) -> None:
        return None


@dataclass
class HistorySource(_Rows):
    """Field history: creation, each change of fields the reader may see, sharing."""

    runtime: AppRuntime
    actor: Actor
    access: Access
    entity: str
    record_id: int
    now: datetime
    locale: str

    async def read(self, position: Any, limit: int) -> Rows:
        table = record_audit
        query = select(table).where(table.c.app_id == self.runtime.app_id,
                                    table.c.entity == self.entity,
                                    table.c.record_id == self.record_id)
        found = await self.rows(query, table.c.at, table.c.id, position, limit)
        return [([to_json(r["at"]), r["id"]], self._entry(r)) for r in found], \
            len(found) == limit

    def _entry(self, row: Any) -> Entry | None:
        action = row["action"]
        entry = Entry(self.name, row["id"], row["at"], "", "", by=row["actor_id"],
                      details={"source": row["source"]})
        if action in ("share", "unshare"):
            entry.type, entry.title = "shared", localize(message("timeline_shared"),
                                                         self.locale)
            entry.details["changes"] = [self._change(SHARE_KEY, values)
                                        for name, values in row["changes"].items()
                                        if name == SHARE_KEY]
            return entry
        if action != "update":
            entry.type = {"create": "created", "delete": "deleted",
                          "restore": "restored"}.get(action, action)
            entry.title = localize(message(f"timeline_{entry.type}"), self.locale) \
                if entry.type in ("created", "deleted", "restored") else action
            return entry
        changes = [self._change(name, values) for name, values in row["changes"].items()
                   if name != SHARE_KEY and self.access.can_read(name)]
        if not changes:
            return None  # only fields the reader may not see changed
        entry.type = "changed"
        entry.title = localize(message("timeline_changed", fields=list_text(
            (c["label"] for c in changes), self.locale)), self.locale)
        entry.details["changes"] = changes
        return entry

    def _change(self, name: str, values: Any) -> dict[str, Any]:
        spec = self.runtime.entity(self.entity)
        label = localize(message("timeline_shared_with"), self.locale) if name == SHARE_KEY \
            else localize(spec.field_label(name), self.locale)
        old, new = [*values, None, None][:2] if isinstance(values, list) else (None, values)
        return {"field": name, "label": label, "old": old, "new": new}

    async def finish(self, entries: list[Entry]) -> None:
        """Each change's values as words, references by the names the reader may see."""
        spec = self.runtime.entity(self.entity)
        zone = ZoneInfo(self.runtime.doc.app.timezone)
        changes = [c for e in entries for c in e.details.get("changes", [])]
        values = [{c["field"]: c[side]} for c in changes for side in ("old", "new")
                  if c["field"] in spec.fields]
        titles = await reference_titles(self.conn, self.runtime, self.actor, self.entity,
                                        values, self.now)
        for change in changes:
            for side in ("old", "new"):
                change[f"{side}_text"] = _value_words(spec.fields.get(change["field"]),
                                                      change[side], titles, self.locale, zone)


def _value_words(spec: Any, raw: Any, titles: dict[str, dict[str, str]], locale: str,
                 zone: ZoneInfo) -> str:
    if raw is None or spec is None:
        return "" if raw is None else str(raw)
    if spec.type in (FieldType.LOOKUP, FieldType.USER, FieldType.DEPARTMENT):
        key = spec.ref if spec.type is FieldType.LOOKUP else (
            "@user" if spec.type is FieldType.USER else "@department")
        items = raw if isinstance(raw, list) else [raw]
        return list_text((titles.get(key or "", {}).get(str(item), f"#{item}")
                          for item in items), locale)
    try:
        value = coerce(spec, raw, tz=zone)
    except (BadValue, ValueError, TypeError):
        value = raw
    return value_text(spec, value, locale, zone)


@dataclass
class FlowSource(_Rows):
    """What the flows on the record did: started, who decided what, where they ended."""

    runtime: AppRuntime
    entity: str
    record_id: int
    locale: str

    async def read(self, position: Any, limit: int) -> Rows:
        h, i, t, a = flow_history, flow_instances, tasks, flow_activations
        # a task's step names no node: its activation does
        node = func.coalesce(h.c.node, a.c.node).label("at_node")
        query = (select(h, i.c.flow, node).join(i, i.c.id == h.c.instance_id)
                 .outerjoin(t, t.c.id == h.c.task_id)
                 .outerjoin(a, a.c.id == t.c.activation_id)
                 .where(i.c.app_id == self.runtime.app_id, i.c.entity == self.entity,
                        i.c.record_id == self.record_id, h.c.event.in_(list(FLOW_EVENTS))))
        found = await self.rows(query, h.c.at, h.c.id, position, limit)
        return [([to_json(r["at"]), r["id"]], self._entry(r)) for r in found], \
            len(found) == limit

    def _entry(self, row: Any) -> Entry:
        compiled = self.runtime.flows.get(row["flow"])
        flow = compiled.spec if compiled is not None else None
        flow_label = localize(flow.label, self.locale) if flow is not None and flow.label \
            else row["flow"]
        node_name = row["at_node"]
        node = flow.nodes.get(node_name) if flow is not None and node_name else None
        node_label = localize(getattr(node, "label", None), self.locale) or node_name
        event = localize(FLOW_EVENTS[row["event"]], self.locale)
        title = message("timeline_flow_at", flow=flow_label, event=event, node=node_label) \
            if node_label and row["event"] not in ("started",) else \
            message("timeline_flow", flow=flow_label, event=event)
        details = row["details"] or {}
        entry = Entry(self.name, row["id"], row["at"], "flow", localize(title, self.locale),
                      by=row["actor_id"], details={
                          "flow": {"name": row["flow"], "label": flow_label,
                                   "instance": row["instance_id"]},
                          "event": row["event"], "node": node_name,
                          "node_label": node_label, "comment": row["comment"]})
        for name in ("assignee", "user"):
            if isinstance(details.get(name), int):
                entry.people[name] = details[name]
        return entry


@dataclass
class EmailSource(_Rows):
    """Emails sent about the record: to whom, the subject, whether it went out."""

    runtime: AppRuntime
    entity: str
    record_id: int
    locale: str

    async def read(self, position: Any, limit: int) -> Rows:
        query = select(outbox).where(outbox.c.app_id == self.runtime.app_id,
                                     outbox.c.entity == self.entity,
                                     outbox.c.record_id == self.record_id,
                                     outbox.c.kind == "email")
        found = await self.rows(query, outbox.c.created_at, outbox.c.id, position, limit)
        return [([to_json(r["created_at"]), r["id"]], self._entry(r)) for r in found], \
            len(found) == limit

    def _entry(self, row: Any) -> Entry:
        payload = row["payload"] or {}
        subject = str(payload.get("subject", ""))
        return Entry(self.name, row["id"], row["created_at"], "email",
                     localize(message("timeline_email", subject=subject), self.locale),
                     details={"subject": subject, "to": list(payload.get("to", [])),
                              "cc": list(payload.get("cc", [])), "status": row["status"],
                              "sent_at": to_json(row["sent_at"])})


@dataclass
class NotificationSource(_Rows):
    """Notifications about the record: the reader's own (an administrator sees all)."""

    runtime: AppRuntime
    actor: Actor
    entity: str
    record_id: int
    locale: str

    async def read(self, position: Any, limit: int) -> Rows:
        n = notifications
        query = select(n).where(n.c.app_id == self.runtime.app_id, n.c.entity == self.entity,
                                n.c.record_id == self.record_id)
        if not self.actor.is_admin:
            query = query.where(n.c.user_id == (self.actor.user_id or 0))
        found = await self.rows(query, n.c.created_at, n.c.id, position, limit)
        return [([to_json(r["created_at"]), r["id"]], self._entry(r)) for r in found], \
            len(found) == limit

    def _entry(self, row: Any) -> Entry:
        texts = shown_texts(row, ("title", "body"), self.locale)
        entry = Entry(self.name, row["id"], row["created_at"], "notification",
                      localize(message("timeline_notification", title=texts["title"] or ""),
                               self.locale),
                      details={"subject": texts["title"], "body": texts["body"]})
        entry.people["to"] = row["user_id"]
        return entry


async def record_sources(conn: AsyncConnection, runtime: AppRuntime, actor: Actor,
                         access: Access, entity: str, record_id: int, now: datetime,
                         locale: str) -> list[Source]:
    """Every source of the record's timeline the reader may read."""
    sources: list[Source] = [
        HistorySource(conn, "history", runtime, actor, access, entity, record_id, now, locale),
        FlowSource(conn, "flow", runtime, entity, record_id, locale),
        EmailSource(conn, "email", runtime, entity, record_id, locale),
        NotificationSource(conn, "notification", runtime, actor, entity, record_id, locale),
    ]
    for child, spec in sorted(runtime.doc.entities.items()):
        if spec.activity is None:
            continue
        links = [name for name, f in spec.fields.items()
                 if f.type is FieldType.LOOKUP and f.ref == entity]
        if not links:
            continue
        try:
            child_access = await authorize(conn, actor, runtime, child, "read")
        except PermissionDenied:
            continue  # an entity the reader may not read is simply absent
        for link in links:
            if child_access.can_read(link):
                sources.append(ActivitySource(conn, f"activity:{child}.{link}", runtime,
                                              actor, child_access, child, link, record_id,
                                              now, locale))
    return sources
