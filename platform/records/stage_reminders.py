"""The worker duty that reminds a record's owner when the record has stayed in a stage
longer than the stage's time limit: once per stay (the entry is marked reminded in the
transaction that writes the notification, so two workers never both send it, and a
record that moves on before the limit is never reminded). The reminder reads the app's
current version: the stage's label and its guidance (what to do) in the owner's
language."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.forms.stages import describe_duration
from loom.engines.timing import Duration
from loom.metamodel.fields import FieldType
from loom.metamodel.i18n import LOCALES, message, register_messages
from loom.platform.compiled.app import AppRuntime
from loom.platform.outbox.notifications import notify
from loom.platform.records.stage_entries import due_entries, mark_reminded

if TYPE_CHECKING:
    from loom.platform.services import Services

log = logging.getLogger("loom.stages")

register_messages({
    "stage_overdue": {"en": "{entity} '{title}' has been in {stage} for more than {limit}",
                      "zh-CN": "{entity}“{title}”在“{stage}”阶段已超过 {limit}"},
})


async def run_stage_reminders(services: Services, as_of: datetime) -> int:
    """Remind the owners of every record overdue in its stage at ``as_of``; returns how
    many stays were reminded. A reminder that fails is logged and tried again by the next
    round; the others go on."""
    reminded = 0
    failed: set[int] = set()
    while True:
        async with services.database.read() as conn:
            due = await due_entries(conn, as_of, skip=failed)
            if not due:
                return reminded
            runtimes = {r.app_id: r for r in await services.apps.published_runtimes(conn)}
        for entry in due:
            try:
                async with services.database.write() as conn:
                    if not await mark_reminded(conn, entry["id"], as_of):
                        continue
                    runtime = runtimes.get(entry["app_id"])
                    if runtime is not None:
                        await _remind(conn, runtime, entry, as_of)
            except Exception:
                log.exception("stage reminder failed", extra={"entry_id": entry["id"]})
                failed.add(entry["id"])
                continue
            reminded += 1


async def _remind(conn: AsyncConnection, runtime: AppRuntime, entry: dict[str, Any],
                  as_of: datetime) -> None:
    spec = runtime.doc.entities.get(entry["entity"])
    field = spec.fields.get(entry["field"]) if spec is not None else None
    owner_field = spec.owner() if spec is not None else None
    if spec is None or field is None or owner_field is None \
            or spec.fields[owner_field].type is not FieldType.USER:
        return  # the entity, the field or the owner is gone from the app: nobody to remind
    table = runtime.tables[entry["entity"]]
    title_field = spec.title()
    row = (await conn.execute(select(table).where(table.c.id == entry["record_id"]))
           ).mappings().first()
    if row is None or row[owner_field] is None:
        return
    option = next((o for o in field.options or [] if o.value == entry["value"]), None)
    stage = (option.label if option is not None and option.label else entry["value"])
    guidance = option.guidance if option is not None else None
    title = row[title_field] if title_field and row.get(title_field) else f"#{row['id']}"
    # rendered in each recipient's own language when read (the app's for those who chose
    # none): the time limit is said in both
    limit = {locale: describe_duration(Duration(0, entry["due_at"] - entry["entered_at"]),
                                       locale) for locale in LOCALES}
    await notify(conn, workspace_id=runtime.workspace_id, user_ids=[row[owner_field]],
                 title=message("stage_overdue", entity=spec.label, title=str(title),
                               stage=stage, limit=limit),
                 body=guidance, now=as_of, locale=runtime.doc.app.default_locale,
                 app_id=runtime.app_id, entity=entry["entity"], record_id=entry["record_id"])
