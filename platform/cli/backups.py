"""``loom backup`` and ``loom restore``."""

from __future__ import annotations

from pathlib import Path

import typer

from loom.platform.backup import back_up, restore
from loom.platform.cli.common import cli, command, ensure_ready
from loom.platform.settings import Settings


@cli.command("backup")
def backup_command(
        file: Path = typer.Argument(..., help="The archive to write (e.g. loom-2026-12-07.tar.gz)"),
        workspace: str = typer.Option(None, help="Only this workspace (default: everything)"),
) -> None:
    """Back up the database (or one workspace) and its uploaded files into FILE; safe while
    the server runs."""
    _backup(Settings(), file, workspace)


@command
async def _backup(settings: Settings, file: Path, workspace: str | None) -> None:
    database = settings.open_database()
    try:
        await ensure_ready(database)
    finally:
        await database.dispose()
    outcome = await back_up(settings, file.resolve(), workspace)
    manifest = outcome.manifest
    records = sum(n for name, n in manifest.counts.items() if name != "files")
    typer.echo(f"backup written to {outcome.archive} ({outcome.archive.stat().st_size} "
               f"bytes): {manifest.database}, {manifest.workspace or 'all workspaces'}, "
               f"schema revision {manifest.revision}, {records} rows in "
               f"{len(manifest.counts) - 1} tables, {manifest.counts['files']} files")
    for name in manifest.missing_files:
        typer.echo(f"warning: {name} is named by a record but was not on disk", err=True)


@cli.command("restore")
def restore_command(
        file: Path = typer.Argument(..., help="An archive written by loom backup"),
) -> None:
    """Restore an archive of loom backup into an empty database (LOOM_DATABASE_URL) and
    LOOM_DATA_DIR."""
    _restore(Settings(), file)


@command
async def _restore(settings: Settings, file: Path) -> None:
    outcome = await restore(settings, file)
    manifest = outcome.manifest
    typer.echo(f"restored {file} (made {manifest.created_at} by Loom "
               f"{manifest.loom_version}): {manifest.workspace or 'all workspaces'}, "
               f"{manifest.counts.get('files', 0)} files")
