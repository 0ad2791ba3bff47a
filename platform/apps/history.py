"""An app's published past: the versions with their authors, readable diffs between any two
(or a version and the draft), and rollback — an old version published again as a new one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.metamodel.diff import diff_documents
from loom.metamodel.errors import Conflict
from loom.metamodel.i18n import message, register_messages
from loom.metamodel.salvage import as_stored
from loom.platform.apps import overlays
from loom.platform.apps.service import AppService, PublishResult
from loom.platform.security.actors import Actor
from loom.platform.storage.system_tables import apps, metadata_versions, users

register_messages({
    "rollback_over_draft": {
        "en": "The app has an unpublished draft (revision {revision}); publish or discard it "
        "first, or roll back with discard_draft",
        "zh-CN": "应用有未发布的草稿（修订号 {revision}），请先发布或放弃草稿，或在回滚时指定 "
        "discard_draft",
    },
    "rollback_to_current": {"en": "Version {version} is already the published version",
                            "zh-CN": "版本 {version} 已是当前发布的版本"},
    "rolled_back_note": {"en": "rolled back to version {version}",
                         "zh-CN": "回滚到版本 {version}"},
})


async def versions(service: AppService, conn: AsyncConnection, actor: Actor,
                   slug: str) -> list[dict[str, Any]]:
    """Every published version, newest first, with author, time and message."""
    row = await service.builder_row(conn, actor, slug)
    rows = (await conn.execute(
        select(metadata_versions.c.version, metadata_versions.c.message,
               metadata_versions.c.author_id, metadata_versions.c.created_at,
               users.c.email.label("author_email"), users.c.name.label("author_name"))
        .outerjoin(users, users.c.id == metadata_versions.c.author_id)
        .where(metadata_versions.c.app_id == row["id"])
        .order_by(metadata_versions.c.version.desc()))).mappings().all()
    return [{**dict(r), "current": r["version"] == row["current_version"]} for r in rows]


async def diff(service: AppService, conn: AsyncConnection, actor: Actor, slug: str,
               old: int | str | None, new: int | str | None) -> dict[str, Any]:
    """What changed between two versions (or a version and the draft), item by item.
    Without ``new``: the draft when there is one, else the published version."""
    row = await service.builder_row(conn, actor, slug)
    if new is None:
        new = "draft" if row["draft"] is not None else None
    before, old_label = await service.document_at(conn, actor, slug, old)
    after, new_label = await service.document_at(conn, actor, slug, new)
    # as a publish would store them: defaults nobody wrote do not show up as changes
    return {"from": old_label, "to": new_label,
            "changes": diff_documents(as_stored(before), as_stored(after))}


async def rollback(service: AppService, conn: AsyncConnection, actor: Actor, slug: str,
                   version: int, *, discard_draft: bool = False,
                   locale: str = "zh-CN") -> PublishResult:
    """Publish an earlier version again, as a new version. Fields and entities added since
    are hidden, their data kept — publishing them again brings it back."""
    row = await service.builder_row(conn, actor, slug, lock=True)
    if row["draft"] is not None and not discard_draft:
        raise Conflict(message("rollback_over_draft", revision=row["draft_revision"]))
    if version == row["current_version"]:
        raise Conflict(message("rollback_to_current", version=version))
    document = await service.version_document(conn, row["id"], version)
    await conn.execute(update(apps).where(apps.c.id == row["id"]).values(
        draft=document, draft_revision=row["draft_revision"] + 1,
        draft_updated_at=service.clock.now(), draft_updated_by=actor.user_id))
    await overlays.forget_pending(conn, row["id"])
    note = message("rolled_back_note", version=version).render(locale)
    return await service.publish(conn, actor, slug, note=note, locale=locale,
                                 action="rolled_back")
