"""Apps and their metadata lifecycle: create, draft, publish (atomic: metadata version +
table changes in one transaction), versions, diffs between them, rollback. Every change is
written to the metadata audit trail in the transaction that makes it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Select, and_, bindparam, delete, func, insert, inspect, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from loom.engines.metadata_checks import check_metadata
from loom.metamodel.app import AppDocument
from loom.metamodel.diff import Change, diff_documents
from loom.metamodel.errors import (
    Conflict,
    MetadataInvalid,
    NotFound,
    PermissionDenied,
    Problem,
    SchemaChangeRefused,
    ValidationFailed,
)
from loom.metamodel.i18n import message, register_messages
from loom.metamodel.json_patch import apply_json_patch
from loom.metamodel.merge_patch import merge_patch
from loom.metamodel.salvage import as_stored
from loom.platform.apps import overlays
from loom.platform.apps.audit import Action, record_change
from loom.platform.apps.impact import publish_impact
from loom.platform.clock import Clock
from loom.platform.compiled.app import AppRuntime, RuntimeCache, build_runtime
from loom.platform.security.actors import Actor
from loom.platform.security.permissions import actor_in_app, builds_app, member_of_app
from loom.platform.storage.entity_tables import EntityTables, Namespace
from loom.platform.storage.schema_sync import SchemaPlan, sync_schema
from loom.platform.storage.system_tables import (
    apps,
    metadata_versions,
    role_members,
    users,
    workspaces,
)

PatchKind = Literal["merge", "json"]
SLUG = re.compile(r"^[a-z][a-z0-9_]{1,23}$")
LOCK_NOT_AVAILABLE = "55P03"

register_messages({
    "app_not_found": {"en": "There is no app '{slug}'", "zh-CN": "不存在应用“{slug}”"},
    "app_exists": {"en": "An app '{slug}' already exists", "zh-CN": "应用“{slug}”已存在"},
    "app_bad_slug": {
        "en": "'{slug}' is not a valid app slug: 2–24 lowercase letters, digits or _, "
        "starting with a letter",
        "zh-CN": "“{slug}”不是有效的应用标识：2–24 个小写字母、数字或下划线，以字母开头",
    },
    "app_not_published": {"en": "The app '{slug}' has no published version yet",
                          "zh-CN": "应用“{slug}”尚无已发布版本"},
    "no_draft": {"en": "There is no draft to publish", "zh-CN": "没有可发布的草稿"},
    "import_over_draft": {
        "en": "The app has an unpublished draft (revision {revision}); publish or discard it "
        "before importing over it",
        "zh-CN": "应用有未发布的草稿（修订号 {revision}），导入前请先发布或放弃草稿",
    },
    "stale_draft": {
        "en": "The draft changed since you read it (now at revision {current}); reload it",
        "zh-CN": "草稿在您读取后已被修改（当前修订号 {current}），请重新加载",
    },
    "stale_publish": {
        "en": "Version {current} was published since your draft was based on version {base}",
        "zh-CN": "在您的草稿（基于版本 {base}）之后，已发布了版本 {current}",
    },
    "version_not_found": {"en": "The app has no version {version}",
                          "zh-CN": "该应用没有版本 {version}"},
    "builder_only": {"en": "Only an administrator or a builder of this app may do this",
                     "zh-CN": "只有管理员或本应用的搭建者可以执行此操作"},
    "admin_only": {"en": "Only an administrator may do this", "zh-CN": "只有管理员可以执行此操作"},
    "draft_not_object": {"en": "The draft must be a JSON object",
                         "zh-CN": "草稿必须是 JSON 对象"},
    "schema_lock_timeout": {
        "en": "the tables are busy (another transaction holds a lock); try publishing again",
        "zh-CN": "数据表正忙（其他事务持有锁），请稍后重新发布",
    },
})


@dataclass
class PublishResult:
    version: int
    plan: SchemaPlan = field(default_factory=SchemaPlan)
    diff: list[Change] = field(default_factory=list)
    impact: dict[str, Any] | None = None

    def as_json(self, locale: str = "zh-CN") -> dict[str, Any]:
        out = {"version": self.version, "changes": self.plan.changes, "kept": self.plan.kept,
               "diff": [change.render(locale) for change in self.diff]}
        if self.impact is not None:
            out["impact"] = self.impact
        return out


@dataclass
class DraftSaved:
    """A saved draft: its document and revision, and what the save changed."""

    document: dict[str, Any]
    revision: int
    changes: list[Change]

    def problems(self) -> list[Problem]:
        """Every problem a publish of the draft would refuse (but the table changes): the
        same check, run once the save is committed, so it holds no lock."""
        return check_metadata(self.document).problems


def _json_of(document: AppDocument | None) -> dict[str, Any]:
    return document.to_json() if document is not None else {}


# what names an app's published version, without its draft
_NAMING_COLUMNS = (apps.c.id, apps.c.slug, apps.c.workspace_id, apps.c.current_version)


def join_app_entry(query: Select[Any]) -> Select[Any]:
    """What ``AppService.enter`` reads, joined to a statement over ``users`` (the token's,
    so a request reads its caller and the app in one statement): the app named by the
    parameter ``app_slug`` in the user's workspace, and the user's roles in it (a row per
    role). The columns are named ``app_…``."""
    return (query.add_columns(*[column.label(f"app_{column.name}")
                                for column in _NAMING_COLUMNS],
                              workspaces.c.slug.label("app_workspace_slug"),
                              role_members.c.role.label("app_role"))
            .outerjoin(apps, and_(apps.c.workspace_id == users.c.workspace_id,
                                  apps.c.slug == bindparam("app_slug")))
            .outerjoin(workspaces, workspaces.c.id == apps.c.workspace_id)
            .outerjoin(role_members, and_(role_members.c.app_id == apps.c.id,
                                          role_members.c.user_id == users.c.id)))


def require_admin(actor: Actor) -> None:
    """Metadata administration is for administrators (app builders get roles later)."""
    if not actor.is_admin:
        raise PermissionDenied(message("admin_only"))


class AppService:
    """Where apps are created, looked up, drafted and published."""

    def __init__(self, cache: RuntimeCache, clock: Clock, *, postgres: bool,
                 ddl_lock_timeout_ms: int = 5000) -> None:
        self.cache = cache
        self.clock = clock
        self.postgres = postgres
        self.ddl_lock_timeout_ms = ddl_lock_timeout_ms

    # --- lookup -----------------------------------------------------------------------

    async def _row(self, conn: AsyncConnection, actor: Actor, slug: str, *,
                   lock: bool = False) -> Any:
        query = (select(apps, workspaces.c.slug.label("workspace_slug"))
                 .join(workspaces, workspaces.c.id == apps.c.workspace_id)
                 .where(apps.c.workspace_id == actor.workspace_id, apps.c.slug == slug))
        if lock:
            query = query.with_for_update(of=apps)
        row = (await conn.execute(query)).mappings().first()
        if row is None:
            raise NotFound(message("app_not_found", slug=slug))
        return row

    async def builder_row(self, conn: AsyncConnection, actor: Actor, slug: str, *,
                          lock: bool = False) -> Any:
        """The app's row, for someone who may edit its metadata (else 403)."""
        row = await self._row(conn, actor, slug, lock=lock)
        await self._require_builder(conn, actor, row)
        return row

    async def _require_builder(self, conn: AsyncConnection, actor: Actor, row: Any) -> None:
        """Metadata is for workspace administrators and the app's builders (members of a
        role with ``app_builder``); people and apps themselves stay with administrators."""
        if actor.is_admin:
            return
        if row["current_version"] is not None:
            runtime = await self._runtime_for(conn, row, row["current_version"])
            if builds_app(await actor_in_app(conn, actor, runtime), runtime):
                return
        raise PermissionDenied(message("builder_only"))

    async def require_builder(self, conn: AsyncConnection, actor: Actor, slug: str) -> None:
        await self.builder_row(conn, actor, slug)

    async def exists(self, conn: AsyncConnection, actor: Actor, slug: str) -> bool:
        return await conn.scalar(select(apps.c.id).where(
            apps.c.workspace_id == actor.workspace_id, apps.c.slug == slug)) is not None

    async def runtime(self, conn: AsyncConnection, actor: Actor, slug: str) -> AppRuntime:
        """The published version of an app, compiled (cached per version)."""
        runtime, _roles = await self._published(conn, actor, slug, with_roles=False)
        return runtime

    async def enter(self, conn: AsyncConnection, actor: Actor,
                    slug: str) -> tuple[AppRuntime, Actor]:
        """The published app and the actor as a member of it (with their roles there)."""
        runtime, roles = await self._published(conn, actor, slug,
                                               with_roles=actor.user_id is not None)
        return runtime, member_of_app(actor, runtime, roles)

    async def _published(self, conn: AsyncConnection, actor: Actor, slug: str, *,
                         with_roles: bool) -> tuple[AppRuntime, frozenset[str]]:
        # every request comes here, so one statement: only the columns that name the
        # version (a draft document can be hundreds of kilobytes of JSON), and the
        # actor's roles in the app alongside (a row per role)
        query = (select(*_NAMING_COLUMNS, workspaces.c.slug.label("workspace_slug"))
                 .join(workspaces, workspaces.c.id == apps.c.workspace_id)
                 .where(apps.c.workspace_id == actor.workspace_id, apps.c.slug == slug))
        if with_roles:
            query = query.add_columns(role_members.c.role).outerjoin(role_members, and_(
                role_members.c.app_id == apps.c.id, role_members.c.user_id == actor.user_id))
        rows = (await conn.execute(query)).mappings().all()
        return await self._entry(conn, slug, rows, with_roles=with_roles)

    async def entered(self, conn: AsyncConnection, actor: Actor, slug: str,
                      joined_rows: Sequence[Any]) -> tuple[AppRuntime, Actor]:
        """``enter``, from the rows ``join_app_entry`` added to the caller's statement."""
        prefix = len("app_")
        rows = [{key[prefix:]: value for key, value in row.items() if key.startswith("app_")}
                for row in joined_rows if row["app_id"] is not None]
        runtime, roles = await self._entry(conn, slug, rows, with_roles=True)
        return runtime, member_of_app(actor, runtime, roles)

    async def _entry(self, conn: AsyncConnection, slug: str, rows: Sequence[Any], *,
                     with_roles: bool) -> tuple[AppRuntime, frozenset[str]]:
        """The published app and the roles from its naming rows (none: no such app)."""
        if not rows:
            raise NotFound(message("app_not_found", slug=slug))
        row = rows[0]
        if row["current_version"] is None:
            raise NotFound(message("app_not_published", slug=slug))
        roles = frozenset(r["role"] for r in rows if r["role"]) if with_roles else frozenset()
        return await self._runtime_for(conn, row, row["current_version"]), roles

    async def published_runtimes(self, conn: AsyncConnection) -> list[AppRuntime]:
        """The current version of every published app of every workspace (the worker's
        view: timed rules run wherever they are published)."""
        rows = (await conn.execute(
            select(apps, workspaces.c.slug.label("workspace_slug"))
            .join(workspaces, workspaces.c.id == apps.c.workspace_id)
            .where(apps.c.current_version.is_not(None)).order_by(apps.c.id))).mappings().all()
        return [await self._runtime_for(conn, row, row["current_version"]) for row in rows]

    async def runtime_at(self, conn: AsyncConnection, app_id: int,
                         version: int) -> AppRuntime:
        """An app at a given published version (flow instances stay on theirs)."""
        cached = self.cache.get((app_id, version))
        if cached is not None:  # a published version never changes: no need to ask
            return cached
        row = (await conn.execute(
            select(apps, workspaces.c.slug.label("workspace_slug"))
            .join(workspaces, workspaces.c.id == apps.c.workspace_id)
            .where(apps.c.id == app_id))).mappings().first()
        if row is None:
            raise NotFound(message("app_not_found", slug=app_id))
        return await self._runtime_for(conn, row, version)

    async def _runtime_for(self, conn: AsyncConnection, row: Any, version: int) -> AppRuntime:
        cached = self.cache.get((row["id"], version))
        if cached is not None:
            return cached
        document = await self.version_document(conn, row["id"], version)
        runtime = build_runtime(row, row["workspace_slug"], version,
                                AppDocument.model_validate(document), postgres=self.postgres)
        self.cache.put(runtime)
        return runtime

    async def version_document(self, conn: AsyncConnection, app_id: int,
                               version: int) -> dict[str, Any]:
        document = await conn.scalar(select(metadata_versions.c.document).where(
            metadata_versions.c.app_id == app_id, metadata_versions.c.version == version))
        if document is None:
            raise NotFound(message("version_not_found", version=version))
        return document

    async def list(self, conn: AsyncConnection, actor: Actor) -> list[dict[str, Any]]:
        rows = (await conn.execute(select(apps).where(apps.c.workspace_id == actor.workspace_id)
                                   .order_by(apps.c.slug))).mappings().all()
        return [self._describe(row) for row in rows]

    async def describe(self, conn: AsyncConnection, actor: Actor, slug: str) -> dict[str, Any]:
        return self._describe(await self._row(conn, actor, slug))

    @staticmethod
    def _describe(row: Any) -> dict[str, Any]:
        return {"slug": row["slug"], "label": row["label"], "version": row["current_version"],
                "has_draft": row["draft"] is not None, "draft_revision": row["draft_revision"],
                "created_at": row["created_at"]}

    # --- create / delete --------------------------------------------------------------

    async def create(self, conn: AsyncConnection, actor: Actor, slug: str,
                     document: dict[str, Any], note: str | None = None, *,
                     base: dict[str, Any] | None = None,
                     action: Action = "created") -> PublishResult:
        """Create an app and publish ``document`` as its version 1, in one transaction.
        ``base``: the template it is made from, kept as the layer under the app's changes."""
        require_admin(actor)
        if not isinstance(slug, str) or not SLUG.match(slug):
            raise ValidationFailed(message("app_bad_slug", slug=slug),
                                   [Problem("slug", message("app_bad_slug", slug=slug))])
        if await self.exists(conn, actor, slug):
            raise Conflict(message("app_exists", slug=slug))
        label = document.get("app", {}).get("label") if isinstance(document, dict) else None
        app_id = (await conn.execute(insert(apps).values(
            workspace_id=actor.workspace_id, slug=slug, label=label or slug, draft=document,
            draft_revision=1, draft_updated_at=self.clock.now(), draft_updated_by=actor.user_id,
            created_at=self.clock.now(), created_by=actor.user_id).returning(apps.c.id))).scalar()
        result = await self.publish(conn, actor, slug, note=note or action, action=action)
        if base is not None:
            await overlays.install_base(conn, app_id, base, self.clock.now())
        return result

    async def delete(self, conn: AsyncConnection, actor: Actor, slug: str) -> None:
        """Delete an app with all its versions, tables and records."""
        require_admin(actor)
        row = await self._row(conn, actor, slug, lock=True)
        namespace = Namespace.for_app(row["workspace_slug"], slug, postgres=self.postgres)
        versions = (await conn.execute(select(metadata_versions.c.document).where(
            metadata_versions.c.app_id == row["id"]))).scalars().all()
        entities: set[str] = set()
        for document in versions:
            entities.update((document or {}).get("entities", {}))
        await conn.run_sync(_drop_tables, namespace, sorted(entities))
        await self._audit(conn, actor, row, "deleted", version=row["current_version"])
        await conn.execute(delete(apps).where(apps.c.id == row["id"]))

    async def _audit(self, conn: AsyncConnection, actor: Actor, row: Any, action: Action,
                     **details: Any) -> None:
        await record_change(conn, actor, app_id=row["id"], slug=row["slug"], action=action,
                            at=self.clock.now(), **details)

    # --- drafts -------------------------------------------------------------------------

    async def draft(self, conn: AsyncConnection, actor: Actor,
                    slug: str) -> tuple[dict[str, Any], int]:
        """The draft (or, when nobody is editing, the published document) and its revision."""
        return await self._draft_of(conn, await self.builder_row(conn, actor, slug))

    async def _draft_of(self, conn: AsyncConnection, row: Any) -> tuple[dict[str, Any], int]:
        if row["draft"] is not None:
            return row["draft"], row["draft_revision"]
        if row["current_version"] is None:
            return {"app": {"label": row["label"]}}, row["draft_revision"]
        return (await self.version_document(conn, row["id"], row["current_version"]),
                row["draft_revision"])

    async def save_draft(self, conn: AsyncConnection, actor: Actor, slug: str,
                         document: Any, *, patch: PatchKind | None = None,
                         if_revision: int | None = None,
                         action: Action = "draft_saved",
                         note: str | None = None) -> DraftSaved:
        """Replace the draft (``patch`` None) or change it with a JSON Merge Patch
        (``"merge"``) or a JSON Patch (``"json"``). Drafts may be incomplete: the answer
        has ``problems()``: every problem a publish would refuse, by the same check."""
        row = await self.builder_row(conn, actor, slug, lock=True)
        self._require_revision(row, if_revision)
        current, _ = await self._draft_of(conn, row)
        if patch == "merge":
            document = merge_patch(current, document)
        elif patch == "json":
            document = apply_json_patch(current, document)
        if not isinstance(document, dict):
            raise ValidationFailed(message("draft_not_object"))
        revision = row["draft_revision"] + 1
        await conn.execute(update(apps).where(apps.c.id == row["id"]).values(
            draft=document, draft_revision=revision, draft_updated_at=self.clock.now(),
            draft_updated_by=actor.user_id))
        changes = diff_documents(as_stored(current), as_stored(document))
        await self._audit(conn, actor, row, action, draft_revision=revision, note=note,
                          changes=changes)
        return DraftSaved(document, revision, changes)

    @staticmethod
    def _require_revision(row: Any, if_revision: int | None) -> None:
        """A write that says which revision it read (If-Match) is refused over a newer one."""
        if if_revision is not None and if_revision != row["draft_revision"]:
            raise Conflict(message("stale_draft", current=row["draft_revision"]))

    async def stage_import(self, conn: AsyncConnection, actor: Actor, slug: str,
                           document: dict[str, Any],
                           note: str | None = None) -> DraftSaved:
        """An imported document as the draft — never over somebody's unpublished work."""
        row = await self.builder_row(conn, actor, slug, lock=True)
        if row["draft"] is not None:
            raise Conflict(message("import_over_draft", revision=row["draft_revision"]))
        return await self.save_draft(conn, actor, slug, document, action="imported",
                                     note=note)

    async def discard_draft(self, conn: AsyncConnection, actor: Actor, slug: str, *,
                            if_revision: int | None = None) -> int:
        """Throw the draft away (the published version stays as it is)."""
        row = await self.builder_row(conn, actor, slug, lock=True)
        self._require_revision(row, if_revision)
        if row["draft"] is None:
            raise Conflict(message("no_draft"))
        revision = row["draft_revision"] + 1
        await conn.execute(update(apps).where(apps.c.id == row["id"]).values(
            draft=None, draft_revision=revision, draft_updated_at=self.clock.now(),
            draft_updated_by=actor.user_id))
        await overlays.forget_pending(conn, row["id"])
        await self._audit(conn, actor, row, "draft_discarded", draft_revision=revision)
        return revision

    # --- publish ------------------------------------------------------------------------

    async def publish(self, conn: AsyncConnection, actor: Actor, slug: str, *,
                      note: str | None = None, base_version: int | None = None,
                      dry_run: bool = False, locale: str = "zh-CN",
                      action: Action = "published") -> PublishResult:
        """Validate the draft, change the tables, store the new version — all or nothing.

        ``base_version``: the version the publisher's draft started from; if someone else
        published since, the publish is refused (409, with what they changed) instead of
        silently overwriting. A dry run also counts the impact on the stored data.
        """
        row = await self.builder_row(conn, actor, slug, lock=True)
        current = row["current_version"]
        if base_version is not None and current is not None and base_version != current:
            raise await self._stale_publish(conn, row, base_version)
        if row["draft"] is None:
            raise Conflict(message("no_draft"))
        checked = check_metadata(row["draft"])
        if checked.document is None:
            raise MetadataInvalid(message("metadata_invalid"), checked.problems)
        new_doc = checked.document
        old = await self._runtime_for(conn, row, current) if current is not None else None
        old_doc = old.doc if old is not None else None
        namespace = Namespace.for_app(row["workspace_slug"], slug, postgres=self.postgres)
        tables = EntityTables(new_doc, namespace)
        version = (current or 0) + 1
        changes = diff_documents(_json_of(old_doc), new_doc.to_json())
        # a dry run plans and applies the change inside a savepoint it then rolls back,
        # so it reports exactly what a real publish would meet
        savepoint = await conn.begin_nested() if dry_run else None
        impact = None
        try:
            plan = await sync_schema(conn, tables, old_doc, new_doc,
                                     lock_timeout_ms=self.ddl_lock_timeout_ms)
            if dry_run:
                proposed = build_runtime(row, row["workspace_slug"], version, new_doc,
                                         postgres=self.postgres)
                impact = await publish_impact(conn, actor, old, proposed, plan,
                                              self.clock.now(), locale)
        except DBAPIError as exc:
            if _sqlstate(exc) == LOCK_NOT_AVAILABLE:
                raise SchemaChangeRefused(message("schema_lock_timeout")) from None
            raise
        finally:
            if savepoint is not None:
                await savepoint.rollback()
        if dry_run:
            return PublishResult(version, plan, changes, impact)
        await conn.execute(insert(metadata_versions).values(
            app_id=row["id"], version=version, document=new_doc.to_json(), message=note,
            author_id=actor.user_id, created_at=self.clock.now()))
        await conn.execute(update(apps).where(apps.c.id == row["id"]).values(
            current_version=version, label=new_doc.app.label, draft=None,
            draft_revision=row["draft_revision"] + 1))
        await overlays.promote_pending(conn, row["id"], self.clock.now())
        await self._audit(conn, actor, row, action, version=version, note=note,
                          changes=changes)
        return PublishResult(version, plan, changes)

    async def publish_item(self, conn: AsyncConnection, actor: Actor, slug: str,
                           section: str, name: str, item: dict[str, Any] | None,
                           note: str, *, builders_may: bool = False) -> PublishResult:
        """Publish one item changed (or removed, ``item`` None) on top of the published
        version — e.g. a role edited in its own screen (administrators only), a shared view
        (``builders_may``: the app's builders too). A draft in progress gets the same
        change, so the next publish of the draft does not undo it."""
        if not builders_may:
            require_admin(actor)
        row = await self._row(conn, actor, slug, lock=True)
        if builders_may:
            await self._require_builder(conn, actor, row)
        draft = row["draft"]
        published = await self.version_document(conn, row["id"], row["current_version"])
        await conn.execute(update(apps).where(apps.c.id == row["id"]).values(
            draft=_with_item(published, section, name, item)))
        result = await self.publish(conn, actor, slug, note=note)
        if draft is not None:
            await conn.execute(update(apps).where(apps.c.id == row["id"]).values(
                draft=_with_item(draft, section, name, item)))
        return result

    async def _stale_publish(self, conn: AsyncConnection, row: Any, base: int) -> Conflict:
        """The 409 of a publish that lost a race: says what the winner changed."""
        current = row["current_version"]
        try:
            before = await self.version_document(conn, row["id"], base)
        except NotFound:
            before = {}
        after = await self.version_document(conn, row["id"], current)
        changes = diff_documents(before, after)
        return Conflict(message("stale_publish", current=current, base=base), extra={
            "current_version": current,
            "changes": lambda locale: [c.render(locale) for c in changes]})

    # --- versions -----------------------------------------------------------------------

    async def document_at(self, conn: AsyncConnection, actor: Actor, slug: str,
                          which: int | str | None) -> tuple[dict[str, Any], int | str]:
        """A version's document, the draft's (``"draft"``), or (None) the published one:
        the whole document set, roles and rules included, is for the app's builders."""
        row = await self.builder_row(conn, actor, slug)
        if which == "draft":
            return (await self._draft_of(conn, row))[0], "draft"
        if which is None:
            if row["current_version"] is None:
                raise NotFound(message("app_not_published", slug=slug))
            which = row["current_version"]
        return await self.version_document(conn, row["id"], int(which)), int(which)

    async def count(self, conn: AsyncConnection, actor: Actor) -> int:
        return await conn.scalar(select(func.count()).select_from(apps).where(
            apps.c.workspace_id == actor.workspace_id)) or 0


def _with_item(document: dict[str, Any], section: str, name: str,
               item: dict[str, Any] | None) -> dict[str, Any]:
    items = dict(document.get(section) or {})
    if item is None:
        items.pop(name, None)
    else:
        items[name] = item
    return {**document, section: items}


def _sqlstate(exc: DBAPIError) -> str | None:
    original = getattr(exc, "orig", None)
    return getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)


def _drop_tables(conn: Any, namespace: Namespace, entities: list[str]) -> None:
    if conn.dialect.name == "sqlite":
        # tables may reference each other; check foreign keys only at commit, when all
        # of them are gone
        conn.execute(text("PRAGMA defer_foreign_keys = ON"))
    inspector = inspect(conn)
    existing = set(inspector.get_table_names(schema=namespace.schema))
    quote = conn.dialect.identifier_preparer.quote
    for entity in entities:
        table = namespace.table_name(entity)
        if table in existing:
            qualified = f"{quote(namespace.schema)}.{quote(table)}" if namespace.schema \
                else quote(table)
            cascade = " CASCADE" if conn.dialect.name == "postgresql" else ""
            conn.execute(text(f"DROP TABLE {qualified}{cascade}"))
