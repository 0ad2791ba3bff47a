"""An app's template layers as its builders see them (the template and the app's own changes
on top), and the upgrade to a newer template: a three-way merge that lands in the draft."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.metadata_checks import check_metadata
from loom.metamodel.diff import diff_documents
from loom.metamodel.errors import Conflict, LoomError, NotFound
from loom.metamodel.i18n import message, register_messages
from loom.metamodel.merge import SIDES, Side, merge_documents
from loom.platform.apps.overlays import base_of, hold_pending, normalized
from loom.platform.apps.service import AppService
from loom.platform.apps.templates import load_template
from loom.platform.security.actors import Actor

register_messages({
    "no_template_base": {"en": "The app '{slug}' was not created from a template",
                         "zh-CN": "应用“{slug}”不是从模板创建的"},
    "upgrade_over_draft": {
        "en": "The app has an unpublished draft (revision {revision}); publish or discard it "
        "before upgrading its template",
        "zh-CN": "应用有未发布的草稿（修订号 {revision}），升级模板前请先发布或放弃草稿",
    },
    "upgrade_conflicts": {
        "en": "{count} change(s) of the template collide with this app's own changes; choose "
        "'app' or 'template' for each path in resolutions",
        "zh-CN": "模板的 {count} 处修改与本应用自己的修改冲突；请在 resolutions 中为每个路径选择 "
        "'app' 或 'template'",
    },
    "upgrade_bad_resolution": {
        "en": "'{path}': a resolution is 'app' or 'template', not '{value}'",
        "zh-CN": "“{path}”：解决方式只能是 'app' 或 'template'，而不是“{value}”",
    },
    "upgrade_note": {"en": "template {template} upgraded {old} → {new}",
                     "zh-CN": "模板 {template} 从 {old} 升级到 {new}"},
})



def _check_resolutions(resolutions: dict[str, Any]) -> dict[str, Side]:
    for path, value in resolutions.items():
        if value not in SIDES:
            raise LoomError(message("upgrade_bad_resolution", path=path, value=value))
    return resolutions


async def overlay(service: AppService, conn: AsyncConnection, actor: Actor,
                  slug: str, locale: str) -> dict[str, Any]:
    """The app's layers: its template (installed and available versions) and its own
    changes on top, as a readable diff."""
    row = await service.builder_row(conn, actor, slug)
    base = await base_of(conn, row["id"])
    if base is None:
        raise NotFound(message("no_template_base", slug=slug))
    current, _ = await service.document_at(conn, actor, slug, None)
    try:
        available = load_template(base["template"])["app"].get("template_version")
    except NotFound:
        available = None  # the template is no longer shipped; the base stays as it was
    return {"template": base["template"], "template_version": base["template_version"],
            "available_version": available, "installed_at": base["installed_at"],
            "pending_version": base["pending_version"],
            "changes": [c.render(locale) for c in diff_documents(base["document"], current)]}


async def upgrade(service: AppService, conn: AsyncConnection, actor: Actor, slug: str, *,
                  resolutions: dict[str, Any] | None = None, dry_run: bool = False,
                  locale: str = "zh-CN") -> dict[str, Any]:
    """Merge the template as shipped now into the app; the result becomes the draft."""
    row = await service.builder_row(conn, actor, slug, lock=True)
    base = await base_of(conn, row["id"])
    if base is None:
        raise NotFound(message("no_template_base", slug=slug))
    if row["draft"] is not None:
        raise Conflict(message("upgrade_over_draft", revision=row["draft_revision"]))
    chosen = _check_resolutions(resolutions or {})
    template = normalized(load_template(base["template"]))
    current, _ = await service.document_at(conn, actor, slug, None)
    result = merge_documents(base["document"], current, template, chosen)
    new_version = template["app"].get("template_version")
    answer: dict[str, Any] = {
        "template": base["template"], "from_version": base["template_version"],
        "to_version": new_version, "up_to_date": template == base["document"],
        "conflicts": [c.as_json() for c in result.conflicts],
        "changes": [c.render(locale) for c in diff_documents(current, result.document)],
        "problems": _problems(result.document, locale), "dry_run": dry_run}
    if result.unresolved and not dry_run:
        raise Conflict(message("upgrade_conflicts", count=len(result.unresolved)),
                       extra={"conflicts": answer["conflicts"]})
    if dry_run or answer["up_to_date"]:
        return answer
    note = message("upgrade_note", template=base["template"], old=base["template_version"],
                   new=new_version).render(locale)
    revision = (await service.save_draft(conn, actor, slug, result.document,
                                         action="upgrade_prepared", note=note)).revision
    await hold_pending(conn, row["id"], template, new_version)
    return {**answer, "draft_revision": revision}


def _problems(document: dict[str, Any], locale: str) -> list[dict[str, Any]]:
    """What a publish of the merged document would refuse (a merge of two valid documents
    can still be invalid, e.g. a rule kept by the app naming a field the template removed)."""
    return [p.render(locale) for p in check_metadata(document).problems]
