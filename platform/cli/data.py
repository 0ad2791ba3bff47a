"""``loom import SLUG ENTITY FILE``: records from a CSV or XLSX file, through the same
write pipeline and per-row report as ``POST …/records/{entity}/import``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from loom.metamodel.errors import BadRequest
from loom.metamodel.i18n import message, register_messages
from loom.platform.cli.common import cli, command, locale, services_session
from loom.platform.operations import Progress
from loom.platform.security.users import DEFAULT_WORKSPACE
from loom.platform.transfer.import_plan import ImportOptions
from loom.platform.transfer.imports import ImportReport, RecordImport
from loom.platform.transfer.sheets import Kind, Sheet, check_kind

register_messages({
    "cli_import_kind": {"en": "{name}: give a .csv or .xlsx file",
                        "zh-CN": "{name}：请提供 .csv 或 .xlsx 文件"},
})


def _kind(path: Path) -> Kind:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise BadRequest(message("cli_import_kind", name=path.name))
    return "csv" if suffix == ".csv" else "xlsx"


class RowsRead(Progress):
    """Rows read so far, on one line of a terminal."""

    def show(self) -> None:
        if sys.stderr.isatty():
            typer.echo(f"\r… {self.done:,} rows", err=True, nl=False)


@cli.command("import")
@command
async def import_records(
        slug: str, entity: str,
        file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
        dry_run: bool = typer.Option(False, "--dry-run", help="Check every row, keep nothing"),
        key: str = typer.Option(None, "--key", help="Update the records whose FIELD (id or "
                                "a unique field) matches, create the others"),
        all_or_nothing: bool = typer.Option(False, "--all-or-nothing",
                                            help="Import nothing when any row is refused"),
        workspace: str = typer.Option(DEFAULT_WORKSPACE, help="The workspace of the app"),
) -> None:
    """Import records from a CSV or XLSX file (headers: API names or labels; lookups by a
    unique field of the referenced record, e.g. customer.code)."""
    kind = _kind(file)
    check_kind(file, kind)
    options = ImportOptions(mode="upsert" if key else "create", key=key, dry_run=dry_run,
                            all_or_nothing=all_or_nothing)
    async with services_session(workspace) as (services, actor):
        async with services.database.read() as conn:
            runtime, actor = await services.apps.enter(conn, actor, slug)
        sheet = Sheet(file, kind)
        try:
            report = await RecordImport(services, runtime, actor, entity, options).run(
                sheet, progress=RowsRead())
        finally:
            sheet.close()
    _print(report)
    if report.refused:
        raise typer.Exit(1)


def _print(report: ImportReport) -> None:
    where = locale()
    if sys.stderr.isatty():
        typer.echo("", err=True)
    rendered = report.render(where)
    verb = "would import" if report.options.dry_run else "imported"
    if report.rolled_back:
        verb = "rolled back, nothing imported of"
    typer.echo(f"{verb} {rendered['rows']:,} rows: {rendered['created']:,} created, "
               f"{rendered['updated']:,} updated, {rendered['refused']:,} refused")
    for error in rendered["errors"]:
        column = f"{error['column']}: " if error.get("column") else (
            f"{error['field']}: " if error.get("field") else "")
        typer.echo(f"  row {error['row']}: {column}{error['message']}", err=True)
