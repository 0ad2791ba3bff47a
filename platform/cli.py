"""The ``loom`` command line: serve, database upgrades, apps, users."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import typer

from loom.engines.checks import check_app
from loom.metamodel.errors import LoomError, MetadataInvalid, NotFound
from loom.metamodel.i18n import message, pick_locale
from loom.metamodel.validation import parse_document
from loom.platform.apps.folder import read_folder, write_folder
from loom.platform.apps.runtime import RuntimeCache
from loom.platform.apps.service import AppService
from loom.platform.apps.templates import load_template
from loom.platform.bootstrap import bootstrap
from loom.platform.clock import Clock, FixedClock
from loom.platform.security.actors import Actor, system_actor
from loom.platform.security.users import DEFAULT_WORKSPACE, NewUser, create_user, ensure_workspace
from loom.platform.settings import Settings
from loom.platform.storage.database import Database, create_engine
from loom.platform.storage.migrate import current_revision, head_revision, upgrade

cli = typer.Typer(help="Loom: metadata-driven business apps.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
db_cli = typer.Typer(help="The platform database.", no_args_is_help=True)
app_cli = typer.Typer(help="Apps: create, export, import.", no_args_is_help=True)
user_cli = typer.Typer(help="Users.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(app_cli, name="app")
cli.add_typer(user_cli, name="user")

T = TypeVar("T")


def _locale() -> str:
    return pick_locale(os.environ.get("LOOM_LOCALE") or os.environ.get("LANG", "en")
                       .split(".")[0].replace("_", "-"), default="en")


def _fail(error: LoomError) -> None:
    locale = _locale()
    typer.echo(f"error: {error.render_detail(locale)}", err=True)
    for problem in error.problems:
        rendered = problem.render(locale)
        where = f"{rendered['field']}: " if rendered.get("field") else ""
        prefix = f"[{rendered['index']}] " if "index" in rendered else ""
        typer.echo(f"  - {prefix}{where}{rendered['message']}", err=True)
    raise typer.Exit(1)


def command(function: Callable[..., Awaitable[T]]) -> Callable[..., T | None]:
    """Run an async command; a platform error becomes a message and exit code 1."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> T | None:
        try:
            return asyncio.run(function(*args, **kwargs))
        except LoomError as error:
            _fail(error)
        except OSError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(1) from None
        return None

    return run


def _database(settings: Settings) -> Database:
    return Database(create_engine(settings.resolved_database_url()))


async def _ready(database: Database) -> None:
    if await current_revision(database) != head_revision():
        raise LoomError("The database is not up to date; run: loom db upgrade")


async def _cli_actor(database: Database, workspace: str, clock: Clock) -> Actor:
    async with database.write() as conn:
        workspace_id = await ensure_workspace(conn, workspace, clock)
    return system_actor(workspace_id, "cli")


def _apps(database: Database, settings: Settings, clock: Clock) -> AppService:
    return AppService(RuntimeCache(), clock, postgres=database.is_postgres,
                      ddl_lock_timeout_ms=settings.ddl_lock_timeout_ms)


# --- serve / db -------------------------------------------------------------------------------

@cli.command()
def serve(host: str = typer.Option(None, help="Default: LOOM_HOST or 127.0.0.1"),
          port: int = typer.Option(None, help="Default: LOOM_PORT or 8000")) -> None:
    """Run the web server (API and UI)."""
    import uvicorn

    from loom.platform.api.app import create_app
    from loom.platform.logging_setup import configure_logging

    settings = Settings()
    _prepare_to_serve(settings)
    configure_logging(settings.log_json)
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port,
                log_config=None)


@command
async def _prepare_to_serve(settings: Settings) -> None:
    database = _database(settings)
    try:
        await _ready(database)
        result = await bootstrap(database, settings, Clock())
    finally:
        await database.dispose()
    if result.generated_password:
        typer.echo(f"First administrator: {result.admin_email} / password: "
                   f"{result.generated_password}  (shown once; change it after signing in)")


@db_cli.command("upgrade")
@command
async def db_upgrade() -> None:
    """Create or update the platform tables (run after every upgrade of Loom)."""
    settings = Settings()
    database = _database(settings)
    try:
        await upgrade(database)
        result = await bootstrap(database, settings, Clock())
    finally:
        await database.dispose()
    typer.echo(f"database is at revision {head_revision()}")
    if result.generated_password:
        typer.echo(f"First administrator: {result.admin_email} / password: "
                   f"{result.generated_password}  (shown once; change it after signing in)")


@cli.command()
def worker(once: bool = typer.Option(False, help="Do what is due, then exit"),
           as_of: str = typer.Option(None, help="Act as if it were this moment (ISO 8601; "
                                                "without an offset it is UTC); implies --once"),
           poll: float = typer.Option(2.0, help="Seconds between rounds when idle")) -> None:
    """Deliver email/webhooks and run whatever else is due (timers, scheduled rules)."""
    from loom.platform.logging_setup import configure_logging

    settings = Settings()
    configure_logging(settings.log_json)
    moment = _parse_moment(as_of) if as_of else None
    _run_worker(settings, moment, once or moment is not None, poll)


def _parse_moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        typer.echo(f"error: --as-of must be an ISO 8601 date or datetime, not {text!r}",
                   err=True)
        raise typer.Exit(2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@command
async def _run_worker(settings: Settings, moment: datetime | None, once: bool,
                      poll: float) -> None:
    from loom.platform.services import build_services
    from loom.platform.worker import Worker

    clock = FixedClock(moment) if moment else Clock()
    services = build_services(settings, clock)
    try:
        await _ready(services.database)
        runner = Worker(services)
        if once:
            report = await runner.run_once(moment)
            typer.echo(json.dumps({"as_of": (moment or clock.now()).isoformat(),
                                   "done": report.done}))
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_name in ("SIGINT", "SIGTERM"):
            loop.add_signal_handler(getattr(signal, signal_name), stop.set)
        await runner.run(stop, poll)
    finally:
        await services.database.dispose()


# --- apps -------------------------------------------------------------------------------------

def _document_from(source: Path | None, template: str | None) -> dict[str, Any]:
    if source is not None and template:
        raise LoomError("Give either a metadata file/folder or --template, not both")
    if template:
        return load_template(template)
    if source is None:
        raise LoomError("Give a metadata file or folder, or --template NAME")
    if source.is_dir():
        return read_folder(source)
    try:
        return json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise LoomError(f"{source} is not valid JSON: {exc.msg} (line {exc.lineno}, "
                        f"column {exc.colno})") from None


def _print_publish(slug: str, result: Any) -> None:
    typer.echo(f"{slug}: published version {result.version}")
    for change in result.plan.changes:
        typer.echo(f"  + {change}")
    for kept in result.plan.kept:
        typer.echo(f"  = {kept}")


@app_cli.command("create")
@command
async def app_create(slug: str,
                     source: Path = typer.Argument(None, help="app.json-style file or folder"),
                     template: str = typer.Option(None, help="Starter template, e.g. crm"),
                     demo_data: bool = typer.Option(False, help="Add the template's demo data"),
                     workspace: str = typer.Option(DEFAULT_WORKSPACE)) -> None:
    """Create an app from a metadata file/folder or a starter template."""
    document = _document_from(source, template)
    if demo_data:
        raise LoomError("This template has no demo data recipe")
    settings, clock = Settings(), Clock()
    database = _database(settings)
    try:
        await _ready(database)
        actor = await _cli_actor(database, workspace, clock)
        async with database.write() as conn:
            result = await _apps(database, settings, clock).create(conn, actor, slug, document)
    finally:
        await database.dispose()
    _print_publish(slug, result)


@app_cli.command("check")
def app_check(source: Path = typer.Argument(..., help="app.json-style file or folder")) -> None:
    """Check metadata without a database: the schema, references, formulas, conditions,
    rules and their cycles — everything a publish would refuse."""
    try:
        document = parse_document(_document_from(source, None))
        problems = check_app(document)
        if problems:
            raise MetadataInvalid(message("metadata_invalid"), problems)
    except LoomError as error:
        _fail(error)
    except OSError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{source}: {len(document.entities)} entities, {len(document.rules)} rules — "
               "no problems")


@app_cli.command("export")
@command
async def app_export(slug: str, folder: Path,
                     workspace: str = typer.Option(DEFAULT_WORKSPACE)) -> None:
    """Write the app's published metadata to FOLDER, one file per item."""
    settings, clock = Settings(), Clock()
    database = _database(settings)
    try:
        await _ready(database)
        actor = await _cli_actor(database, workspace, clock)
        async with database.read() as conn:
            runtime = await _apps(database, settings, clock).runtime(conn, actor, slug)
    finally:
        await database.dispose()
    files = write_folder(runtime.doc.to_json(), folder)
    typer.echo(f"{slug} version {runtime.version}: wrote {len(files)} files to {folder}")


@app_cli.command("import")
@command
async def app_import(folder: Path, as_: str = typer.Option(None, "--as", help="App slug"),
                     workspace: str = typer.Option(DEFAULT_WORKSPACE)) -> None:
    """Create an app from an exported FOLDER, or publish it as the next version of an
    existing app."""
    document = read_folder(folder)
    slug = as_ or folder.resolve().name
    settings, clock = Settings(), Clock()
    database = _database(settings)
    service = _apps(database, settings, clock)
    try:
        await _ready(database)
        actor = await _cli_actor(database, workspace, clock)
        async with database.write() as conn:
            try:
                await service.describe(conn, actor, slug)
            except NotFound:
                result = await service.create(conn, actor, slug, document, note="imported")
            else:
                await service.save_draft(conn, actor, slug, document)
                result = await service.publish(conn, actor, slug, note=f"imported from {folder}")
    finally:
        await database.dispose()
    _print_publish(slug, result)


# --- users ------------------------------------------------------------------------------------

@user_cli.command("create")
@command
async def user_create(email: str, name: str = typer.Option(..., help="Display name"),
                      password: str = typer.Option(None, help="Default: generated"),
                      admin: bool = typer.Option(False, help="Administrator"),
                      manager: str = typer.Option(None, help="Manager's email"),
                      department: str = typer.Option(None, help="Department name"),
                      workspace: str = typer.Option(DEFAULT_WORKSPACE)) -> None:
    """Create a user (prints a generated password when none is given)."""
    from loom.platform.security.passwords import generate_password

    generated = None if password else generate_password()
    settings, clock = Settings(), Clock()
    database = _database(settings)
    try:
        await _ready(database)
        async with database.write() as conn:
            workspace_id = await ensure_workspace(conn, workspace, clock)
            user = await create_user(conn, workspace_id, NewUser(
                email=email, name=name, password=password or generated, is_admin=admin,
                manager=manager, department=department), clock)
    finally:
        await database.dispose()
    typer.echo(f"created user {user['email']} (id {user['id']})")
    if generated:
        typer.echo(f"password: {generated}  (shown once)")


def main() -> None:
    cli(prog_name="loom")


if __name__ == "__main__":
    main()
