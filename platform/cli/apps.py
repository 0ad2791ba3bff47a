"""``loom app …``: create or clone, check, export, import, publish, versions, diff, rollback,
template layers and upgrades, the metadata audit trail."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from loom.engines.metadata_checks import checked_document
from loom.metamodel.diff import Change, diff_documents
from loom.metamodel.errors import LoomError
from loom.metamodel.validation import parse_document
from loom.platform.apps import history, template_upgrades
from loom.platform.apps.audit import audit_entries
from loom.platform.apps.cloning import clone_template
from loom.platform.apps.folder import read_folder, read_zip, write_folder, write_zip
from loom.platform.apps.templates import available_templates, load_template
from loom.platform.cli import demo
from loom.platform.cli.common import app_cli, command, fail, locale, services_session, session
from loom.platform.demo import prepare_demo, write_demo
from loom.platform.security.users import DEFAULT_WORKSPACE

WORKSPACE = typer.Option(DEFAULT_WORKSPACE, help="Workspace")
MAX_ZIP_BYTES = 200 * 1024 * 1024


def _read_source(source: Path) -> dict[str, Any]:
    """A document set from a folder, a zip archive or one JSON file."""
    if source.is_dir():
        return read_folder(source)
    if source.suffix.lower() == ".zip":
        return read_zip(source.read_bytes(), max_bytes=MAX_ZIP_BYTES)
    try:
        return json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise LoomError(f"{source} is not valid JSON: {exc.msg} (line {exc.lineno}, "
                        f"column {exc.colno})") from None


def _version_or_draft(text: str | None) -> int | str | None:
    if text is None or text == "draft":
        return text
    if not text.isdigit() or int(text) < 1:
        raise LoomError(f"A version is a number or 'draft', not {text!r}")
    return int(text)


def _print_changes(changes: list[Change] | list[dict[str, Any]]) -> None:
    if not changes:
        typer.echo("  (no changes)")
    for change in changes:
        rendered = change.render(locale()) if isinstance(change, Change) else change
        mark = {"added": "+", "removed": "-"}.get(rendered["kind"], "~")
        typer.echo(f"  {mark} {rendered['section']}.{rendered['item']}: {rendered['summary']}")


def _print_publish(slug: str, result: Any) -> None:
    typer.echo(f"{slug}: published version {result.version}")
    for change in result.plan.changes:
        typer.echo(f"  + {change}")
    for kept in result.plan.kept:
        typer.echo(f"  = {kept}")


# --- create / check ---------------------------------------------------------------------

@app_cli.command("templates")
def app_templates() -> None:
    """The starter templates an app can be cloned from."""
    for name in available_templates():
        info = load_template(name)["app"]
        label = info.get("label")
        shown = label.get(locale(), next(iter(label.values()))) if isinstance(label, dict) \
            else label
        typer.echo(f"{name}\t{info.get('template_version') or '-'}\t{shown}")


@app_cli.command("create")
@command
async def app_create(slug: str,
                     source: Path = typer.Argument(None, help="File, folder or zip"),
                     template: str = typer.Option(None, help="Clone a starter template, "
                                                  "e.g. crm"),
                     demo_data: bool = typer.Option(False, help="Add the template's demo data"),
                     seed: int = demo.SEED, demo_size: str = demo.SIZE,
                     as_of: str = demo.AS_OF,
                     workspace: str = WORKSPACE) -> None:
    """Create an app from metadata, or as an independent clone of a starter template."""
    if source is not None and template:
        raise LoomError("Give either a metadata file/folder or --template, not both")
    if source is None and not template:
        raise LoomError("Give a metadata file or folder, or --template NAME")
    if demo_data and not template:
        raise LoomError("Demo data comes with a template's recipe: use --template")
    if template:
        async with services_session(workspace) as (services, actor):
            async with services.database.write() as conn:
                result = await clone_template(services.apps, services.pipeline, conn, actor,
                                               slug, template)
                # checked with the clone: a bad recipe leaves no app
                prepared = await prepare_demo(services, conn, actor, slug, seed=seed,
                                              size=demo_size,
                                              as_of=demo.parse_as_of(as_of)) \
                    if demo_data else None
            _print_publish(slug, result)
            if prepared is not None:
                demo.print_result(await write_demo(services, actor, prepared,
                                                   demo.TerminalProgress()))
        return
    document = _read_source(source)
    async with session(workspace) as s, s.database.write() as conn:
        result = await s.apps.create(conn, s.actor, slug, document)
    _print_publish(slug, result)


@app_cli.command("check")
def app_check(source: Path = typer.Argument(..., help="File, folder or zip")) -> None:
    """Check metadata without a database: the schema, references, formulas, conditions,
    rules and flows — everything a publish would refuse."""
    try:
        document = checked_document(_read_source(source))
    except LoomError as error:
        fail(error)
    except OSError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{source}: {len(document.entities)} entities, {len(document.rules)} rules, "
               f"{len(document.flows)} flows — no problems")


# --- export / import --------------------------------------------------------------------

@app_cli.command("export")
@command
async def app_export(slug: str,
                     target: Path = typer.Argument(..., help="A folder, or a file ending .zip"),
                     version: str = typer.Option(None, help="A version or 'draft' "
                                                 "(default: the published one)"),
                     workspace: str = WORKSPACE) -> None:
    """Write the app's metadata, one file per item, to a folder or a zip."""
    async with session(workspace) as s, s.database.read() as conn:
        document, label = await s.apps.document_at(conn, s.actor, slug,
                                                   _version_or_draft(version))
    if target.suffix.lower() == ".zip":
        target.write_bytes(write_zip(document))
        typer.echo(f"{slug} version {label}: wrote {target}")
    else:
        files = write_folder(document, target)
        typer.echo(f"{slug} version {label}: wrote {len(files)} files to {target}")


@app_cli.command("import")
@command
async def app_import(source: Path = typer.Argument(..., help="An exported folder or zip"),
                     as_: str = typer.Option(None, "--as", help="App slug (default: the "
                                             "folder's name)"),
                     yes: bool = typer.Option(False, "--yes", "-y",
                                              help="Publish without asking"),
                     note: str = typer.Option(None, "--message", help="Version message"),
                     workspace: str = WORKSPACE) -> None:
    """Create an app from an export, or — into an existing app — show the diff, then
    publish it as the next version once confirmed."""
    document = _read_source(source)
    slug = as_ or source.resolve().name.removesuffix(".zip")
    async with session(workspace) as s:
        async with s.database.read() as conn:
            exists = await s.apps.exists(conn, s.actor, slug)
            if exists:
                current, version = await s.apps.document_at(conn, s.actor, slug, None)
        if not exists:
            async with s.database.write() as conn:
                result = await s.apps.create(conn, s.actor, slug, document, note=note,
                                             action="imported")
            _print_publish(slug, result)
            return
        changes = diff_documents(current, parse_document(document).to_json())
        typer.echo(f"{slug}: importing {source} over version {version}:")
        _print_changes(changes)
        if not changes:
            return
        if not yes:
            if not sys.stdin.isatty():
                typer.echo("nothing changed; run again with --yes to publish this")
                raise typer.Exit(3)
            if not typer.confirm("Publish these changes?"):
                typer.echo("nothing changed")
                return
        async with s.database.write() as conn:
            await s.apps.stage_import(conn, s.actor, slug, document, note=note)
            result = await s.apps.publish(conn, s.actor, slug, base_version=version,
                                          note=note or f"imported from {source.name}")
    _print_publish(slug, result)


# --- publish / versions / diff / rollback -------------------------------------------------

@app_cli.command("publish")
@command
async def app_publish(slug: str, note: str = typer.Option(None, "--message",
                                                          help="Version message"),
                      dry_run: bool = typer.Option(False, help="Check and count the impact "
                                                   "only"),
                      workspace: str = WORKSPACE) -> None:
    """Publish the app's draft (e.g. a template upgrade) as a new version."""
    async with session(workspace) as s, s.database.write() as conn:
        result = await s.apps.publish(conn, s.actor, slug, note=note, dry_run=dry_run,
                                      locale=locale())
    if dry_run:
        typer.echo(json.dumps({**result.as_json(locale()), "dry_run": True},
                              ensure_ascii=False, indent=2, default=str))
    else:
        _print_publish(slug, result)


@app_cli.command("versions")
@command
async def app_versions(slug: str, workspace: str = WORKSPACE) -> None:
    """The published versions, newest first."""
    async with session(workspace) as s, s.database.read() as conn:
        items = await history.versions(s.apps, conn, s.actor, slug)
    for item in items:
        mark = "*" if item["current"] else " "
        author = item["author_email"] or "system"
        typer.echo(f"{mark} {item['version']:>4}  {item['created_at']:%Y-%m-%d %H:%M}  "
                   f"{author}  {item['message'] or ''}")


@app_cli.command("diff")
@command
async def app_diff(slug: str,
                   old: str = typer.Option(None, "--from", help="A version or 'draft' "
                                           "(default: the published one)"),
                   new: str = typer.Option(None, "--to", help="A version or 'draft' (default: "
                                           "the draft, if any)"),
                   workspace: str = WORKSPACE) -> None:
    """What changed between two versions, item by item."""
    async with session(workspace) as s, s.database.read() as conn:
        result = await history.diff(s.apps, conn, s.actor, slug, _version_or_draft(old),
                                    _version_or_draft(new))
    typer.echo(f"{slug}: {result['from']} → {result['to']}")
    _print_changes(result["changes"])


@app_cli.command("rollback")
@command
async def app_rollback(slug: str, version: int,
                       discard_draft: bool = typer.Option(False, help="Throw away an "
                                                          "unpublished draft to do it"),
                       workspace: str = WORKSPACE) -> None:
    """Publish an earlier version again as a new version (newer fields are hidden, their
    data kept)."""
    async with session(workspace) as s, s.database.write() as conn:
        result = await history.rollback(s.apps, conn, s.actor, slug, version,
                                        discard_draft=discard_draft, locale=locale())
    _print_publish(slug, result)


# --- template layers --------------------------------------------------------------------

@app_cli.command("overlay")
@command
async def app_overlay(slug: str, workspace: str = WORKSPACE) -> None:
    """The template the app was made from, and the app's own changes on top of it."""
    async with session(workspace) as s, s.database.read() as conn:
        layers = await template_upgrades.overlay(s.apps, conn, s.actor, slug, locale())
    typer.echo(f"{slug}: template {layers['template']} {layers['template_version']} "
               f"(available: {layers['available_version']})")
    _print_changes(layers["changes"])


@app_cli.command("upgrade")
@command
async def app_upgrade(slug: str,
                      take: list[str] = typer.Option(None, help="Resolve a conflict: "
                                                     "PATH=app or PATH=template"),
                      dry_run: bool = typer.Option(False, help="Show the merge only"),
                      workspace: str = WORKSPACE) -> None:
    """Merge the template's newest version into the app's draft, keeping the app's own
    changes; then review it (loom app diff) and publish it (loom app publish)."""
    resolutions = {}
    for item in take or []:
        path, _, side = item.rpartition("=")
        if not path:
            raise LoomError(f"--take wants PATH=app or PATH=template, not {item!r}")
        resolutions[path] = side
    async with session(workspace) as s, s.database.write() as conn:
        result = await template_upgrades.upgrade(s.apps, conn, s.actor, slug,
                                                 resolutions=resolutions, dry_run=dry_run,
                                                 locale=locale())
    typer.echo(f"{slug}: template {result['template']} {result['from_version']} → "
               f"{result['to_version']}" + (" (up to date)" if result["up_to_date"] else ""))
    _print_changes(result["changes"])
    for conflict in result["conflicts"]:
        typer.echo(f"  ! {conflict['path']}: app {conflict['app']!r}, template "
                   f"{conflict['template']!r} → {conflict['resolution'] or 'unresolved'}")
    for problem in result["problems"]:
        typer.echo(f"  ? {problem['field']}: {problem['message']}")
    if "draft_revision" in result:
        typer.echo("the merge is the draft now: review it with `loom app diff`, then "
                   "`loom app publish`")


@app_cli.command("audit")
@command
async def app_audit(slug: str, limit: int = typer.Option(20, min=1, max=200),
                    workspace: str = WORKSPACE) -> None:
    """Who changed the app's metadata, when and what."""
    async with session(workspace) as s, s.database.read() as conn:
        page = await audit_entries(conn, s.actor, slug, locale=locale(), limit=limit)
    for entry in page["items"]:
        who = entry["actor"]["email"] if entry["actor"] else "system"
        version = f" v{entry['version']}" if entry["version"] else ""
        typer.echo(f"{entry['at']:%Y-%m-%d %H:%M}  {who} ({entry['source']})  "
                   f"{entry['action']}{version}  {entry['message'] or ''}")
        _print_changes(entry["changes"])
